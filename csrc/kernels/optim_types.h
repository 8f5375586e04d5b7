// Plain-C descriptions of a fused optimizer step: the tensors it updates and its hyperparameters.
// Shared by the bindings (which fill them) and the per-ISA kernels (which read them).
#pragma once
#include <cstdint>

namespace nnfast {

enum class Convention : int { keras = 0, torch = 1, dlfs = 2 };

// One tensor of a multi-tensor step. `offset` is where it starts in the concatenation of all the
// step's tensors, so work can be split over the whole element range rather than tensor by tensor.
template <class T>
struct OptimTensor {
    T* param;        // (size) updated in place
    const T* grad;   // (size)
    T* state[3];     // (size) each, or null: the optimizer's slots, in the order of its signature
    int64_t size;
    int64_t offset;
};

// Everything one step needs; step-dependent scalars are derived from these in double.
struct OptimStep {
    Convention convention;
    int64_t step;  // 1-based
    double learning_rate, weight_decay, epsilon;
    double momentum, dampening, lr_decay, rho, beta_1, beta_2;
    bool nesterov, centered, amsgrad, decoupled_weight_decay;
};

}  // namespace nnfast
