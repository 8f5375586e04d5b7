// embedding_backward: checks (every index in range, before anything is written), then the
// dispatched kernel under the GIL policy of kernel_call.h.
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/register.h"

namespace nnfast {
namespace bindings {
namespace {

// indices as a C-contiguous int64 array of n values, each in [0, rows).
py::array_t<int64_t> table_indices(py::handle obj, py::ssize_t n, int64_t rows) {
    if (!py::isinstance<py::array>(obj)) throw py::type_error("indices must be a numpy.ndarray of integers");
    py::array given = py::reinterpret_borrow<py::array>(obj);
    if (given.dtype().kind() != 'i' && given.dtype().kind() != 'u')
        throw py::type_error("indices must be a numpy.ndarray of integers, got dtype " +
                             std::string(py::str(given.dtype())));
    if (given.ndim() != 1 || given.shape(0) != n)
        throw py::value_error("indices must have shape (" + std::to_string(n) + ",) (one per row of dy), got " +
                              shape_str(given));
    auto idx = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(given);
    if (!idx) throw py::error_already_set();
    require_class_indices(idx.data(), nullptr, n, rows, "indices must be");
    return idx;
}

py::array embedding_backward(py::handle dy_obj, py::handle indices_obj, int64_t rows, py::handle out_obj) {
    py::array dy = float_array(dy_obj, "dy");
    if (dy.ndim() != 2) throw py::value_error("dy must be 2-D (n, cols), got shape " + shape_str(dy));
    require_c_contiguous(dy, "dy");
    if (rows < 0) throw py::value_error("rows must be >= 0, got " + std::to_string(rows));
    const py::ssize_t n = dy.shape(0), cols = dy.shape(1);
    py::array_t<int64_t> idx = table_indices(indices_obj, n, rows);
    py::array dw = out_obj.is_none() ? py::array(dy.dtype(), std::vector<py::ssize_t>{py::ssize_t(rows), cols})
                                     : checked_output(out_obj, "out", dy, {py::ssize_t(rows), cols});
    require_no_overlap(dw, "out", dy, "dy");
    require_no_overlap(dw, "out", idx, "indices");
    dispatch_dtype(dy, [&](auto t) {
        using T = decltype(t);
        GilRelease nogil(rows * cols + n * cols);
        kernels<T>().embedding_backward(ptr<T>(dw), ptr<const T>(dy), idx.data(), n, rows, cols);
    });
    return dw;
}

}  // namespace

void register_embedding(py::module_& m) { m.def("embedding_backward", &embedding_backward); }

}  // namespace bindings
}  // namespace nnfast
