// The all-finite check of one ISA level.
#pragma once
#include <cstdint>

namespace nnfast {
namespace NNFAST_ISA_NS {

// true when no element of v (n) is NaN or +-Inf.
template <class T>
bool all_finite(const T* v, int64_t n);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
