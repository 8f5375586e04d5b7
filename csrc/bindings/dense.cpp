// gemm / dense_forward / dense_backward: checks, then the dispatched kernels under the GIL policy
// of kernel_call.h.
#include <string>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/register.h"

namespace nnfast {
namespace bindings {
namespace {

// A 2-D float32/float64 C-contiguous input.
py::array matrix(py::handle obj, const char* name) {
    py::array a = float_array(obj, name);
    if (a.ndim() != 2)
        throw py::value_error(std::string(name) + " must be 2-D, got shape " + shape_str(a));
    require_c_contiguous(a, name);
    return a;
}

// ValueError unless a.shape[axis] == expected; `why` (naming where expected comes from) is only
// built on failure, so the check costs nothing on the fast path.
template <class Why>
void require_size(const py::array& a, const char* name, py::ssize_t axis, py::ssize_t expected, const Why& why) {
    if (a.shape(axis) != expected)
        throw py::value_error(std::string(name) + " must have " + std::to_string(expected) + " " +
                              (axis == 0 ? "rows" : "columns") + " (" + why() + "), got shape " + shape_str(a));
}

// `out` (or a new array) of the given shape and like's dtype, not overlapping any input.
py::array output_of_shape(py::handle out, const char* name, const py::array& like, std::vector<py::ssize_t> shape,
                          std::initializer_list<std::pair<const py::array*, const char*>> inputs) {
    if (out.is_none()) return py::array(like.dtype(), shape);
    py::array o = checked_output(out, name, like, shape);
    for (const auto& in : inputs) require_no_overlap(o, name, *in.first, in.second);
    return o;
}

py::array output(py::handle out, const char* name, const py::array& like, py::ssize_t rows, py::ssize_t cols,
                 std::initializer_list<std::pair<const py::array*, const char*>> inputs) {
    return output_of_shape(out, name, like, {rows, cols}, inputs);
}

py::array vector_output(py::handle out, const char* name, const py::array& like, py::ssize_t n,
                        std::initializer_list<std::pair<const py::array*, const char*>> inputs) {
    return output_of_shape(out, name, like, {n}, inputs);
}

py::array gemm(py::handle a_obj, py::handle b_obj, bool trans_a, bool trans_b, py::handle out_obj) {
    py::array a = matrix(a_obj, "a"), b = matrix(b_obj, "b");
    require_same_dtype(a, "a", b, "b");
    const py::ssize_t m = a.shape(trans_a ? 1 : 0), k = a.shape(trans_a ? 0 : 1);
    const py::ssize_t n = b.shape(trans_b ? 0 : 1);
    require_size(b, "b", trans_b ? 1 : 0, k, [&] {
        return "the inner size of op(a), " + shape_str(a) + (trans_a ? " transposed" : "");
    });
    py::array c = output(out_obj, "out", a, m, n, {{&a, "a"}, {&b, "b"}});
    // op(a)(i, p) and op(b)(p, j) as strides over the row-major arrays: a transpose swaps them
    const int64_t a_rs = trans_a ? 1 : k, a_cs = trans_a ? m : 1;
    const int64_t b_rs = trans_b ? 1 : n, b_cs = trans_b ? k : 1;
    dispatch_dtype(a, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(int64_t(m) * n * k);
        kernels<T>().gemm(ptr<T>(c), n, 1, ptr<const T>(a), a_rs, a_cs, ptr<const T>(b), b_rs, b_cs, nullptr, m, n, k,
                          Activation::linear);
    });
    return c;
}

py::array dense_forward(py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle act_obj, py::handle out_obj) {
    py::array x = matrix(x_obj, "x"), w = matrix(w_obj, "w");
    require_same_dtype(x, "x", w, "w");
    const Activation act = parse_activation(act_obj);
    const py::ssize_t m = x.shape(0), k = x.shape(1), n = w.shape(1);
    require_size(w, "w", 0, k, [&] { return "the columns of x, " + shape_str(x); });
    py::array b;
    const bool has_bias = !b_obj.is_none();
    if (has_bias) {
        b = float_array(b_obj, "b");
        require_same_dtype(x, "x", b, "b");
        if (b.ndim() != 1 || b.shape(0) != n)
            throw py::value_error("b must have shape (" + std::to_string(n) + ",) (the columns of w), got " + shape_str(b));
        require_c_contiguous(b, "b");
    }
    py::array y = output(out_obj, "out", x, m, n, {{&x, "x"}, {&w, "w"}});
    if (has_bias) require_no_overlap(y, "out", b, "b");
    dispatch_dtype(x, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(int64_t(m) * n * k);
        kernels<T>().dense_forward(ptr<T>(y), ptr<const T>(x), ptr<const T>(w), has_bias ? ptr<const T>(b) : nullptr, m,
                                   k, n, act);
    });
    return y;
}

py::tuple dense_backward(py::handle x_obj, py::handle w_obj, py::handle y_obj, py::handle dy_obj,
                         py::handle act_obj, bool need_dx, bool need_db, py::handle dx_out,
                         py::handle dw_out, py::handle db_out) {
    py::array x = matrix(x_obj, "x"), w = matrix(w_obj, "w"), y = matrix(y_obj, "y"), dy = matrix(dy_obj, "dy");
    require_same_dtype(x, "x", w, "w");
    require_same_dtype(x, "x", y, "y");
    require_same_dtype(x, "x", dy, "dy");
    const Activation act = parse_activation(act_obj);
    const py::ssize_t m = x.shape(0), k = x.shape(1), n = w.shape(1);
    require_size(w, "w", 0, k, [&] { return "the columns of x, " + shape_str(x); });
    if (y.shape(0) != m || y.shape(1) != n)
        throw py::value_error("y must have shape (" + std::to_string(m) + ", " + std::to_string(n) +
                              ") (rows of x, columns of w), got " + shape_str(y));
    require_same_shape(y, "y", dy, "dy");
    const std::initializer_list<std::pair<const py::array*, const char*>> inputs = {
        {&x, "x"}, {&w, "w"}, {&y, "y"}, {&dy, "dy"}};
    py::array dw = output(dw_out, "dw_out", x, k, n, inputs);
    py::array dx = need_dx ? output(dx_out, "dx_out", x, m, k, inputs) : py::array();
    py::array db = need_db ? vector_output(db_out, "db_out", x, n, inputs) : py::array();
    if (need_dx) require_no_overlap(dx, "dx_out", dw, "dw_out");
    if (need_db) require_no_overlap(db, "db_out", dw, "dw_out");
    if (need_dx && need_db) require_no_overlap(db, "db_out", dx, "dx_out");
    dispatch_dtype(x, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(int64_t(m) * n * k);
        kernels<T>().dense_backward(need_dx ? ptr<T>(dx) : nullptr, ptr<T>(dw), need_db ? ptr<T>(db) : nullptr,
                                    ptr<const T>(x), ptr<const T>(w), ptr<const T>(y), ptr<const T>(dy), m, k, n, act);
    });
    return py::make_tuple(need_dx ? py::object(dx) : py::object(py::none()), dw,
                          need_db ? py::object(db) : py::object(py::none()));
}

}  // namespace

// Positional only (keyword matching is slow in pybind11): nnfast.ops gives the keyword signatures.
void register_dense(py::module_& m) {
    m.def("gemm", &gemm);
    m.def("dense_forward", &dense_forward);
    m.def("dense_backward", &dense_backward);
}

}  // namespace bindings
}  // namespace nnfast
