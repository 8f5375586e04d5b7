// The optimizer-argument checks of bindings/optim.cpp, shared with the one-call Dense-stack step.
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "common/types.h"

namespace nnfast {
namespace bindings {

// The hyperparameters of one step of `fn` ("sgd_update", ...) from its keyword arguments (as
// nnfast.ops takes them), checked as the update function checks them; sets *kind.
OptimStep optim_step_from_kwargs(const std::string& fn, const pybind11::dict& kw, OptimizerKind* kind);
double learning_rate_value(pybind11::handle obj);  // a checked learning rate
// A learning rate as the multi-step runs take it: a real number (constant), or a schedule (kind,
// params) as nnfast.optimizers.schedules' native_parameters() gives it; piecewise_constant's
// boundaries and values are kept in *storage, which must outlive the result.
LearningRateSchedule schedule_value(pybind11::handle obj, std::vector<double>* storage);
int64_t step_value(pybind11::handle obj);          // a checked 1-based step count

// params, grads and up to three state lists (None where unused) checked as an update call checks
// them (shapes, one dtype T, layout, no aliasing); the arrays are appended to *keep.
template <class T>
std::vector<OptimTensor<T>> checked_tensors(pybind11::handle params, pybind11::handle grads,
                                           const pybind11::tuple& states, std::vector<pybind11::object>* keep);

}  // namespace bindings
}  // namespace nnfast
