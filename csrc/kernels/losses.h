// Loss kernels of one ISA level. Every loss is Keras 3's (keras/src/losses/losses.py); `param` is
// huber's delta or a cross-entropy's label smoothing (0 for the others).
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// Mean over n elements of a point-wise loss of pred (n) against target (n) (mape: 100 times the
// mean); grad (n) = its gradient wrt pred. Hinge losses turn targets that are all 0 or 1 into -1/1.
template <class T>
double pointwise_loss(T* grad, const T* pred, const T* target, int64_t n, Loss kind, double param);

// Mean over rows of a row-wise loss (is_row_loss) of pred (rows, cols) against integer labels
// (rows) in [0, cols) or, when labels is null, target (rows, cols) (labels only for the
// cross-entropies); grad (rows, cols) = its gradient. softmax_cross_entropy reads pred as logits.
template <class T>
double row_loss(T* grad, const T* pred, const int64_t* labels, const T* target, int64_t rows, int64_t cols, Loss kind,
                double param);

// Keras's sample-weighted loss (reduction sum_over_batch_size): sum_i weights[i] * loss_i / rows,
// loss_i the loss of row i of pred (rows, cols) against labels (rows) or, when labels is null,
// target (rows, cols): the mean of its point-wise terms, or its row-wise value. The value only: the
// gradient is the unweighted kernel's, times the weights. Serial, rows summed pairwise in double:
// the same bits for any thread count.
template <class T>
double weighted_loss(const T* pred, const int64_t* labels, const T* target, const T* weights, int64_t rows,
                     int64_t cols, Loss kind, double param);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
