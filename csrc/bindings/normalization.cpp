// batch_norm_forward / batch_norm_backward / layer_norm_forward / layer_norm_backward and Keras's
// Normalization layer (normalization_forward / normalization_backward): checks (every written array
// disjoint from every other array of the call), then the dispatched kernels under kernel_call.h's
// GIL policy. Batch and layer norm forward return (y, mean, inv_std), backward (dx, dgamma, dbeta).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/register.h"

namespace nnfast {
namespace bindings {
namespace {

using Named = std::pair<const py::array*, const char*>;

std::string repr(double v) { return py::repr(py::float_(v)).cast<std::string>(); }

// x: a 2-D (batch, features) C-contiguous float32/float64 array.
py::array data_matrix(py::handle obj) {
    py::array x = float_array(obj, "x");
    if (x.ndim() != 2) throw py::value_error("x must be 2-D (batch, features), got shape " + shape_str(x));
    require_c_contiguous(x, "x");
    return x;
}

// A (n,) C-contiguous array of x's dtype; `what` says where n comes from.
py::array vector_of(py::handle obj, const char* name, const py::array& x, py::ssize_t n, const char* what) {
    py::array a = float_array(obj, name);
    require_same_dtype(x, "x", a, name);
    if (a.ndim() != 1 || a.shape(0) != n)
        throw py::value_error(std::string(name) + " must have shape (" + std::to_string(n) + ",) (" + what +
                              "), got " + shape_str(a));
    require_c_contiguous(a, name);
    return a;
}

// As vector_of, or an empty array (no bytes, so it overlaps nothing) for None.
py::array optional_vector(py::handle obj, const char* name, const py::array& x, py::ssize_t n, const char* what) {
    return obj.is_none() ? py::array() : vector_of(obj, name, x, n, what);
}

// `out` checked as a result of x's dtype and the given shape, or a new array.
py::array result(py::handle out, const char* name, const py::array& x, std::vector<py::ssize_t> shape) {
    return out.is_none() ? py::array(x.dtype(), shape) : checked_output(out, name, x, shape);
}

// ValueError when an array of `written` shares memory with another array of `written` or `read`.
void require_disjoint(std::initializer_list<Named> written, std::initializer_list<Named> read) {
    for (auto w = written.begin(); w != written.end(); ++w) {
        for (auto o = written.begin(); o != w; ++o) require_no_overlap(*w->first, w->second, *o->first, o->second);
        for (const auto& r : read) require_no_overlap(*w->first, w->second, *r.first, r.second);
    }
}

// The arrays both forward ops share: x (rows, cols), gamma and beta (cols) or absent, and the
// results y (rows, cols), mean and inv_std (`stats` items: cols per feature, rows per row).
struct Forward {
    py::array x, gamma, beta, y, mean, inv_std;
    bool has_gamma, has_beta;
    int64_t rows, cols;

    Forward(py::handle x_obj, py::handle gamma_obj, py::handle beta_obj, py::handle out, py::handle mean_out,
            py::handle inv_std_out, bool per_row) {
        x = data_matrix(x_obj);
        rows = x.shape(0), cols = x.shape(1);
        gamma = optional_vector(gamma_obj, "gamma", x, cols, "the features of x");
        beta = optional_vector(beta_obj, "beta", x, cols, "the features of x");
        has_gamma = !gamma_obj.is_none(), has_beta = !beta_obj.is_none();
        const py::ssize_t stats = per_row ? rows : cols;
        y = result(out, "out", x, {rows, cols});
        mean = result(mean_out, "mean_out", x, {stats});
        inv_std = result(inv_std_out, "inv_std_out", x, {stats});
    }
    template <class T>
    const T* gamma_ptr() const { return has_gamma ? ptr<const T>(gamma) : nullptr; }
    template <class T>
    const T* beta_ptr() const { return has_beta ? ptr<const T>(beta) : nullptr; }
    py::tuple results() const { return py::make_tuple(y, mean, inv_std); }
};

py::tuple batch_norm_forward(py::handle x_obj, py::handle gamma_obj, py::handle beta_obj, py::handle moving_mean_obj,
                             py::handle moving_var_obj, bool training, double momentum, double epsilon,
                             py::handle out, py::handle mean_out, py::handle inv_std_out) {
    Forward f(x_obj, gamma_obj, beta_obj, out, mean_out, inv_std_out, false);
    py::array mm = vector_of(moving_mean_obj, "moving_mean", f.x, f.cols, "the features of x");
    py::array mv = vector_of(moving_var_obj, "moving_var", f.x, f.cols, "the features of x");
    if (training) {  // updated in place
        require_writable(mm, "moving_mean");
        require_writable(mv, "moving_var");
    }
    if (!(momentum >= 0.0 && momentum <= 1.0))
        throw py::value_error("momentum must be in [0.0, 1.0], got " + repr(momentum));
    if (!(epsilon >= 0.0)) throw py::value_error("epsilon must be >= 0.0, got " + repr(epsilon));
    if (training && f.rows == 0)
        throw py::value_error("x must have at least one row when training (no batch statistics), got shape " +
                              shape_str(f.x));
    require_disjoint({{&f.y, "out"}, {&f.mean, "mean_out"}, {&f.inv_std, "inv_std_out"}, {&mm, "moving_mean"},
                      {&mv, "moving_var"}},
                     {{&f.x, "x"}, {&f.gamma, "gamma"}, {&f.beta, "beta"}});
    dispatch_dtype(f.x, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(f.rows * f.cols);
        kernels<T>().batch_norm_forward(ptr<T>(f.y), ptr<T>(f.mean), ptr<T>(f.inv_std), ptr<T>(mm), ptr<T>(mv),
                                        ptr<const T>(f.x), f.gamma_ptr<T>(), f.beta_ptr<T>(), f.rows, f.cols,
                                        training, momentum, epsilon);
    });
    return f.results();
}

py::tuple layer_norm_forward(py::handle x_obj, py::handle gamma_obj, py::handle beta_obj, double epsilon,
                             py::handle out, py::handle mean_out, py::handle inv_std_out) {
    Forward f(x_obj, gamma_obj, beta_obj, out, mean_out, inv_std_out, true);
    if (!(epsilon >= 0.0)) throw py::value_error("epsilon must be >= 0.0, got " + repr(epsilon));
    if (f.cols == 0)
        throw py::value_error("x must have at least one feature (no row statistics), got shape " + shape_str(f.x));
    require_disjoint({{&f.y, "out"}, {&f.mean, "mean_out"}, {&f.inv_std, "inv_std_out"}},
                     {{&f.x, "x"}, {&f.gamma, "gamma"}, {&f.beta, "beta"}});
    dispatch_dtype(f.x, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(f.rows * f.cols);
        kernels<T>().layer_norm_forward(ptr<T>(f.y), ptr<T>(f.mean), ptr<T>(f.inv_std), ptr<const T>(f.x),
                                        f.gamma_ptr<T>(), f.beta_ptr<T>(), f.rows, f.cols, epsilon);
    });
    return f.results();
}

// Both backward ops: x, dy (rows, cols), gamma (cols) or None, mean and inv_std as forward returned
// them (cols items for batch norm, rows for layer norm); dgamma and dbeta only when needed.
py::tuple norm_backward(py::handle x_obj, py::handle gamma_obj, py::handle mean_obj, py::handle inv_std_obj,
                        py::handle dy_obj, bool per_row, bool training, bool need_dgamma, bool need_dbeta,
                        py::handle dx_out, py::handle dgamma_out, py::handle dbeta_out) {
    py::array x = data_matrix(x_obj);
    const int64_t rows = x.shape(0), cols = x.shape(1);
    const char* stats_what = per_row ? "the rows of x" : "the features of x";
    py::array gamma = optional_vector(gamma_obj, "gamma", x, cols, "the features of x");
    py::array mean = vector_of(mean_obj, "mean", x, per_row ? rows : cols, stats_what);
    py::array inv_std = vector_of(inv_std_obj, "inv_std", x, per_row ? rows : cols, stats_what);
    py::array dy = float_array(dy_obj, "dy");
    require_same_dtype(x, "x", dy, "dy");
    require_same_shape(x, "x", dy, "dy");
    require_c_contiguous(dy, "dy");
    py::array dx = result(dx_out, "dx_out", x, {rows, cols});
    py::array dgamma = need_dgamma ? result(dgamma_out, "dgamma_out", x, {cols}) : py::array();
    py::array dbeta = need_dbeta ? result(dbeta_out, "dbeta_out", x, {cols}) : py::array();
    require_disjoint({{&dx, "dx_out"}, {&dgamma, "dgamma_out"}, {&dbeta, "dbeta_out"}},
                     {{&x, "x"}, {&gamma, "gamma"}, {&mean, "mean"}, {&inv_std, "inv_std"}, {&dy, "dy"}});
    const bool has_gamma = !gamma_obj.is_none();
    dispatch_dtype(x, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(rows * cols);
        T* dg = need_dgamma ? ptr<T>(dgamma) : nullptr;
        T* db = need_dbeta ? ptr<T>(dbeta) : nullptr;
        const T* g = has_gamma ? ptr<const T>(gamma) : nullptr;
        if (per_row)
            kernels<T>().layer_norm_backward(ptr<T>(dx), dg, db, ptr<const T>(x), g, ptr<const T>(mean),
                                             ptr<const T>(inv_std), ptr<const T>(dy), rows, cols);
        else
            kernels<T>().batch_norm_backward(ptr<T>(dx), dg, db, ptr<const T>(x), g, ptr<const T>(mean),
                                             ptr<const T>(inv_std), ptr<const T>(dy), rows, cols, training);
    });
    return py::make_tuple(dx, need_dgamma ? py::object(dgamma) : py::object(py::none()),
                          need_dbeta ? py::object(dbeta) : py::object(py::none()));
}

py::tuple batch_norm_backward(py::handle x, py::handle gamma, py::handle mean, py::handle inv_std, py::handle dy,
                              bool training, bool need_dgamma, bool need_dbeta, py::handle dx_out,
                              py::handle dgamma_out, py::handle dbeta_out) {
    return norm_backward(x, gamma, mean, inv_std, dy, false, training, need_dgamma, need_dbeta, dx_out, dgamma_out,
                         dbeta_out);
}

py::tuple layer_norm_backward(py::handle x, py::handle gamma, py::handle mean, py::handle inv_std, py::handle dy,
                              bool need_dgamma, bool need_dbeta, py::handle dx_out, py::handle dgamma_out,
                              py::handle dbeta_out) {
    return norm_backward(x, gamma, mean, inv_std, dy, true, true, need_dgamma, need_dbeta, dx_out, dgamma_out,
                         dbeta_out);
}

// Keras's Normalization layer: y = (x - mean) / max(sqrt(variance), 1e-7), or with invert
// mean + x * max(sqrt(variance), 1e-7); x (rows, cols), mean and variance (cols).
py::array normalization_forward(py::handle x_obj, py::handle mean_obj, py::handle variance_obj, bool invert,
                                py::handle out) {
    py::array x = data_matrix(x_obj);
    const int64_t rows = x.shape(0), cols = x.shape(1);
    py::array mean = vector_of(mean_obj, "mean", x, cols, "the features of x");
    py::array variance = vector_of(variance_obj, "variance", x, cols, "the features of x");
    py::array y = result(out, "out", x, {rows, cols});
    require_disjoint({{&y, "out"}}, {{&x, "x"}, {&mean, "mean"}, {&variance, "variance"}});
    dispatch_dtype(x, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(rows * cols);
        kernels<T>().normalization_forward(ptr<T>(y), ptr<const T>(x), ptr<const T>(mean), ptr<const T>(variance),
                                           rows, cols, invert);
    });
    return y;
}

// Its input gradient: dx = dy / max(sqrt(variance), 1e-7) (times it with invert); dy (rows, cols).
py::array normalization_backward(py::handle dy_obj, py::handle variance_obj, bool invert, py::handle out) {
    py::array dy = float_array(dy_obj, "dy");
    if (dy.ndim() != 2) throw py::value_error("dy must be 2-D (batch, features), got shape " + shape_str(dy));
    require_c_contiguous(dy, "dy");
    const int64_t rows = dy.shape(0), cols = dy.shape(1);
    py::array variance = float_array(variance_obj, "variance");
    require_same_dtype(dy, "dy", variance, "variance");
    if (variance.ndim() != 1 || variance.shape(0) != cols)
        throw py::value_error("variance must have shape (" + std::to_string(cols) + ",) (the features of dy), got " +
                              shape_str(variance));
    require_c_contiguous(variance, "variance");
    py::array dx = result(out, "out", dy, {rows, cols});
    require_disjoint({{&dx, "out"}}, {{&variance, "variance"}});
    require_no_partial_overlap(dx, "out", dy, "dy");
    dispatch_dtype(dy, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(rows * cols);
        kernels<T>().normalization_backward(ptr<T>(dx), ptr<const T>(dy), ptr<const T>(variance), rows, cols, invert);
    });
    return dx;
}

}  // namespace

// Positional only (keyword matching is slow in pybind11): nnfast.ops gives the keyword signatures.
void register_normalization(py::module_& m) {
    m.def("batch_norm_forward", &batch_norm_forward);
    m.def("batch_norm_backward", &batch_norm_backward);
    m.def("layer_norm_forward", &layer_norm_forward);
    m.def("layer_norm_backward", &layer_norm_backward);
    m.def("normalization_forward", &normalization_forward);
    m.def("normalization_backward", &normalization_backward);
}

}  // namespace bindings
}  // namespace nnfast
