// The vocabulary every layer shares: activations, losses, optimizers and the plain-C description
// of an optimizer step, plus the constants that fix their meaning. No Python types, no kernels:
// everything else includes this, and this includes nothing of the project.
#pragma once
#include <cstdint>

namespace nnfast {

// Kept in the order of bindings' activation_names() (a name's index is its value).
enum class Activation : int { linear = 0, relu, leaky_relu, sigmoid, tanh, softmax };

// Negative-side slope of leaky_relu: Keras' default for the "leaky_relu" activation string.
constexpr double kLeakyReluSlope = 0.2;

// The point-wise losses (KernelSet::pointwise_loss) and softmax_cross_entropy, which has its own
// kernel (it reads whole rows, and class indices or rows as targets).
enum class Loss : int { mse = 0, mae, binary_cross_entropy, softmax_cross_entropy };

// Probabilities are clipped to [kBceEpsilon, 1 - kBceEpsilon] in binary cross-entropy (Keras).
constexpr double kBceEpsilon = 1e-7;

enum class OptimizerKind : int { sgd = 0, adagrad, rmsprop, adam };

// Whose update rules (and hyperparameter meanings) a step follows; dlfs is the Nesterov
// recurrence of "Deep Learning from Scratch".
enum class Convention : int { keras = 0, torch = 1, dlfs = 2 };

// One tensor of a multi-tensor step. `offset` is where it starts in the concatenation of all the
// step's tensors, so work can be split over the whole element range rather than tensor by tensor.
template <class T>
struct OptimTensor {
    T* param;       // (size) updated in place
    const T* grad;  // (size)
    T* state[3];    // (size) each, or null: the optimizer's slots, in the order of its signature
    int64_t size;
    int64_t offset;
};

// Everything one step needs; step-dependent scalars are derived from these in double.
struct OptimStep {
    Convention convention;
    int64_t step;  // 1-based
    double learning_rate, weight_decay, epsilon;
    double momentum, dampening, lr_decay, rho, beta_1, beta_2;
    double momentum_decay;  // torch NAdam's psi (the momentum cache decays as 0.96^(t*psi))
    double lr_power, l1, l2, l2_shrinkage, beta;  // Keras Ftrl's learning_rate_power and regularization
    bool nesterov, centered, amsgrad, decoupled_weight_decay;
    bool maximize;  // torch: the gradient is negated before use
};

}  // namespace nnfast
