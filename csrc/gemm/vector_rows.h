// Whole-vector moves of short rows for the GEMM's packing and tile stores: rows of one or two
// SIMD registers with a ragged end (and the float transposes of gemm/transpose.h). Included by per-ISA sources:
// internal linkage.
#pragma once
#include <cstdint>

#include "gemm/blocking.h"
#include "gemm/transpose.h"

namespace nnfast {
namespace {

template <class T> constexpr int kLanes = Blocking<T>::kLanes;

// dst[0 : cols] = src[0 : cols] for kLanes <= cols <= 2 * kLanes, in two whole vectors: the first
// and the last kLanes values (they may overlap). Reads and writes nothing past cols.
template <class T>
void copy_row_part(T* dst, const T* src, int cols) {
    using V = typename Vec<T>::type;
    using U = typename Vec<T>::unaligned;
    constexpr int L = kLanes<T>;
    const V head = *reinterpret_cast<const U*>(src), tail = *reinterpret_cast<const U*>(src + cols - L);
    *reinterpret_cast<U*>(dst) = head;
    *reinterpret_cast<U*>(dst + cols - L) = tail;
}

// dst[0 : cols] = src[0 : cols] and dst[cols : NR] = 0 (NR = 2 * kLanes, a panel row), for
// kLanes <= cols <= NR: the zeros first, then the values over them.
template <class T, int NR>
void copy_row_padded(T* dst, const T* src, int cols) {
    static_assert(NR == 2 * kLanes<T>, "a panel row is two vectors");
    *reinterpret_cast<typename Vec<T>::unaligned*>(dst + kLanes<T>) = typename Vec<T>::type{};
    copy_row_part(dst, src, cols);
}

}  // namespace
}  // namespace nnfast
