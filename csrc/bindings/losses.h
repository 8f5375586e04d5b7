// The loss kernels' names, shared by the loss functions and the one-call step's bindings.
#pragma once
#include <string>

#include "common/types.h"

namespace nnfast {
namespace bindings {

// The Loss called `name` (a function of nnfast._core and of nnfast.reference); ValueError naming
// `what` for any other name.
Loss loss_named(const std::string& name, const char* what);

// Whether a loss with this kind may take integer class indices as its targets.
constexpr bool takes_labels(Loss kind) {
    return kind == Loss::softmax_cross_entropy || kind == Loss::categorical_cross_entropy;
}

// param checked for `kind` (label smoothing in [0, 1]; a delta any real): ValueError naming it.
double checked_loss_param(Loss kind, double param);

}  // namespace bindings
}  // namespace nnfast
