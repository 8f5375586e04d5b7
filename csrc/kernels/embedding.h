// The Embedding layer's gradient: a scatter-add of output-gradient rows into the rows of the
// table their indices name. Written once for every ISA level.
#pragma once
#include <cstdint>

namespace nnfast {
namespace NNFAST_ISA_NS {

// dw (rows, cols) = 0, then dw[indices[i], :] += dy[i, :] for i = 0 .. n - 1 in turn (dy (n, cols),
// indices (n) in [0, rows), checked by the caller): each element's sum runs in the order its rows
// occur, whatever the threads (they split the rows of dw), as NumPy's add.at and nnfast.reference.
template <class T>
void embedding_backward(T* dw, const T* dy, const int64_t* indices, int64_t n, int64_t rows, int64_t cols);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
