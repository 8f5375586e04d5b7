// One training step of a stack of Dense layers, in one native call: forward, loss, backward and
// the optimizer update, through the dispatched kernels (the same calls, in the same order, as the
// Python training loop makes, so results are identical). No Python types here.
#pragma once
#include <cstdint>
#include <vector>

#include "dispatch/kernel_table.h"

namespace nnfast {

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
    Loss loss;
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

// A data set to train on in whole batches: x (samples, in) and its targets, labels (samples) or
// target rows (samples, outputs) (the other null), and the sample order of the epoch.
template <class T>
struct TrainingSet {
    const T* x;
    const int64_t* labels;
    const T* target_rows;
    const int64_t* order;  // indices into the samples, all in range (the caller checked them)
    int64_t in, outputs;
};

// Batch buffers of the step's batch size, the gathered input and targets.
template <class T>
struct BatchBuffers {
    T* x;            // (batch, in)
    int64_t* labels; // (batch) when the set has labels
    T* target_rows;  // (batch, outputs) when it has target rows
};

// Runs `count` steps: step i gathers the samples order[(first + i) * batch ...] into `buf` (the
// next batch's rows are prefetched meanwhile) and runs the step with step number step.step + i
// at a constant learning rate; its loss goes to losses[i] and, when `correct` is given, the number
// of samples whose output's argmax is their label (or their target row's argmax) to correct[i].
// Stops after the first non-finite loss (that step updates nothing). Returns the steps run, that
// one included.
template <class T>
int64_t run_dense_stack_steps(const KernelTable& kt, const DenseStackStep<T>& s, const TrainingSet<T>& data,
                              const BatchBuffers<T>& buf, int64_t first, int64_t count, OptimStep step,
                              double* losses, int64_t* correct);

}  // namespace nnfast
