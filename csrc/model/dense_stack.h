// One training step of a stack of Dense layers, in one native call: forward, loss, backward and
// the optimizer update, through the dispatched kernels (the same calls, in the same order, as the
// Python training loop makes, so results are identical). No Python types here.
#pragma once
#include <cstdint>
#include <vector>

#include "dispatch/kernel_table.h"

namespace nnfast {

enum class OptimizerKind : int { sgd = 0, adagrad, rmsprop, adam };
enum class StepLoss : int { mse = 0, mae, binary_cross_entropy, softmax_cross_entropy };

template <class T>
struct DenseLayerBuffers {
    const T* w;    // (in, out)
    const T* b;    // (out) or null
    T* y;          // (batch, out) activated output (logits for a fused softmax output)
    T* dx;         // (batch, in) or null for the first layer
    T* dw;         // (in, out)
    T* db;         // (out) or null
    int64_t in, out;
    Activation act;  // as computed in the kernels (linear for a fused softmax output)
};

template <class T>
struct DenseStackStep {
    std::vector<DenseLayerBuffers<T>> layers;
    int64_t batch;
    StepLoss loss;
    T* dloss;  // (batch, outputs): dL/d(last y)
    OptimizerKind optimizer;
    std::vector<OptimTensor<T>> tensors;  // the parameters, their gradients and optimizer state
};

// Runs the step on x (batch, in) and targets (labels (batch) as int64 for a sparse softmax loss,
// else target rows (batch, outputs)); returns the loss. When the loss is not finite, nothing is
// updated (the weights stay the last finite ones).
template <class T>
double run_dense_stack_step(const KernelTable& kt, const DenseStackStep<T>& s, const T* x, const int64_t* labels,
                            const T* target_rows, const OptimStep& step);

}  // namespace nnfast
