// One training step of a chain of layers (Dense, activation, dropout, batch and layer
// normalization, Keras's Normalization), in one native call: forward, loss, backward and the optimizer update, through
// the dispatched kernels (the same calls, in the same order, as the Python training loop makes, so
// results are identical; a batch normalization and the activation and dropout after it run as one
// fused kernel with the same bits, whose forward leaves the normalization's own output unwritten
// when an activation follows). Each step runs in one team of threads (parallel/team.h): its
// parallel parts are handed to the team rather than opening an OpenMP region each. No Python types
// here.
#pragma once
#include <cstdint>
#include <vector>

#include "dispatch/kernel_table.h"
#include "parallel/team.h"
#include "parallel/thread_choice.h"

namespace nnfast {

enum class LayerKind : int { dense = 0, activation, dropout, batch_norm, layer_norm, normalization };

// One layer of the chain. Every kind has y and dx; the other fields are those of its kind (null
// or unused otherwise). `in` and `out` are features per sample (equal except for dense).
template <class T>
struct LayerBuffers {
    LayerKind kind;
    int64_t in, out;
    T* y;        // (batch, out) output (logits for a fused softmax output)
    T* dx;       // (batch, in), or null: no input gradient, and backward stops at this layer
    T* dx_work;  // where a kernel that always writes dx writes it: dx, or scratch when dx is null
    // dense
    const T* w;  // (in, out)
    const T* b;  // (out) or null
    T* dw;       // (in, out)
    T* db;       // (out) or null
    Activation act;  // dense and activation: as computed in the kernels
    double l2;       // dense: L2 penalty, scikit-learn's alpha / batch: loss += l2/2 * sum(w^2), dw += l2 * w
    // dropout: the stream of a forward is seed * 0x9E3779B97F4A7C15 + *calls, then *calls += 1
    double rate;
    uint64_t seed;
    uint64_t* calls;  // the layer's forward count, advanced in place
    uint8_t* mask;    // (batch, out)
    // batch_norm and layer_norm: gamma, beta (out) or null and their gradients (or null);
    // mean, inv_std: (out) for batch_norm, (batch) for layer_norm
    const T* gamma;
    const T* beta;
    T* dgamma;
    T* dbeta;
    T* mean;
    T* inv_std;
    T* moving_mean;  // batch_norm: (out), updated in place when training; normalization: its mean
    T* moving_var;   // likewise; normalization: its variance (both constant)
    bool invert;     // normalization: Keras's invert=True
    bool training;  // batch_norm: batch statistics (else the moving ones: a frozen layer)
    double momentum, epsilon;
};

template <class T>
struct DenseStackStep {
    std::vector<LayerBuffers<T>> layers;
    int64_t batch;
    Loss loss;
    double loss_param;  // huber's delta or the label smoothing (kernels/losses.h)
    T* dloss;  // (batch, outputs): dL/d(last y)
    OptimizerKind optimizer;
    std::vector<OptimTensor<T>> tensors;  // the parameters, their gradients and optimizer state
};

// Runs the step on x (batch, in) and targets (labels (batch) as int64 for a sparse cross-entropy,
// else target rows (batch, outputs)); returns the loss. With weights (batch) (else null), the loss
// is the sample-weighted one (KernelSet::weighted_loss) and each row of dloss is scaled by its
// weight. When the loss is not finite, nothing is updated (the weights stay the last finite ones).
// The step runs in one team of threads when `team` (kept by the caller across steps) has found
// that a part of it splits over threads.
template <class T>
double run_dense_stack_step(const KernelTable& kt, const DenseStackStep<T>& s, const T* x, const int64_t* labels,
                            const T* target_rows, const T* weights, const OptimStep& step, TeamNeed& team);

// A data set to train on in whole batches: x (samples, in) and its targets, labels (samples) or
// target rows (samples, outputs) (the other null), per-sample weights (samples) or null, and the
// sample order of the epoch.
template <class T>
struct TrainingSet {
    const T* x;
    const int64_t* labels;
    const T* target_rows;
    const T* weights;
    const int64_t* order;  // indices into the samples, all in range (the caller checked them)
    int64_t in, outputs;
    int64_t samples;
    bool continuing;  // the caller's word: the same set, values unchanged, as its last run of steps
};

// Batch buffers of the step's batch size, the gathered input, targets and weights.
template <class T>
struct BatchBuffers {
    T* x;            // (batch, in)
    int64_t* labels; // (batch) when the set has labels
    T* target_rows;  // (batch, outputs) when it has target rows
    T* weights;      // (batch) when it has weights
};

// What run_dense_stack_steps counts into correct[i]: the samples whose output's argmax is their
// label (or their target row's argmax), or, when `binary`, whose single output compares to
// `threshold` as their target says: target == (output > threshold), Keras's BinaryAccuracy.
struct AccuracyRule {
    bool binary = false;
    double threshold = 0.5;
};

// Runs `count` steps: step i gathers the samples order[(first + i) * batch ...] into `buf`, or
// into `spare` while a team's waiting threads gather the next batch into the other, and
// runs the step with step number step.step + i at the learning rate `schedule` gives after
// step.step - 1 + i steps; its loss goes to losses[i] and, when `correct` is given, the number of
// samples `accuracy` counts as right to correct[i]. Stops after the first non-finite loss (that step
// updates nothing), and before a step whose learning rate is NaN or negative (it runs nothing).
// Each step runs on the threads `threads` gives it and is timed for it (it probes all threads
// and one, then keeps the faster; the caller keeps it across calls), in a team as `team` says:
// steps in a row on all threads share one team.
// With tail > 0, once the count steps have run, one more step runs on the tail samples that
// follow them in order (an epoch's last, partial batch), as a step made for that batch size would;
// it is not timed for the thread choice.
// Returns the steps run, a non-finite one included.
template <class T>
class DeadUnits;

// The first layer's forward goes through `dead` (model/dead_units.h, kept by the caller across
// calls), which skips its units proven dead over the data set.
template <class T>
int64_t run_dense_stack_steps(const KernelTable& kt, const DenseStackStep<T>& s, const TrainingSet<T>& data,
                              const BatchBuffers<T>& buf, const BatchBuffers<T>& spare, int64_t first,
                              int64_t count, OptimStep step, const LearningRateSchedule& schedule, double* losses,
                              int64_t* correct, int64_t tail, AccuracyRule accuracy, ThreadChoice& threads,
                              TeamNeed& team, DeadUnits<T>& dead);

}  // namespace nnfast
