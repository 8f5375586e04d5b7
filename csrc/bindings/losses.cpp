// mse / mae / binary_cross_entropy / softmax_cross_entropy: checks (labels in range included),
// then the dispatched kernels under kernel_call.h's GIL policy. Each returns (mean loss as a float, gradient).
#include <cstdint>
#include <string>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/register.h"

namespace nnfast {
namespace bindings {
namespace {

py::tuple pointwise(py::handle pred_obj, py::handle target_obj, py::handle out_obj, Loss kind,
                    const char* pred_name) {
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
        return kernels<T>().pointwise_loss(ptr<T>(grad), ptr<const T>(pred), ptr<const T>(target), n, kind);
    });
    return py::make_tuple(loss, grad);
}

py::tuple mse(py::handle pred, py::handle target, py::handle out) { return pointwise(pred, target, out, Loss::mse, "pred"); }
py::tuple mae(py::handle pred, py::handle target, py::handle out) { return pointwise(pred, target, out, Loss::mae, "pred"); }
py::tuple bce(py::handle prob, py::handle target, py::handle out) {
    return pointwise(prob, target, out, Loss::binary_cross_entropy, "prob");
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

py::tuple softmax_cross_entropy(py::handle logits_obj, py::handle labels_obj, py::handle out_obj) {
    py::array z = float_array(logits_obj, "logits");
    if (z.ndim() != 2) throw py::value_error("logits must be 2-D (batch, classes), got shape " + shape_str(z));
    require_c_contiguous(z, "logits");
    if (!py::isinstance<py::array>(labels_obj))
        throw py::type_error("labels must be a numpy.ndarray of class indices or of rows, got " +
                             std::string(py::str(py::type::of(labels_obj).attr("__name__"))));
    py::array labels = py::reinterpret_borrow<py::array>(labels_obj);
    const py::ssize_t rows = z.shape(0), cols = z.shape(1);
    const char kind = labels.dtype().kind();
    py::array_t<int64_t> idx;
    if (kind == 'i' || kind == 'u') {
        idx = class_indices(labels, rows, cols);
    } else if (kind == 'f') {
        labels = float_array(labels_obj, "labels");
        require_same_dtype(z, "logits", labels, "labels");
        require_same_shape(z, "logits", labels, "labels");
        require_c_contiguous(labels, "labels");
    } else {
        throw py::type_error("labels must hold integer class indices or float rows, got dtype " +
                             std::string(py::str(labels.dtype())));
    }
    if (rows > 0 && cols == 0) throw py::value_error("logits must have at least one class (C >= 1), got shape " + shape_str(z));
    py::array grad = output_like(out_obj, "out", z);
    require_no_overlap(grad, "out", z, "logits");
    require_no_overlap(grad, "out", labels, "labels");
    const int64_t* li = kind == 'f' ? nullptr : idx.data();
    const double loss = dispatch_dtype(z, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(int64_t(rows) * cols);
        return kernels<T>().softmax_cross_entropy(ptr<T>(grad), ptr<const T>(z), li,
                                                  kind == 'f' ? ptr<const T>(labels) : nullptr, rows, cols);
    });
    return py::make_tuple(loss, grad);
}

}  // namespace

void register_losses(py::module_& m) {
    m.def("mse", &mse);
    m.def("mae", &mae);
    m.def("binary_cross_entropy", &bce);
    m.def("softmax_cross_entropy", &softmax_cross_entropy);
}

}  // namespace bindings
}  // namespace nnfast
