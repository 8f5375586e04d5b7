// The vocabulary every layer shares: activations, losses, optimizers and the plain-C description
// of an optimizer step, plus the constants that fix their meaning. No Python types, no kernels:
// everything else includes this, and this includes nothing of the project.
#pragma once
#include <cstdint>

namespace nnfast {

// One ISA level's GEMM blocking for one dtype: the MR x NR register tile and the cache blocks
// (KC along k, MC rows of A, NC columns of B; gemm/blocking.h derives them).
struct GemmBlocking {
    int mr, nr;
    int64_t kc, mc, nc;
};

// The register tiles a level's GEMM is built with: their rows (MR), ascending, in rows[0 : count].
struct GemmTiles {
    int rows[4];
    int count;
};

// Kept in the order of bindings' activation_names() (a name's index is its value).
enum class Activation : int { linear = 0, relu, leaky_relu, sigmoid, tanh, softmax };

// Negative-side slope of leaky_relu: Keras' default for the "leaky_relu" activation string.
constexpr double kLeakyReluSlope = 0.2;

// The losses with kernels (Keras's definitions, kernels/losses.h). Point-wise ones
// (KernelSet::pointwise_loss) average a term per element; row-wise ones (KernelSet::row_loss,
// softmax_cross_entropy of logits included) average a value per row. Some take one parameter:
// huber its delta, the cross-entropies their label smoothing.
enum class Loss : int {
    mse = 0, mae, binary_cross_entropy, softmax_cross_entropy,
    // point-wise
    sigmoid_cross_entropy, mape, msle, huber, log_cosh, hinge, squared_hinge, poisson,
    // row-wise
    kl_divergence, categorical_hinge, cosine_similarity, categorical_cross_entropy
};

// Whether a loss sums a value per row (KernelSet::row_loss) rather than averaging element terms.
constexpr bool is_row_loss(Loss kind) {
    return kind == Loss::softmax_cross_entropy || kind == Loss::kl_divergence || kind == Loss::categorical_hinge ||
           kind == Loss::cosine_similarity || kind == Loss::categorical_cross_entropy;
}

// Probabilities are clipped to [kBceEpsilon, 1 - kBceEpsilon] in binary cross-entropy (Keras); the
// other losses use the same keras.backend.epsilon() where Keras does.
constexpr double kBceEpsilon = 1e-7;

// Normalization (Keras's preprocessing layer) divides by max(sqrt(variance), kNormalizationEpsilon):
// keras.backend.epsilon().
constexpr double kNormalizationEpsilon = 1e-7;

// One per update kernel of the KernelSet (bindings' optimizer names map to these).
enum class OptimizerKind : int { sgd = 0, adagrad, rmsprop, adam, adamax, nadam, radam, adadelta, lion, ftrl };

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

// The learning rate as a function of the step: the kinds of nnfast.optimizers.schedules (Keras 2's
// time-based decay is inverse_time_decay with decay_steps 1), named as native_parameters() names them.
enum class ScheduleKind : int {
    constant = 0, exponential_decay, inverse_time_decay, piecewise_constant, polynomial_decay, cosine_decay,
    cosine_decay_restarts
};

// A schedule's parameters, in the order native_parameters() gives them (flags as 0 or 1):
// constant: lr; exponential_decay, inverse_time_decay: initial, decay_steps, decay_rate, staircase;
// polynomial_decay: initial, decay_steps, end, power, cycle; cosine_decay: initial, decay_steps,
// alpha, warmup (a flag), warmup_target, warmup_steps; cosine_decay_restarts: initial,
// first_decay_steps, t_mul, m_mul, alpha; piecewise_constant: boundaries and values instead.
struct LearningRateSchedule {
    ScheduleKind kind;
    double params[6];
    int64_t pieces;            // piecewise_constant: the number of boundaries
    const double* boundaries;  // (pieces), increasing
    const double* values;      // (pieces + 1)
};

}  // namespace nnfast
