// activation_forward / activation_backward: checks, then the dispatched kernel without the GIL.
#include "bindings/checks.h"
#include "bindings/register.h"
#include "dispatch/dispatch.h"

namespace nnfast {
namespace bindings {
namespace {

template <class T>
void run_forward(py::array& y, const py::array& z, Activation act) {
    int64_t rows, cols;
    rows_cols(z, &rows, &cols);
    T* yp = static_cast<T*>(y.mutable_data());
    const T* zp = static_cast<const T*>(z.data());
    const auto kernel = kernels_of<T>(active_kernels()).activation_forward;
    py::gil_scoped_release nogil;
    kernel(yp, zp, rows, cols, act);
}

template <class T>
void run_backward(py::array& dz, const py::array& y, const py::array& dy, Activation act) {
    int64_t rows, cols;
    rows_cols(y, &rows, &cols);
    T* dzp = static_cast<T*>(dz.mutable_data());
    const T* yp = static_cast<const T*>(y.data());
    const T* dyp = static_cast<const T*>(dy.data());
    const auto kernel = kernels_of<T>(active_kernels()).activation_backward;
    py::gil_scoped_release nogil;
    kernel(dzp, yp, dyp, rows, cols, act);
}

py::array activation_forward(py::handle z_obj, py::handle act_obj, py::handle out_obj) {
    py::array z = float_array(z_obj, "z");
    const Activation act = parse_activation(act_obj);
    require_c_contiguous(z, "z");
    if (act == Activation::softmax) require_ndim_at_least(z, "z", 1);
    py::array y = output_like(out_obj, "out", z);
    require_no_partial_overlap(y, "out", z, "z");
    if (dtype_of(z) == DType::f32)
        run_forward<float>(y, z, act);
    else
        run_forward<double>(y, z, act);
    return y;
}

py::array activation_backward(py::handle y_obj, py::handle dy_obj, py::handle act_obj,
                              py::handle out_obj) {
    py::array y = float_array(y_obj, "y");
    py::array dy = float_array(dy_obj, "dy");
    const Activation act = parse_activation(act_obj);
    require_same_dtype(y, "y", dy, "dy");
    require_same_shape(y, "y", dy, "dy");
    require_c_contiguous(y, "y");
    require_c_contiguous(dy, "dy");
    if (act == Activation::softmax) require_ndim_at_least(y, "y", 1);
    py::array dz = output_like(out_obj, "out", y);
    require_no_partial_overlap(dz, "out", y, "y");
    require_no_partial_overlap(dz, "out", dy, "dy");
    if (dtype_of(y) == DType::f32)
        run_backward<float>(dz, y, dy, act);
    else
        run_backward<double>(dz, y, dy, act);
    return dz;
}

bool all_finite(py::handle a_obj) {
    py::array a = float_array(a_obj, "a");
    require_c_contiguous(a, "a");
    const int64_t n = a.size();
    if (dtype_of(a) == DType::f32) {
        auto f = active_kernels().f32.all_finite;
        const float* p = static_cast<const float*>(a.data());
        py::gil_scoped_release nogil;
        return f(p, n);
    }
    auto f = active_kernels().f64.all_finite;
    const double* p = static_cast<const double*>(a.data());
    py::gil_scoped_release nogil;
    return f(p, n);
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
