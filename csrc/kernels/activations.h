// Activation kernels of one ISA level (declared inside that level's namespace).
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// y (rows, cols) = act(z (rows, cols)); softmax over each row.
template <class T>
void activation_forward(T* y, const T* z, int64_t rows, int64_t cols, Activation act);

// dz (rows, cols) from the activated output y (rows, cols) and the upstream gradient dy (rows, cols).
template <class T>
void activation_backward(T* dz, const T* y, const T* dy, int64_t rows, int64_t cols,
                         Activation act);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
