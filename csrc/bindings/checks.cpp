#include "bindings/checks.h"

#include <cstdint>
#include <cstring>

namespace nnfast {
namespace bindings {

bool native_byte_order(char byteorder) {
    const uint16_t one = 1;
    const bool little = *reinterpret_cast<const uint8_t*>(&one) == 1;
    return byteorder == '=' || byteorder == '|' || byteorder == (little ? '<' : '>');
}

py::array float_array(py::handle obj, const char* name) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(name) + " must be a numpy.ndarray of float32 or float64, got " +
                             std::string(py::str(py::type::of(obj).attr("__name__"))));
    py::array a = py::reinterpret_borrow<py::array>(obj);
    const py::dtype dt = a.dtype();
    // A byte-swapped float (">f4" on x86) has kind 'f' too, but kernels would misread its bytes.
    if (dt.kind() != 'f' || (a.itemsize() != 4 && a.itemsize() != 8) || !native_byte_order(dt.byteorder()))
        throw py::type_error(std::string(name) + " must have dtype float32 or float64, got " +
                             std::string(py::str(dt)));
    return a;
}

double real_number(py::handle obj, const char* name) {
    // A Python float or int (not a bool, whose type is a subclass) first: the common case, taken
    // without the type-name compares below (an update call reads five or so numbers each step)
    if (PyFloat_CheckExact(obj.ptr())) return PyFloat_AS_DOUBLE(obj.ptr());
    if (PyLong_CheckExact(obj.ptr())) {
        const double v = PyLong_AsDouble(obj.ptr());
        if (!(v == -1.0 && PyErr_Occurred())) return v;
        PyErr_Clear();  // beyond a double: the checks below raise what they raise for it
    }
    // numbers.Real as the reference's checks read it: not a bool, a string or an ndarray (even 0-d)
    const char* type = Py_TYPE(obj.ptr())->tp_name;  // numpy.bool (numpy.bool_ before NumPy 2) is no number either
    const bool boolean = PyBool_Check(obj.ptr()) || !std::strcmp(type, "numpy.bool") || !std::strcmp(type, "numpy.bool_");
    const bool real = !boolean && !PyUnicode_Check(obj.ptr()) && !py::isinstance<py::array>(obj) &&
                      (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) ||
                       PyObject_HasAttrString(obj.ptr(), "__float__"));
    const double v = real ? PyFloat_AsDouble(obj.ptr()) : 0.0;
    if (!real || (v == -1.0 && PyErr_Occurred())) {  // (e.g. a float subclass whose __float__ raises)
        PyErr_Clear();
        throw py::type_error(std::string(name) + " must be a real number, got " +
                             std::string(py::str(py::type::of(obj).attr("__name__"))));
    }
    return v;
}

DType dtype_of(const py::array& a) { return a.itemsize() == 4 ? DType::f32 : DType::f64; }

const char* dtype_name(DType d) { return d == DType::f32 ? "float32" : "float64"; }

std::string shape_str(const std::vector<py::ssize_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i)
        s += std::to_string(shape[i]) + (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
    return s + ")";
}

std::string shape_str(const py::array& a) { return shape_str(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim())); }

void require_c_contiguous(const py::array& a, const char* name) {
    if (!(a.flags() & py::array::c_style))
        throw py::value_error(std::string(name) +
                              " must be C-contiguous (use numpy.ascontiguousarray), got strides " +
                              std::string(py::str(a.attr("strides"))));
    if (!(a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
        throw py::value_error(std::string(name) +
                              " must be aligned: its data address is not a multiple of its item size "
                              "(use numpy.array(..., copy=True))");
}

void require_writable(const py::array& a, const char* name) {
    if (!a.writeable())
        throw py::value_error(std::string(name) + " must be writable, got a read-only array");
}

void require_ndim_at_least(const py::array& a, const char* name, py::ssize_t ndim) {
    if (a.ndim() < ndim)
        throw py::value_error(std::string(name) + " must have at least " + std::to_string(ndim) +
                              " dimension(s), got shape " + shape_str(a));
}

void require_same_dtype(const py::array& a, const char* a_name, const py::array& b,
                        const char* b_name) {
    if (dtype_of(a) != dtype_of(b))
        throw py::type_error(std::string(b_name) + " must have the dtype of " + a_name + " (" +
                             dtype_name(dtype_of(a)) + "), got " + dtype_name(dtype_of(b)));
}

void require_same_shape(const py::array& a, const char* a_name, const py::array& b,
                        const char* b_name) {
    bool same = a.ndim() == b.ndim();
    for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == b.shape(i);
    if (!same)
        throw py::value_error(std::string(b_name) + " must have the shape of " + a_name + " " +
                              shape_str(a) + ", got " + shape_str(b));
}

void require_no_partial_overlap(const py::array& out, const char* out_name, const py::array& in,
                                const char* in_name) {
    const auto o0 = reinterpret_cast<std::uintptr_t>(out.data());
    const auto i0 = reinterpret_cast<std::uintptr_t>(in.data());
    const auto o1 = o0 + static_cast<std::uintptr_t>(out.nbytes());
    const auto i1 = i0 + static_cast<std::uintptr_t>(in.nbytes());
    const bool overlap = o0 < i1 && i0 < o1;
    if (overlap && !(o0 == i0 && o1 == i1))
        throw py::value_error(std::string(out_name) + " partially overlaps " + in_name +
                              "; pass the same array for an in-place call or a separate one");
}

void require_no_overlap(const py::array& out, const char* out_name, const py::array& in, const char* in_name) {
    if (out.nbytes() == 0 || in.nbytes() == 0) return;
    const auto o0 = reinterpret_cast<std::uintptr_t>(out.data());
    const auto i0 = reinterpret_cast<std::uintptr_t>(in.data());
    if (o0 < i0 + static_cast<std::uintptr_t>(in.nbytes()) && i0 < o0 + static_cast<std::uintptr_t>(out.nbytes()))
        throw py::value_error(std::string(out_name) + " must not share memory with " + in_name);
}

py::array output_like(py::handle out, const char* name, const py::array& like) {
    std::vector<py::ssize_t> shape(like.shape(), like.shape() + like.ndim());
    if (out.is_none()) return py::array(like.dtype(), shape);
    return checked_output(out, name, like, shape);
}

py::array checked_output(py::handle out, const char* name, const py::array& like, const std::vector<py::ssize_t>& shape) {
    py::array o = float_array(out, name);
    require_same_dtype(like, "the result", o, name);
    bool same = o.ndim() == py::ssize_t(shape.size());
    for (size_t i = 0; same && i < shape.size(); ++i) same = o.shape(i) == shape[i];
    if (!same)
        throw py::value_error(std::string(name) + " must have the shape of the result " + shape_str(shape) + ", got " +
                              shape_str(o));
    require_c_contiguous(o, name);
    require_writable(o, name);
    return o;
}

const std::vector<std::string>& activation_names() {
    static const std::vector<std::string> names = {"linear", "relu", "leaky_relu",
                                                   "sigmoid", "tanh", "softmax"};
    return names;
}

Activation parse_activation(py::handle obj, const char* name) {
    if (obj.is_none()) return Activation::linear;
    if (!py::isinstance<py::str>(obj))
        throw py::type_error(std::string(name) + " must be a str or None, got " +
                             std::string(py::str(py::type::of(obj).attr("__name__"))));
    const auto& names = activation_names();
    for (size_t i = 0; i < names.size(); ++i)  // compared in place: no string is made per call
        if (PyUnicode_CompareWithASCIIString(obj.ptr(), names[i].c_str()) == 0) return static_cast<Activation>(i);
    const std::string s = obj.cast<std::string>();
    std::string valid;
    for (const auto& n : names) valid += (valid.empty() ? "'" : ", '") + n + "'";
    throw py::value_error(std::string(name) + " must be one of " + valid + " or None, got '" + s + "'");
}

void rows_cols(const py::array& a, int64_t* rows, int64_t* cols) {
    *cols = a.ndim() == 0 ? 1 : a.shape(a.ndim() - 1);
    *rows = *cols == 0 ? 0 : a.size() / *cols;
}

}  // namespace bindings
}  // namespace nnfast
