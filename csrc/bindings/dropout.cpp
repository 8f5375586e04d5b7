// dropout_forward / dropout_backward: checks, then the dispatched kernels under the GIL policy
// of kernel_call.h.
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/register.h"

namespace nnfast {
namespace bindings {
namespace {

double dropout_rate(double rate) {
    if (!(rate >= 0.0 && rate < 1.0)) throw py::value_error("rate must be in [0, 1), got " + std::to_string(rate));
    return rate;
}

// A uint8 mask of `like`'s shape: `mask_out` checked, or a new array.
py::array mask_like(py::handle mask_out, const py::array& like) {
    std::vector<py::ssize_t> shape(like.shape(), like.shape() + like.ndim());
    if (mask_out.is_none()) return py::array_t<uint8_t>(shape);
    if (!py::isinstance<py::array_t<uint8_t>>(mask_out) || py::reinterpret_borrow<py::array>(mask_out).dtype().kind() != 'u' ||
        py::reinterpret_borrow<py::array>(mask_out).itemsize() != 1)
        throw py::type_error("mask_out must be a uint8 numpy.ndarray");
    py::array m = py::reinterpret_borrow<py::array>(mask_out);
    require_same_shape(like, "x", m, "mask_out");
    require_c_contiguous(m, "mask_out");
    require_writable(m, "mask_out");
    return m;
}

py::tuple dropout_forward(py::handle x_obj, double rate, uint64_t seed, py::handle out_obj, py::handle mask_out) {
    py::array x = float_array(x_obj, "x");
    require_c_contiguous(x, "x");
    dropout_rate(rate);
    py::array y = output_like(out_obj, "out", x);
    require_no_partial_overlap(y, "out", x, "x");
    py::array mask = mask_like(mask_out, x);
    require_no_overlap(mask, "mask_out", x, "x");
    require_no_overlap(mask, "mask_out", y, "out");
    const int64_t n = x.size();
    dispatch_dtype(x, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(n);
        kernels<T>().dropout_forward(ptr<T>(y), ptr<uint8_t>(mask), ptr<const T>(x), n, rate, seed);
    });
    return py::make_tuple(y, mask);
}

py::array dropout_backward(py::handle dy_obj, py::handle mask_obj, double rate, py::handle out_obj) {
    py::array dy = float_array(dy_obj, "dy");
    require_c_contiguous(dy, "dy");
    dropout_rate(rate);
    if (!py::isinstance<py::array>(mask_obj) || py::reinterpret_borrow<py::array>(mask_obj).dtype().kind() != 'u' ||
        py::reinterpret_borrow<py::array>(mask_obj).itemsize() != 1)
        throw py::type_error("mask must be the uint8 numpy.ndarray dropout_forward returned");
    py::array mask = py::reinterpret_borrow<py::array>(mask_obj);
    require_same_shape(dy, "dy", mask, "mask");
    require_c_contiguous(mask, "mask");
    py::array dx = output_like(out_obj, "out", dy);
    require_no_partial_overlap(dx, "out", dy, "dy");
    require_no_overlap(dx, "out", mask, "mask");
    const int64_t n = dy.size();
    dispatch_dtype(dy, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(n);
        kernels<T>().dropout_backward(ptr<T>(dx), ptr<const T>(dy), ptr<const uint8_t>(mask), n, rate);
    });
    return dx;
}

}  // namespace

void register_dropout(py::module_& m) {
    m.def("dropout_forward", &dropout_forward);
    m.def("dropout_backward", &dropout_backward);
}

}  // namespace bindings
}  // namespace nnfast
