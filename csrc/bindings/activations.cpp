// activation_forward / activation_backward: checks, then the dispatched kernel under the GIL policy
// of kernel_call.h.
#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/register.h"

namespace nnfast {
namespace bindings {
namespace {

py::array activation_forward(py::handle z_obj, py::handle act_obj, py::handle out_obj) {
    py::array z = float_array(z_obj, "z");
    const Activation act = parse_activation(act_obj);
    require_c_contiguous(z, "z");
    if (act == Activation::softmax) require_ndim_at_least(z, "z", 1);
    py::array y = output_like(out_obj, "out", z);
    require_no_partial_overlap(y, "out", z, "z");
    int64_t rows, cols;
    rows_cols(z, &rows, &cols);
    dispatch_dtype(z, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(rows * cols);
        kernels<T>().activation_forward(ptr<T>(y), ptr<const T>(z), rows, cols, act);
    });
    return y;
}

py::array activation_backward(py::handle y_obj, py::handle dy_obj, py::handle act_obj,
                              py::handle out_obj) {
    py::array y = float_array(y_obj, "y");
    py::array dy = float_array(dy_obj, "dy");
    const Activation act = parse_activation(act_obj);
    require_same_dtype(y, "y", dy, "dy");
    require_same_shape(y, "y", dy, "dy");
    int64_t rows, cols;
    rows_cols(y, &rows, &cols);
    require_c_contiguous(y, "y");
    require_c_contiguous(dy, "dy");
    if (act == Activation::softmax) require_ndim_at_least(y, "y", 1);
    py::array dz = output_like(out_obj, "out", y);
    require_no_partial_overlap(dz, "out", y, "y");
    require_no_partial_overlap(dz, "out", dy, "dy");
    dispatch_dtype(y, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(rows * cols);
        kernels<T>().activation_backward(ptr<T>(dz), ptr<const T>(y), ptr<const T>(dy), rows, cols, act);
    });
    return dz;
}

bool all_finite(py::handle a_obj) {
    py::array a = float_array(a_obj, "a");
    require_c_contiguous(a, "a");
    const int64_t n = a.size();
    return dispatch_dtype(a, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(n);
        return kernels<T>().all_finite(ptr<const T>(a), n);
    });
}

}  // namespace

void register_activations(py::module_& m) {
    m.def("all_finite", &all_finite, py::arg("a"), "Whether no element of a (float32/float64) is NaN or Inf.");
    m.def("activation_forward", &activation_forward, py::arg("z"), py::arg("activation"),
          py::arg("out") = py::none());
    m.def("activation_backward", &activation_backward, py::arg("y"), py::arg("dy"),
          py::arg("activation"), py::arg("out") = py::none());
    py::tuple names(activation_names().size());
    for (size_t i = 0; i < activation_names().size(); ++i) names[i] = py::str(activation_names()[i]);
    m.attr("ACTIVATIONS") = names;
}

}  // namespace bindings
}  // namespace nnfast
