// Argument checks shared by every binding. Each raises TypeError/ValueError naming the argument,
// the expected and the given value, before any kernel touches memory.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "common/types.h"

namespace nnfast {
namespace bindings {

namespace py = pybind11;

enum class DType { f32, f64 };

// `obj` as a float32/float64 ndarray; TypeError for anything else (no silent conversion).
py::array float_array(py::handle obj, const char* name);
// Whether a numpy byteorder character ('=', '|', '<', '>') is this machine's order.
bool native_byte_order(char byteorder);
// `obj` as a double: a Python or NumPy real number; bools, strings and arrays (0-d included, as
// nnfast.utils.checks.real) are a TypeError naming `name`. Ranges are the caller's to check.
double real_number(py::handle obj, const char* name);
DType dtype_of(const py::array& a);
const char* dtype_name(DType d);

// C-contiguous and aligned to its item size (kernels may use aligned vector loads).
void require_c_contiguous(const py::array& a, const char* name);
void require_writable(const py::array& a, const char* name);
void require_ndim_at_least(const py::array& a, const char* name, py::ssize_t ndim);
void require_same_dtype(const py::array& a, const char* a_name, const py::array& b,
                        const char* b_name);
void require_same_shape(const py::array& a, const char* a_name, const py::array& b,
                        const char* b_name);
// ValueError when `out` overlaps `in` other than exactly (same start, same size): an exact
// alias is an in-place call, a shifted one would read what it already wrote.
void require_no_partial_overlap(const py::array& out, const char* out_name, const py::array& in,
                                const char* in_name);
// ValueError when `out` shares any byte with `in` (outputs that kernels cannot write in place).
void require_no_overlap(const py::array& out, const char* out_name, const py::array& in, const char* in_name);
std::string shape_str(const py::array& a);
std::string shape_str(const std::vector<py::ssize_t>& shape);  // "(2, 3)", "(4,)", "()"

// An ndarray for output: `out` checked against the expected shape and dtype, or a new array.
py::array output_like(py::handle out, const char* name, const py::array& like);
// `out` checked as a result of like's dtype and the given shape: C-contiguous and writable.
py::array checked_output(py::handle out, const char* name, const py::array& like, const std::vector<py::ssize_t>& shape);

Activation parse_activation(py::handle obj, const char* name = "activation");
const std::vector<std::string>& activation_names();

// (rows, cols) view of an array for row-wise kernels: the last axis is the row.
void rows_cols(const py::array& a, int64_t* rows, int64_t* cols);

}  // namespace bindings
}  // namespace nnfast
