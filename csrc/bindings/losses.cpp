// The loss functions: checks (labels in range included), then the dispatched kernels under
// kernel_call.h's GIL policy. Each returns (mean loss as a float, gradient). Point-wise losses take
// arrays of any shape; row-wise ones (pred, target) of shape (batch, classes).
#include "bindings/losses.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/register.h"

namespace nnfast {
namespace bindings {

namespace {

const std::pair<const char*, Loss> kLossNames[] = {
    {"mse", Loss::mse},
    {"mae", Loss::mae},
    {"binary_cross_entropy", Loss::binary_cross_entropy},
    {"softmax_cross_entropy", Loss::softmax_cross_entropy},
    {"sigmoid_cross_entropy", Loss::sigmoid_cross_entropy},
    {"mape", Loss::mape},
    {"msle", Loss::msle},
    {"huber", Loss::huber},
    {"log_cosh", Loss::log_cosh},
    {"hinge", Loss::hinge},
    {"squared_hinge", Loss::squared_hinge},
    {"poisson", Loss::poisson},
    {"kl_divergence", Loss::kl_divergence},
    {"categorical_hinge", Loss::categorical_hinge},
    {"cosine_similarity", Loss::cosine_similarity},
    {"categorical_cross_entropy", Loss::categorical_cross_entropy},
};

bool smoothed(Loss kind) {
    return kind == Loss::binary_cross_entropy || kind == Loss::sigmoid_cross_entropy ||
           kind == Loss::softmax_cross_entropy || kind == Loss::categorical_cross_entropy;
}

}  // namespace

Loss loss_named(const std::string& name, const char* what) {
    std::string known;
    for (const auto& [n, loss] : kLossNames) {
        if (name == n) return loss;
        known += (known.empty() ? "" : ", ") + std::string(n);
    }
    throw py::value_error(std::string(what) + " must be one of " + known + ", got " + name);
}

double checked_loss_param(Loss kind, double param) {
    if (smoothed(kind) && !(param >= 0.0 && param <= 1.0))
        throw py::value_error("label_smoothing must be in [0.0, 1.0], got " + py::repr(py::float_(param)).cast<std::string>());
    if (kind == Loss::huber && std::isnan(param)) throw py::value_error("delta must be a number, got nan");
    return param;
}

namespace {

py::tuple pointwise(py::handle pred_obj, py::handle target_obj, py::handle out_obj, Loss kind, const char* pred_name,
                    double param = 0.0) {
    checked_loss_param(kind, param);
    py::array pred = float_array(pred_obj, pred_name), target = float_array(target_obj, "target");
    require_same_dtype(pred, pred_name, target, "target");
    require_same_shape(pred, pred_name, target, "target");
    require_c_contiguous(pred, pred_name);
    require_c_contiguous(target, "target");
    py::array grad = output_like(out_obj, "out", pred);
    require_no_overlap(grad, "out", pred, pred_name);
    require_no_overlap(grad, "out", target, "target");
    const int64_t n = pred.size();
    const double loss = dispatch_dtype(pred, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(n);
        return kernels<T>().pointwise_loss(ptr<T>(grad), ptr<const T>(pred), ptr<const T>(target), n, kind, param);
    });
    return py::make_tuple(loss, grad);
}

// Integer labels (B,) of any integer dtype as int64, each checked to lie in [0, classes).
py::array_t<int64_t> class_indices(const py::array& labels, py::ssize_t rows, py::ssize_t classes) {
    if (labels.ndim() != 1 || labels.shape(0) != rows)
        throw py::value_error("labels must have shape (" + std::to_string(rows) +
                              ",) (one class index per row of logits), got " + shape_str(labels));
    auto idx = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(labels);
    if (!idx) throw py::error_already_set();
    require_class_indices(idx.data(), nullptr, rows, classes);
    return idx;
}

// A row-wise loss of pred (B, C) against `target_name`: float rows (B, C) or, for the
// cross-entropies, integer class indices (B,).
py::tuple row_wise(py::handle pred_obj, py::handle labels_obj, py::handle out_obj, Loss kind, const char* pred_name,
                   const char* target_name, double param = 0.0) {
    checked_loss_param(kind, param);
    py::array z = float_array(pred_obj, pred_name);
    if (z.ndim() != 2)
        throw py::value_error(std::string(pred_name) + " must be 2-D (batch, classes), got shape " + shape_str(z));
    require_c_contiguous(z, pred_name);
    if (!py::isinstance<py::array>(labels_obj))
        throw py::type_error(std::string(target_name) + " must be a numpy.ndarray" +
                             (takes_labels(kind) ? " of class indices or of rows" : "") + ", got " +
                             std::string(py::str(py::type::of(labels_obj).attr("__name__"))));
    py::array labels = py::reinterpret_borrow<py::array>(labels_obj);
    const py::ssize_t rows = z.shape(0), cols = z.shape(1);
    const char dkind = labels.dtype().kind();
    const bool integer = takes_labels(kind) && (dkind == 'i' || dkind == 'u');
    py::array_t<int64_t> idx;
    if (integer) {
        idx = class_indices(labels, rows, cols);
    } else if (dkind == 'f' || !takes_labels(kind)) {
        labels = float_array(labels_obj, target_name);
        require_same_dtype(z, pred_name, labels, target_name);
        require_same_shape(z, pred_name, labels, target_name);
        require_c_contiguous(labels, target_name);
    } else {
        throw py::type_error(std::string(target_name) + " must hold integer class indices or float rows, got dtype " +
                             std::string(py::str(labels.dtype())));
    }
    if (rows > 0 && cols == 0)
        throw py::value_error(std::string(pred_name) + " must have at least one class (C >= 1), got shape " +
                              shape_str(z));
    py::array grad = output_like(out_obj, "out", z);
    require_no_overlap(grad, "out", z, pred_name);
    require_no_overlap(grad, "out", labels, target_name);
    const int64_t* li = integer ? idx.data() : nullptr;
    const double loss = dispatch_dtype(z, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(int64_t(rows) * cols);
        return kernels<T>().row_loss(ptr<T>(grad), ptr<const T>(z), li, integer ? nullptr : ptr<const T>(labels), rows,
                                     cols, kind, param);
    });
    return py::make_tuple(loss, grad);
}

// Registers a point-wise loss name(pred_name, target, out[, param_name = param_default]).
void def_pointwise(py::module_& m, const char* name, Loss kind, const char* pred_name,
                   const char* param_name = nullptr, double param_default = 0.0) {
    if (!param_name) {
        m.def(name, [kind, pred_name](py::handle p, py::handle t, py::handle out) {
            return pointwise(p, t, out, kind, pred_name);
        });
        return;
    }
    m.def(name, [kind, pred_name, param_name](py::handle p, py::handle t, py::handle out, py::handle param) {
        return pointwise(p, t, out, kind, pred_name, real_number(param, param_name));
    }, py::arg(pred_name), py::arg("target"), py::arg("out"), py::arg(param_name) = param_default);
}

// Registers a row-wise loss name(pred_name, target_name, out[, label_smoothing = 0.0]).
void def_row_wise(py::module_& m, const char* name, Loss kind, const char* pred_name, const char* target_name) {
    if (!takes_labels(kind)) {
        m.def(name, [kind, pred_name, target_name](py::handle p, py::handle t, py::handle out) {
            return row_wise(p, t, out, kind, pred_name, target_name);
        });
        return;
    }
    m.def(name, [kind, pred_name, target_name](py::handle p, py::handle t, py::handle out, py::handle param) {
        return row_wise(p, t, out, kind, pred_name, target_name, real_number(param, "label_smoothing"));
    }, py::arg(pred_name), py::arg(target_name), py::arg("out"), py::arg("label_smoothing") = 0.0);
}

}  // namespace

void register_losses(py::module_& m) {
    def_pointwise(m, "mse", Loss::mse, "pred");
    def_pointwise(m, "mae", Loss::mae, "pred");
    def_pointwise(m, "binary_cross_entropy", Loss::binary_cross_entropy, "prob", "label_smoothing");
    def_pointwise(m, "sigmoid_cross_entropy", Loss::sigmoid_cross_entropy, "logits", "label_smoothing");
    def_pointwise(m, "mape", Loss::mape, "pred");
    def_pointwise(m, "msle", Loss::msle, "pred");
    def_pointwise(m, "huber", Loss::huber, "pred", "delta", 1.0);
    def_pointwise(m, "log_cosh", Loss::log_cosh, "pred");
    def_pointwise(m, "hinge", Loss::hinge, "pred");
    def_pointwise(m, "squared_hinge", Loss::squared_hinge, "pred");
    def_pointwise(m, "poisson", Loss::poisson, "pred");
    def_row_wise(m, "softmax_cross_entropy", Loss::softmax_cross_entropy, "logits", "labels");
    def_row_wise(m, "categorical_cross_entropy", Loss::categorical_cross_entropy, "prob", "labels");
    def_row_wise(m, "kl_divergence", Loss::kl_divergence, "pred", "target");
    def_row_wise(m, "categorical_hinge", Loss::categorical_hinge, "pred", "target");
    def_row_wise(m, "cosine_similarity", Loss::cosine_similarity, "pred", "target");
}

}  // namespace bindings
}  // namespace nnfast
