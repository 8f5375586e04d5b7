// Normalization kernels of one ISA level: Keras 3's BatchNormalization (over the batch, per
// feature), LayerNormalization (over the last axis, per row) and Normalization (fixed statistics). Statistics are two
// passes (mean, then the mean of squared deviations: the biased variance) summed in double.
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// x (rows, cols); gamma, beta (cols) may be null (scale 1, offset 0); mean, inv_std (cols) are
// what normalized x. training: the batch mean and 1/sqrt(variance + epsilon) per column, and
// moving_mean, moving_var (cols) = moving * momentum + batch statistic * (1 - momentum) in place.
// Otherwise mean = moving_mean and inv_std = 1/sqrt(moving_var + epsilon); nothing else written.
// y (rows, cols) = (x - mean) * (inv_std * gamma) + beta.
template <class T>
void batch_norm_forward(T* y, T* mean, T* inv_std, T* moving_mean, T* moving_var, const T* x, const T* gamma,
                        const T* beta, int64_t rows, int64_t cols, bool training, double momentum, double epsilon);

// dx (rows, cols), dgamma (cols) or null, dbeta (cols) or null of batch_norm_forward, from x, gamma (or
// null), the mean and inv_std (cols) it returned and dy (rows, cols). training: the statistics
// depend on x (the standard gradient); otherwise they are constants and dx = dy * gamma * inv_std.
template <class T>
void batch_norm_backward(T* dx, T* dgamma, T* dbeta, const T* x, const T* gamma, const T* mean, const T* inv_std,
                         const T* dy, int64_t rows, int64_t cols, bool training);

// batch_norm_forward followed by the element-wise layers after it, in one pass over the rows: an
// activation `act` (linear, relu or leaky_relu: the activation kernel's own loop), then, when mask
// is given, inverted dropout at `rate` with the stream `seed` (the dropout kernel's own loop).
// y (rows, cols) = the last layer's output. With dropout, mask (rows, cols) holds each element's
// gate (dropout.h), which folds the activation's derivative in: the activation's output is not
// stored, nor is the normalized x. Same bits as the three kernels in turn.
template <class T>
void batch_norm_tail_forward(T* y, uint8_t* mask, T* mean, T* inv_std, T* moving_mean, T* moving_var, const T* x,
                             const T* gamma, const T* beta, int64_t rows, int64_t cols, bool training,
                             double momentum, double epsilon, Activation act, double rate, uint64_t seed);

// dx (rows, cols), dgamma, dbeta (cols) or null of batch_norm_tail_forward from dy (rows, cols) =
// dL/d(its last output): the dropout's and the activation's backward in one pass into dz (rows,
// cols) = dL/d(the normalized x), from the gates in mask or, without dropout, from the activation's
// output act_y (rows, cols); then batch_norm_backward. Same bits as the three kernels.
template <class T>
void batch_norm_tail_backward(T* dx, T* dgamma, T* dbeta, T* dz, const T* x, const T* gamma, const T* mean,
                              const T* inv_std, const T* act_y, const uint8_t* mask, const T* dy, int64_t rows,
                              int64_t cols, bool training, Activation act, double rate);

// mean, inv_std (rows): each row's mean and 1/sqrt(biased variance + epsilon) of x (rows, cols);
// y (rows, cols) = (x - mean) * inv_std * gamma + beta; gamma, beta (cols) may be null (1, 0).
template <class T>
void layer_norm_forward(T* y, T* mean, T* inv_std, const T* x, const T* gamma, const T* beta, int64_t rows,
                        int64_t cols, double epsilon);

// dx (rows, cols), dgamma (cols) or null, dbeta (cols) or null of layer_norm_forward, from x, gamma
// (or null), the mean and inv_std (rows) it returned and dy (rows, cols).
template <class T>
void layer_norm_backward(T* dx, T* dgamma, T* dbeta, const T* x, const T* gamma, const T* mean, const T* inv_std,
                         const T* dy, int64_t rows, int64_t cols);

// Keras 3's Normalization layer with its statistics mean, variance (cols), scale = max(sqrt(variance),
// 1e-7) in T: y (rows, cols) = (x (rows, cols) - mean) / scale, or with invert mean + x * scale.
template <class T>
void normalization_forward(T* y, const T* x, const T* mean, const T* variance, int64_t rows, int64_t cols,
                           bool invert);

// dx (rows, cols) of normalization_forward from dy (rows, cols) and variance (cols): dy / scale,
// or with invert dy * scale.
template <class T>
void normalization_backward(T* dx, const T* dy, const T* variance, int64_t rows, int64_t cols, bool invert);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
