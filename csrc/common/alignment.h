// Where an element-wise loop over an array starts its 64-byte aligned body: an unaligned 512-bit
// load or store that splits a cache line costs about 12% at cache-resident sizes on Zen 4, and
// NumPy's large arrays start 16 bytes past a page. Shared by the optimizer steps and the memory
// stream probe that measures their limit, so both split their loops alike. Included by per-ISA
// sources: internal linkage, so no level's instantiation serves another.
#pragma once
#include <algorithm>
#include <cstdint>

namespace nnfast {
namespace {

// The first index in [first, last] from which p[i] sits on a 64-byte boundary (first when p's
// elements cannot reach one).
template <class T>
int64_t aligned_from(const T* p, int64_t first, int64_t last) {
    constexpr uintptr_t kBytes = 64;
    const uintptr_t addr = reinterpret_cast<uintptr_t>(p + first);
    if (addr % sizeof(T) != 0) return first;
    const int64_t head = int64_t((kBytes - addr % kBytes) % kBytes / sizeof(T));
    return std::min(last, first + head);
}

}  // namespace
}  // namespace nnfast
