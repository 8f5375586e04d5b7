// Loss kernels of one ISA level.
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// Mean loss over n elements of pred (n) against target (n); grad (n) = its gradient wrt pred.
template <class T>
double pointwise_loss(T* grad, const T* pred, const T* target, int64_t n, Loss kind);

// Mean over rows of the softmax cross-entropy of logits (rows, cols) against integer labels (rows)
// or, when labels is null, label_rows (rows, cols); dlogits (rows, cols) = its gradient.
template <class T>
double softmax_cross_entropy(T* dlogits, const T* logits, const int64_t* labels, const T* label_rows,
                             int64_t rows, int64_t cols);

// Keras's sample-weighted loss (reduction sum_over_batch_size): sum_i weights[i] * loss_i / rows,
// loss_i the loss of row i of pred (rows, cols): the mean of its point-wise terms, or for
// softmax_cross_entropy the cross-entropy of the logits row against labels (rows) or, when labels
// is null, target (rows, cols). The value only: the gradient is the unweighted kernel's, times the
// weights. Serial, rows summed pairwise in double: the same bits for any thread count.
template <class T>
double weighted_loss(const T* pred, const int64_t* labels, const T* target, const T* weights, int64_t rows,
                     int64_t cols, Loss kind);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
