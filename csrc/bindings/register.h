// One registration function per binding file; module.cpp calls them all.
#pragma once
#include <pybind11/pybind11.h>

namespace nnfast {
namespace bindings {

void register_activations(pybind11::module_& m);
void register_optimizers(pybind11::module_& m);
void register_limits(pybind11::module_& m);
void register_dense(pybind11::module_& m);
void register_losses(pybind11::module_& m);
void register_dropout(pybind11::module_& m);
void register_embedding(pybind11::module_& m);
void register_normalization(pybind11::module_& m);
void register_dense_stack(pybind11::module_& m);
void register_capi(pybind11::module_& m);

}  // namespace bindings
}  // namespace nnfast
