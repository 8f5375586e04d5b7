// The C API of nnfast/include/nnfast/nnfast.h: the function table the capsule nnfast._core._C_API
// carries, and a probe of what a call through it costs. Plain C++: no Python types.
#pragma once
#include <cstdint>
#include <vector>

#include "nnfast/nnfast.h"

namespace nnfast {
namespace capi {

// The library's table (built once, immutable).
const nnfast_capi* table();

// Fill the table's entries of each family (capi/layers.cpp, capi/optim.cpp).
void fill_layer_entries(nnfast_capi* t);
void fill_optimizer_entries(nnfast_capi* t);

// Per-call cost, in ns, of the float32 kernel `which` ("dense_forward": 32 x 128 x 10 with bias,
// linear; "adam": one tensor of 1000 parameters, keras convention) over `rounds` rounds of `iters`
// calls each way, the ways alternated within each round in an order rotated from round to round
// (so a round's three figures met the same load, and none is always first): straight through the kernel table in the kernels' floating-point mode (*direct), the same
// with the mode set and restored around each call (*moded), and through the C API table
// (*through); one value per round appended to each. Returns false for an unknown `which`.
bool probe_call_cost(const char* which, int64_t iters, int rounds, std::vector<double>* direct,
                     std::vector<double>* moded, std::vector<double>* through);

}  // namespace capi
}  // namespace nnfast
