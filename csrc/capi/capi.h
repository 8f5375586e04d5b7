// The C API of nnfast/include/nnfast/nnfast.h: the function table the capsule nnfast._core._C_API
// carries, and a probe of what a call through it costs. Plain C++: no Python types.
#pragma once
#include <cstdint>

#include "nnfast/nnfast.h"

namespace nnfast {
namespace capi {

// The library's table (built once, immutable).
const nnfast_capi* table();

// Fill the table's entries of each family (capi/layers.cpp, capi/optim.cpp).
void fill_layer_entries(nnfast_capi* t);
void fill_optimizer_entries(nnfast_capi* t);

// Per-call cost, in ns (median of `rounds` rounds of `iters` calls each, the two ways interleaved),
// of the float32 kernel `which` ("dense_forward": 32 x 128 x 10 with bias, linear; "adam": one
// tensor of 1000 parameters, keras convention) called from C++ straight through the kernel table
// (*direct_ns) and through the C API table (*capi_ns). Returns false for an unknown `which`.
bool probe_call_cost(const char* which, int64_t iters, int rounds, double* direct_ns, double* capi_ns);

}  // namespace capi
}  // namespace nnfast
