// sgd_update / adagrad_update / rmsprop_update / adam_update / adamax_update / nadam_update /
// radam_update / adadelta_update / lion_update / ftrl_update: the functional, in-place,
// multi-tensor optimizer steps (same signatures as nnfast.reference). Every argument is checked
// before the kernel runs, so a rejected call modifies nothing.
#include <Python.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/optim_step.h"
#include "bindings/register.h"
#include "model/learning_rate.h"

namespace nnfast {
namespace bindings {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")); }

std::string fmt(double v) {
    std::string s = py::str(py::float_(v));
    return s;
}

// A real number in [lo, hi] (or [lo, hi) when hi_open); bools and strings are TypeErrors.
double hyper(py::handle obj, const char* name, double lo = 0.0, double hi = kInf, bool hi_open = false) {
    const double v = real_number(obj, name);
    if (!(lo <= v && v <= hi) || (hi_open && v == hi))
        throw py::value_error(std::string(name) + " must be in [" + fmt(lo) + ", " + fmt(hi) +
                              (hi_open ? ")" : "]") + ", got " + std::string(py::repr(obj)));
    return v;
}

int64_t step_count(py::handle obj) {
    if (PyBool_Check(obj.ptr()) || !PyIndex_Check(obj.ptr()))
        throw py::type_error("step must be an int (the 1-based step count), got " + type_name(obj));
    const long long v = PyLong_AsLongLong(obj.ptr());
    if (v == -1 && PyErr_Occurred()) {  // beyond 64 bits, or an array of several elements (__index__ fails)
        const bool overflow = PyErr_ExceptionMatches(PyExc_OverflowError);
        PyErr_Clear();
        if (overflow)
            throw py::value_error("step must be < 2**63 (the 1-based step count), got " + std::string(py::repr(obj)));
        throw py::type_error("step must be an int (the 1-based step count), got " + type_name(obj));
    }
    if (v < 1) throw py::value_error("step must be >= 1 (the 1-based step count), got " + std::to_string(v));
    return v;
}

Convention convention_of(py::handle obj, bool allow_dlfs) {
    if (PyUnicode_Check(obj.ptr())) {  // compared in place: no string is built on a valid call
        if (PyUnicode_CompareWithASCIIString(obj.ptr(), "keras") == 0) return Convention::keras;
        if (PyUnicode_CompareWithASCIIString(obj.ptr(), "torch") == 0) return Convention::torch;
        if (allow_dlfs && PyUnicode_CompareWithASCIIString(obj.ptr(), "dlfs") == 0) return Convention::dlfs;
    }
    const std::string valid = allow_dlfs ? "'keras', 'torch', 'dlfs'" : "'keras', 'torch'";
    throw py::value_error("convention must be one of " + valid + ", got " + std::string(py::repr(obj)));
}

// obj's truth value (as the reference's `if obj`); an object without one (an array of several
// elements) is a TypeError, never a pending Python error.
bool flag(py::handle obj, const char* name) {
    const int truth = PyObject_IsTrue(obj.ptr());
    if (truth < 0) {
        PyErr_Clear();
        throw py::type_error(std::string(name) + " must be True or False, got " + type_name(obj));
    }
    return truth == 1;
}

// A list of arrays as the caller named it: a list/tuple, or one ndarray (a one-element list).
struct ArrayList {
    const char* name;
    std::vector<py::array> arrays;
    bool writable;  // updated in place
};

ArrayList array_list(py::handle obj, const char* name, bool writable) {
    ArrayList out{name, {}, writable};
    if (py::isinstance<py::array>(obj)) {
        out.arrays.push_back(py::reinterpret_borrow<py::array>(obj));
    } else if (PyList_Check(obj.ptr()) || PyTuple_Check(obj.ptr())) {
        py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
        out.arrays.reserve(seq.size());
        for (size_t i = 0; i < seq.size(); ++i) {
            py::handle item = seq[i];
            if (!py::isinstance<py::array>(item))
                throw py::type_error(std::string(name) + "[" + std::to_string(i) +
                                     "] must be a numpy.ndarray, got " + type_name(item));
            out.arrays.push_back(py::reinterpret_borrow<py::array>(item));
        }
    } else {
        throw py::type_error(std::string(name) + " must be a list of numpy.ndarray (or one ndarray), got " +
                             type_name(obj));
    }
    return out;
}

std::string label(const ArrayList& l, size_t i) { return std::string(l.name) + "[" + std::to_string(i) + "]"; }

struct Span {  // an array's bytes, for overlap checks
    uintptr_t begin, end;
    const ArrayList* list;
    size_t index;
};

// The lists of one update call, in place: params first, grads second, then the state slots the
// options need (a step's calls build no vector of them: each allocation costs about 50 ns of a
// call that SGD makes on 1e5 floats in 8 us).
struct CallLists {
    const ArrayList* lists[5];
    size_t count = 0;
    void add(const ArrayList* l) { lists[count++] = l; }
    const ArrayList* const* begin() const { return lists; }
    const ArrayList* const* end() const { return lists + count; }
};

// Checks every list of a multi-tensor call and returns the common dtype. See docs/design.md, "Bad
// input".
DType check_group(const CallLists& lists) {
    const ArrayList& params = *lists.lists[0];
    const size_t n = params.arrays.size();
    for (const ArrayList* l : lists)
        if (l->arrays.size() != n)
            throw py::value_error(std::string(l->name) + " must have one array per param (" +
                                  std::to_string(n) + "), got " + std::to_string(l->arrays.size()));
    if (n == 0) return DType::f32;
    bool have_dtype = false;
    DType dtype = DType::f32;
    const ArrayList* first_list = nullptr;
    size_t first_index = 0;
    thread_local std::vector<Span> written, read;  // kept from call to call, with their capacity
    written.clear();
    read.clear();
    for (size_t i = 0; i < n; ++i) {
        const py::array& w = params.arrays[i];
        for (const ArrayList* l : lists) {
            const py::array& a = l->arrays[i];
            // Fast checks first; the messages (and their strings) are built only on failure.
            const auto* descr = py::detail::array_descriptor_proxy(py::detail::array_proxy(a.ptr())->descr);
            const bool is_float = descr->kind == 'f' && (a.itemsize() == 4 || a.itemsize() == 8) &&
                                  native_byte_order(descr->byteorder);
            if (!is_float)
                throw py::type_error(label(*l, i) + " must have dtype float32 or float64, got " +
                                     std::string(py::str(a.dtype())));
            if (!have_dtype) {
                dtype = dtype_of(a), first_list = l, first_index = i, have_dtype = true;
            } else if (dtype_of(a) != dtype) {
                throw py::type_error(label(*l, i) + " must have the dtype of " + label(*first_list, first_index) +
                                     " (" + dtype_name(dtype) + "), got " + dtype_name(dtype_of(a)));
            }
            bool same_shape = a.ndim() == w.ndim();
            for (py::ssize_t d = 0; same_shape && d < a.ndim(); ++d) same_shape = a.shape(d) == w.shape(d);
            if (!same_shape) require_same_shape(w, label(params, i).c_str(), a, label(*l, i).c_str());
            if (!(a.flags() & py::array::c_style) || !(a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
                require_c_contiguous(a, label(*l, i).c_str());
            if (l->writable && !a.writeable()) require_writable(a, label(*l, i).c_str());
            if (a.nbytes() == 0) continue;
            const auto b = reinterpret_cast<uintptr_t>(a.data());
            (l->writable ? written : read).push_back(Span{b, b + uintptr_t(a.nbytes()), l, i});
        }
    }
    // Arrays written in place must be disjoint from each other and from every gradient.
    auto by_begin = [](const Span& x, const Span& y) { return x.begin < y.begin; };
    std::sort(written.begin(), written.end(), by_begin);
    auto clash = [](const Span& x, const Span& y) {
        return py::value_error(label(*x.list, x.index) + " must not share memory with " +
                               label(*y.list, y.index) + " (updated in place)");
    };
    for (size_t k = 1; k < written.size(); ++k)
        if (written[k].begin < written[k - 1].end) throw clash(written[k], written[k - 1]);
    for (const Span& r : read) {
        auto it = std::upper_bound(written.begin(), written.end(), r, by_begin);  // first starting after r
        if (it != written.end() && it->begin < r.end) throw clash(r, *it);
        if (it != written.begin() && std::prev(it)->end > r.begin) throw clash(r, *std::prev(it));
    }
    return dtype;
}

// *ts = the tensors of params, grads and the state slots slots[0 .. 3) (nullptr where unused).
template <class T>
void tensors_of(std::vector<OptimTensor<T>>* ts, const ArrayList& params, const ArrayList& grads,
                const ArrayList* const slots[3]) {
    const size_t n = params.arrays.size();
    ts->resize(n);
    int64_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
        OptimTensor<T>& t = (*ts)[i];
        t.param = ptr<T>(params.arrays[i]);
        t.grad = ptr<const T>(grads.arrays[i]);
        for (size_t k = 0; k < 3; ++k) t.state[k] = slots[k] ? ptr<T>(slots[k]->arrays[i]) : nullptr;
        t.size = params.arrays[i].size();
        t.offset = offset;
        offset += t.size;
    }
}

// Checks the lists, then runs the update kernel of `kind`. `slots` are the state lists, nullptr for
// a slot the options do not use (its argument is then ignored, as in the reference).
void run(OptimizerKind kind, const ArrayList& params, const ArrayList& grads,
         std::initializer_list<const ArrayList*> slots, const OptimStep& step) {
    CallLists all;
    all.add(&params);
    all.add(&grads);
    const ArrayList* positional[3] = {nullptr, nullptr, nullptr};
    size_t k = 0;
    for (const ArrayList* s : slots) {
        if (s) all.add(s);
        positional[k++] = s;
    }
    const DType dtype = check_group(all);
    dispatch_dtype(dtype, [&](auto t) {
        using T = decltype(t);
        thread_local std::vector<OptimTensor<T>> ts;  // kept with its capacity; the call does not re-enter
        tensors_of<T>(&ts, params, grads, positional);
        const auto kernel = update_kernel(kernels<T>(), kind);
        GilRelease nogil(ts.empty() ? 0 : ts.back().offset + ts.back().size);
        kernel(ts.data(), int64_t(ts.size()), step);
    });
}

// The state list named `name`, when `needed`; a ValueError if it is needed and None.
std::optional<ArrayList> slot(py::handle obj, const char* name, bool needed, const char* reason) {
    if (!needed) return std::nullopt;
    if (obj.is_none()) throw py::value_error(std::string(name) + " must be given when " + reason);
    return array_list(obj, name, true);
}

// The list of a slot() result, or nullptr.
const ArrayList* list_of(const std::optional<ArrayList>& slot) { return slot ? &*slot : nullptr; }

OptimStep base_step(py::handle convention, bool allow_dlfs, py::handle learning_rate, py::handle weight_decay) {
    OptimStep s{};
    s.convention = convention_of(convention, allow_dlfs);
    s.step = 1;
    s.learning_rate = hyper(learning_rate, "learning_rate");
    s.weight_decay = hyper(weight_decay, "weight_decay");
    return s;
}

// torch's maximize: a ValueError when set under keras, which has no such option.
bool maximize_flag(py::handle maximize, Convention convention) {
    const bool on = flag(maximize, "maximize");
    if (on && convention != Convention::torch)
        throw py::value_error("maximize is only defined for convention='torch', got " + std::string(py::repr(maximize)));
    return on;
}

// The checked hyperparameters of one step of each optimizer (shared by the update functions and
// by the one-call Dense-stack step).
OptimStep sgd_step(py::handle step, py::handle learning_rate, py::handle momentum, py::handle nesterov,
                   py::handle dampening, py::handle weight_decay, py::handle maximize, py::handle convention) {
    OptimStep s = base_step(convention, true, learning_rate, weight_decay);
    s.step = step_count(step);
    s.maximize = maximize_flag(maximize, s.convention);
    s.momentum = hyper(momentum, "momentum", 0.0, 1.0);
    s.dampening = hyper(dampening, "dampening", 0.0, 1.0);
    s.nesterov = flag(nesterov, "nesterov");
    if (s.convention != Convention::torch && s.dampening != 0)
        throw py::value_error("dampening is only defined for convention='torch', got " + std::string(py::repr(dampening)));
    if (s.convention == Convention::torch && s.nesterov && (s.momentum == 0 || s.dampening != 0))
        throw py::value_error("nesterov (convention='torch') requires momentum > 0 and dampening == 0, got momentum=" +
                              fmt(s.momentum) + ", dampening=" + fmt(s.dampening));
    return s;
}

OptimStep adagrad_step(py::handle step, py::handle learning_rate, py::handle epsilon, py::handle lr_decay,
                       py::handle weight_decay, py::handle maximize, py::handle convention) {
    OptimStep s = base_step(convention, false, learning_rate, weight_decay);
    s.step = step_count(step);
    s.maximize = maximize_flag(maximize, s.convention);
    s.epsilon = hyper(epsilon, "epsilon");
    s.lr_decay = hyper(lr_decay, "lr_decay");
    if (s.convention == Convention::keras && s.lr_decay != 0)
        throw py::value_error("lr_decay is only defined for convention='torch', got " + std::string(py::repr(lr_decay)));
    return s;
}

OptimStep rmsprop_step(py::handle learning_rate, py::handle rho, py::handle epsilon, py::handle momentum,
                       py::handle centered, py::handle weight_decay, py::handle maximize, py::handle convention) {
    OptimStep s = base_step(convention, false, learning_rate, weight_decay);
    s.maximize = maximize_flag(maximize, s.convention);
    s.rho = hyper(rho, "rho", 0.0, 1.0, true);
    s.epsilon = hyper(epsilon, "epsilon");
    s.momentum = hyper(momentum, "momentum", 0.0, 1.0);
    s.centered = flag(centered, "centered");
    return s;
}

OptimStep adam_step(py::handle step, py::handle learning_rate, py::handle beta_1, py::handle beta_2,
                    py::handle epsilon, py::handle amsgrad, py::handle weight_decay,
                    py::handle decoupled_weight_decay, py::handle maximize, py::handle convention) {
    OptimStep s = base_step(convention, false, learning_rate, weight_decay);
    s.step = step_count(step);
    s.maximize = maximize_flag(maximize, s.convention);
    s.beta_1 = hyper(beta_1, "beta_1", 0.0, 1.0, true);
    s.beta_2 = hyper(beta_2, "beta_2", 0.0, 1.0, true);
    s.epsilon = hyper(epsilon, "epsilon");
    s.amsgrad = flag(amsgrad, "amsgrad");
    s.decoupled_weight_decay = flag(decoupled_weight_decay, "decoupled_weight_decay");
    return s;
}

OptimStep adamax_step(py::handle step, py::handle learning_rate, py::handle beta_1, py::handle beta_2,
                      py::handle epsilon, py::handle weight_decay, py::handle maximize, py::handle convention) {
    OptimStep s = base_step(convention, false, learning_rate, weight_decay);
    s.step = step_count(step);
    s.beta_1 = hyper(beta_1, "beta_1", 0.0, 1.0, true);
    s.beta_2 = hyper(beta_2, "beta_2", 0.0, 1.0, true);
    s.epsilon = hyper(epsilon, "epsilon");
    s.maximize = maximize_flag(maximize, s.convention);
    return s;
}

OptimStep nadam_step(py::handle step, py::handle learning_rate, py::handle beta_1, py::handle beta_2,
                     py::handle epsilon, py::handle momentum_decay, py::handle weight_decay,
                     py::handle decoupled_weight_decay, py::handle maximize, py::handle convention) {
    OptimStep s = adamax_step(step, learning_rate, beta_1, beta_2, epsilon, weight_decay, maximize, convention);
    s.momentum_decay = hyper(momentum_decay, "momentum_decay");
    s.decoupled_weight_decay = flag(decoupled_weight_decay, "decoupled_weight_decay");
    return s;
}

OptimStep radam_step(py::handle step, py::handle learning_rate, py::handle beta_1, py::handle beta_2,
                     py::handle epsilon, py::handle weight_decay, py::handle decoupled_weight_decay,
                     py::handle maximize, py::handle convention) {
    if (!(py::isinstance<py::str>(convention) && convention.cast<std::string>() == "torch"))
        throw py::value_error("convention must be 'torch' (Keras 3 has no RAdam), got " +
                              std::string(py::repr(convention)));
    OptimStep s = adamax_step(step, learning_rate, beta_1, beta_2, epsilon, weight_decay, maximize, convention);
    s.decoupled_weight_decay = flag(decoupled_weight_decay, "decoupled_weight_decay");
    return s;
}

OptimStep adadelta_step(py::handle learning_rate, py::handle rho, py::handle epsilon, py::handle weight_decay,
                        py::handle maximize, py::handle convention) {
    OptimStep s = base_step(convention, false, learning_rate, weight_decay);
    s.rho = hyper(rho, "rho", 0.0, 1.0);
    s.epsilon = hyper(epsilon, "epsilon");
    s.maximize = maximize_flag(maximize, s.convention);
    return s;
}

OptimStep lion_step(py::handle learning_rate, py::handle beta_1, py::handle beta_2, py::handle weight_decay,
                    py::handle convention) {
    if (!(py::isinstance<py::str>(convention) && convention.cast<std::string>() == "keras"))
        throw py::value_error("convention must be 'keras' (torch.optim has no Lion), got " +
                              std::string(py::repr(convention)));
    OptimStep s = base_step(convention, false, learning_rate, weight_decay);
    s.beta_1 = hyper(beta_1, "beta_1", 0.0, 1.0);
    s.beta_2 = hyper(beta_2, "beta_2", 0.0, 1.0);
    return s;
}

OptimStep ftrl_step(py::handle learning_rate, py::handle learning_rate_power, py::handle l1, py::handle l2,
                    py::handle l2_shrinkage, py::handle beta, py::handle weight_decay, py::handle convention) {
    if (!(py::isinstance<py::str>(convention) && convention.cast<std::string>() == "keras"))
        throw py::value_error("convention must be 'keras' (torch.optim has no Ftrl), got " +
                              std::string(py::repr(convention)));
    OptimStep s = base_step(convention, false, learning_rate, weight_decay);
    s.lr_power = hyper(learning_rate_power, "learning_rate_power", -kInf, 0.0);
    s.l1 = hyper(l1, "l1_regularization_strength");
    s.l2 = hyper(l2, "l2_regularization_strength");
    s.l2_shrinkage = hyper(l2_shrinkage, "l2_shrinkage_regularization_strength");
    s.beta = hyper(beta, "beta");
    return s;
}

// The state lists of an update function, in its positional order: each one's name, and whether
// the options use it (and why, for the error when it is None). A list the options do not use is
// ignored, as in the reference.
struct StateSlot {
    const char* name = nullptr;  // nullptr: the function has no such slot
    bool needed = false;
    const char* reason = "";
};

std::array<StateSlot, 3> state_slots(OptimizerKind kind, const OptimStep& s) {
    switch (kind) {
    case OptimizerKind::sgd: return {{{"momentum_buffers", s.momentum != 0, "momentum != 0"}}};
    case OptimizerKind::adagrad: return {{{"accumulators", true, "calling adagrad_update"}}};
    case OptimizerKind::rmsprop:
        return {{{"sq_avgs", true, "calling rmsprop_update"}, {"grad_avgs", s.centered, "centered=True"},
                 {"momentum_buffers", s.momentum != 0, "momentum > 0"}}};
    case OptimizerKind::adam:
        return {{{"exp_avgs", true, "calling adam_update"}, {"exp_avg_sqs", true, "calling adam_update"},
                 {"max_exp_avg_sqs", s.amsgrad, "amsgrad=True"}}};
    case OptimizerKind::adamax:
        return {{{"exp_avgs", true, "calling adamax_update"}, {"exp_infs", true, "calling adamax_update"}}};
    case OptimizerKind::nadam:
        return {{{"exp_avgs", true, "calling nadam_update"}, {"exp_avg_sqs", true, "calling nadam_update"}}};
    case OptimizerKind::radam:
        return {{{"exp_avgs", true, "calling radam_update"}, {"exp_avg_sqs", true, "calling radam_update"}}};
    case OptimizerKind::adadelta:
        return {{{"square_avgs", true, "calling adadelta_update"}, {"acc_deltas", true, "calling adadelta_update"}}};
    case OptimizerKind::lion: return {{{"exp_avgs", true, "calling lion_update"}}};
    case OptimizerKind::ftrl:
        return {{{"accumulators", true, "calling ftrl_update"}, {"linears", true, "calling ftrl_update"}}};
    }
    return {};
}

// One update of `kind` with the checked hyperparameters `s`: the lists checked, then the kernel.
// `state` holds the function's state arguments in order (any beyond its slots are ignored).
void run_update(OptimizerKind kind, const OptimStep& s, py::handle params, py::handle grads,
                std::initializer_list<py::handle> state) {
    const ArrayList p = array_list(params, "params", true), g = array_list(grads, "grads", false);
    const std::array<StateSlot, 3> slots = state_slots(kind, s);
    std::optional<ArrayList> lists[3];
    size_t k = 0;
    for (py::handle obj : state) {
        if (k < 3 && slots[k].name) lists[k] = slot(obj, slots[k].name, slots[k].needed, slots[k].reason);
        ++k;
    }
    run(kind, p, g, {list_of(lists[0]), list_of(lists[1]), list_of(lists[2])}, s);
}

void sgd_update(py::handle params, py::handle grads, py::handle momentum_buffers, py::handle step,
                py::handle learning_rate, py::handle momentum, py::handle nesterov, py::handle dampening,
                py::handle weight_decay, py::handle maximize, py::handle convention) {
    const OptimStep s =
        sgd_step(step, learning_rate, momentum, nesterov, dampening, weight_decay, maximize, convention);
    run_update(OptimizerKind::sgd, s, params, grads, {momentum_buffers});
}

void adagrad_update(py::handle params, py::handle grads, py::handle accumulators, py::handle step,
                    py::handle learning_rate, py::handle epsilon, py::handle lr_decay,
                    py::handle weight_decay, py::handle maximize, py::handle convention) {
    const OptimStep s = adagrad_step(step, learning_rate, epsilon, lr_decay, weight_decay, maximize, convention);
    run_update(OptimizerKind::adagrad, s, params, grads, {accumulators});
}

void rmsprop_update(py::handle params, py::handle grads, py::handle sq_avgs, py::handle grad_avgs,
                    py::handle momentum_buffers, py::handle learning_rate, py::handle rho,
                    py::handle epsilon, py::handle momentum, py::handle centered,
                    py::handle weight_decay, py::handle maximize, py::handle convention) {
    const OptimStep s =
        rmsprop_step(learning_rate, rho, epsilon, momentum, centered, weight_decay, maximize, convention);
    run_update(OptimizerKind::rmsprop, s, params, grads, {sq_avgs, grad_avgs, momentum_buffers});
}

void adam_update(py::handle params, py::handle grads, py::handle exp_avgs, py::handle exp_avg_sqs,
                 py::handle max_exp_avg_sqs, py::handle step, py::handle learning_rate,
                 py::handle beta_1, py::handle beta_2, py::handle epsilon, py::handle amsgrad,
                 py::handle weight_decay, py::handle decoupled_weight_decay, py::handle maximize,
                 py::handle convention) {
    const OptimStep s = adam_step(step, learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay,
                                  decoupled_weight_decay, maximize, convention);
    run_update(OptimizerKind::adam, s, params, grads, {exp_avgs, exp_avg_sqs, max_exp_avg_sqs});
}

void adamax_update(py::handle params, py::handle grads, py::handle exp_avgs, py::handle exp_infs,
                   py::handle step, py::handle learning_rate, py::handle beta_1, py::handle beta_2,
                   py::handle epsilon, py::handle weight_decay, py::handle maximize, py::handle convention) {
    const OptimStep s = adamax_step(step, learning_rate, beta_1, beta_2, epsilon, weight_decay, maximize, convention);
    run_update(OptimizerKind::adamax, s, params, grads, {exp_avgs, exp_infs});
}

void nadam_update(py::handle params, py::handle grads, py::handle exp_avgs, py::handle exp_avg_sqs,
                  py::handle step, py::handle learning_rate, py::handle beta_1, py::handle beta_2,
                  py::handle epsilon, py::handle momentum_decay, py::handle weight_decay,
                  py::handle decoupled_weight_decay, py::handle maximize, py::handle convention) {
    const OptimStep s = nadam_step(step, learning_rate, beta_1, beta_2, epsilon, momentum_decay, weight_decay,
                                   decoupled_weight_decay, maximize, convention);
    run_update(OptimizerKind::nadam, s, params, grads, {exp_avgs, exp_avg_sqs});
}

void radam_update(py::handle params, py::handle grads, py::handle exp_avgs, py::handle exp_avg_sqs,
                  py::handle step, py::handle learning_rate, py::handle beta_1, py::handle beta_2,
                  py::handle epsilon, py::handle weight_decay, py::handle decoupled_weight_decay,
                  py::handle maximize, py::handle convention) {
    const OptimStep s = radam_step(step, learning_rate, beta_1, beta_2, epsilon, weight_decay, decoupled_weight_decay,
                                   maximize, convention);
    run_update(OptimizerKind::radam, s, params, grads, {exp_avgs, exp_avg_sqs});
}

void adadelta_update(py::handle params, py::handle grads, py::handle square_avgs, py::handle acc_deltas,
                     py::handle learning_rate, py::handle rho, py::handle epsilon, py::handle weight_decay,
                     py::handle maximize, py::handle convention) {
    const OptimStep s = adadelta_step(learning_rate, rho, epsilon, weight_decay, maximize, convention);
    run_update(OptimizerKind::adadelta, s, params, grads, {square_avgs, acc_deltas});
}

void lion_update(py::handle params, py::handle grads, py::handle exp_avgs, py::handle learning_rate,
                 py::handle beta_1, py::handle beta_2, py::handle weight_decay, py::handle convention) {
    const OptimStep s = lion_step(learning_rate, beta_1, beta_2, weight_decay, convention);
    run_update(OptimizerKind::lion, s, params, grads, {exp_avgs});
}

void ftrl_update(py::handle params, py::handle grads, py::handle accumulators, py::handle linears,
                 py::handle learning_rate, py::handle learning_rate_power, py::handle l1, py::handle l2,
                 py::handle l2_shrinkage, py::handle beta, py::handle weight_decay, py::handle convention) {
    const OptimStep s = ftrl_step(learning_rate, learning_rate_power, l1, l2, l2_shrinkage, beta, weight_decay,
                                  convention);
    run_update(OptimizerKind::ftrl, s, params, grads, {accumulators, linears});
}

// An optimizer's update call with its constant arguments checked once: Optimizer.apply's fast
// path. The returned call(params, grads, step) runs what ``kernel(params, grads, *state, step=step,
// learning_rate=learning_rate, **hyperparameters)`` runs, every array checked as there on every
// call (the state's arrays too: the lists stay the caller's). Parsing the constants again each
// call cost about 0.3 us, against an SGD step of 1e5 floats of about 6 us on 2 threads. A plain
// function, not an object with __call__: pybind11 looks up an object's type on each method call.
py::cpp_function prepare_update(const std::string& kernel, const py::dict& hyperparameters, const py::tuple& state,
                                py::handle learning_rate) {
    py::dict kw(hyperparameters);
    kw["learning_rate"] = learning_rate;
    OptimizerKind kind = OptimizerKind::sgd;
    const OptimStep constants = optim_step_from_kwargs(kernel, kw, &kind);
    const std::array<StateSlot, 3> slots = state_slots(kind, constants);
    const size_t count = size_t(std::count_if(slots.begin(), slots.end(), [](const StateSlot& x) { return x.name; }));
    if (state.size() != count)
        throw py::value_error("state must hold " + std::to_string(count) + " lists for " + kernel + ", got " +
                              std::to_string(state.size()));
    std::vector<py::object> lists(3, py::none());
    for (size_t k = 0; k < count; ++k) {
        lists[k] = py::reinterpret_borrow<py::object>(state[k]);
        if (slots[k].needed && lists[k].is_none())  // checked again per call, with the arrays
            throw py::value_error(std::string("state[") + std::to_string(k) + "] (" + slots[k].name +
                                  ") must be given when " + slots[k].reason);
    }
    return py::cpp_function([constants, kind, lists](py::handle params, py::handle grads, py::handle step) {
        OptimStep s = constants;
        s.step = step_count(step);
        run_update(kind, s, params, grads, {lists[0], lists[1], lists[2]});
    });
}

}  // namespace

OptimStep optim_step_from_kwargs(const std::string& fn, const py::dict& kw, OptimizerKind* kind) {
    auto get = [&](const char* name, py::object fallback) -> py::object {
        return kw.contains(name) ? py::reinterpret_borrow<py::object>(kw[name]) : fallback;
    };
    const py::object zero = py::float_(0.0), no = py::bool_(false), keras = py::str("keras"), one = py::int_(1);
    const py::object lr = get("learning_rate", py::none()), conv = get("convention", keras), wd = get("weight_decay", zero);
    if (fn == "sgd_update") {
        *kind = OptimizerKind::sgd;
        return sgd_step(get("step", one), lr, get("momentum", zero), get("nesterov", no), get("dampening", zero), wd,
                        get("maximize", no), conv);
    }
    if (fn == "adagrad_update") {
        *kind = OptimizerKind::adagrad;
        return adagrad_step(get("step", one), lr, get("epsilon", py::none()), get("lr_decay", zero), wd,
                            get("maximize", no), conv);
    }
    if (fn == "rmsprop_update") {
        *kind = OptimizerKind::rmsprop;
        return rmsprop_step(lr, get("rho", py::none()), get("epsilon", py::none()), get("momentum", zero),
                            get("centered", no), wd, get("maximize", no), conv);
    }
    if (fn == "adam_update") {
        *kind = OptimizerKind::adam;
        return adam_step(get("step", one), lr, get("beta_1", py::none()), get("beta_2", py::none()),
                         get("epsilon", py::none()), get("amsgrad", no), wd, get("decoupled_weight_decay", no),
                         get("maximize", no), conv);
    }
    const py::object none = py::none(), b1 = get("beta_1", none), b2 = get("beta_2", none), eps = get("epsilon", none);
    const py::object step = get("step", one), maximize = get("maximize", no);
    if (fn == "adamax_update") {
        *kind = OptimizerKind::adamax;
        return adamax_step(step, lr, b1, b2, eps, wd, maximize, conv);
    }
    if (fn == "nadam_update") {
        *kind = OptimizerKind::nadam;
        return nadam_step(step, lr, b1, b2, eps, get("momentum_decay", py::float_(4e-3)), wd,
                          get("decoupled_weight_decay", no), maximize, conv);
    }
    if (fn == "radam_update") {
        *kind = OptimizerKind::radam;
        return radam_step(step, lr, b1, b2, eps, wd, get("decoupled_weight_decay", no), maximize, conv);
    }
    if (fn == "adadelta_update") {
        *kind = OptimizerKind::adadelta;
        return adadelta_step(lr, get("rho", none), eps, wd, maximize, conv);
    }
    if (fn == "lion_update") {
        *kind = OptimizerKind::lion;
        return lion_step(lr, b1, b2, wd, conv);
    }
    if (fn == "ftrl_update") {
        *kind = OptimizerKind::ftrl;
        return ftrl_step(lr, get("learning_rate_power", py::float_(-0.5)), get("l1_regularization_strength", zero),
                         get("l2_regularization_strength", zero), get("l2_shrinkage_regularization_strength", zero),
                         get("beta", zero), wd, conv);
    }
    throw py::value_error("optimizer must be one of sgd_update, adagrad_update, rmsprop_update, adam_update, "
                          "adamax_update, nadam_update, radam_update, adadelta_update, lion_update, ftrl_update, "
                          "got " + fn);
}

double learning_rate_value(py::handle obj) { return hyper(obj, "learning_rate"); }

LearningRateSchedule schedule_value(py::handle obj, std::vector<double>* storage) {
    LearningRateSchedule s{};
    if (!PyTuple_Check(obj.ptr())) {
        s.kind = ScheduleKind::constant;
        s.params[0] = learning_rate_value(obj);
        return s;
    }
    py::tuple t = py::reinterpret_borrow<py::tuple>(obj);
    if (t.size() != 2 || !py::isinstance<py::str>(t[0]) || !(PyList_Check(t[1].ptr()) || PyTuple_Check(t[1].ptr())))
        throw py::type_error("learning_rate must be a real number or a schedule (kind, params), got " +
                             std::string(py::repr(obj)));
    // kind -> its parameter count (-1: piecewise_constant's boundaries and values, 2n + 1)
    static const struct { const char* name; ScheduleKind kind; int count; } kinds[] = {
        {"constant", ScheduleKind::constant, 1},
        {"exponential_decay", ScheduleKind::exponential_decay, 4},
        {"inverse_time_decay", ScheduleKind::inverse_time_decay, 4},
        {"piecewise_constant", ScheduleKind::piecewise_constant, -1},
        {"polynomial_decay", ScheduleKind::polynomial_decay, 5},
        {"cosine_decay", ScheduleKind::cosine_decay, 6},
        {"cosine_decay_restarts", ScheduleKind::cosine_decay_restarts, 5}};
    const std::string name = t[0].cast<std::string>();
    int count = 0;
    bool known = false;
    for (const auto& k : kinds)
        if (name == k.name) s.kind = k.kind, count = k.count, known = true;
    if (!known)
        throw py::value_error("learning_rate schedule kind must be one of constant, exponential_decay, "
                              "inverse_time_decay, piecewise_constant, polynomial_decay, cosine_decay, "
                              "cosine_decay_restarts, got " + name);
    py::sequence items = py::reinterpret_borrow<py::sequence>(t[1]);
    std::vector<double> params;
    for (size_t i = 0; i < items.size(); ++i)
        params.push_back(hyper(items[i], ("learning_rate schedule " + name + " parameter " + std::to_string(i)).c_str(),
                               -kInf, kInf));
    const size_t n = params.size();
    if (count < 0 ? n % 2 == 0 : n != size_t(count))
        throw py::value_error("learning_rate schedule " + name + " takes " +
                              (count < 0 ? std::string("2n + 1") : std::to_string(count)) + " parameters, got " +
                              std::to_string(n));
    if (count < 0) {
        *storage = std::move(params);
        s.pieces = int64_t(n / 2);
        s.boundaries = storage->data();
        s.values = storage->data() + s.pieces;
        return s;
    }
    std::copy(params.begin(), params.end(), s.params);
    // step counts > 0 as the Python schedules require them (the restarts' loops assume it)
    if (s.kind != ScheduleKind::constant && !(s.params[1] > 0))
        throw py::value_error("learning_rate schedule " + name + ": decay steps must be > 0, got " + fmt(s.params[1]));
    if (s.kind == ScheduleKind::cosine_decay_restarts && !(s.params[2] > 0))
        throw py::value_error("learning_rate schedule cosine_decay_restarts: t_mul must be > 0, got " + fmt(s.params[2]));
    return s;
}
int64_t step_value(py::handle obj) { return step_count(obj); }

namespace {

// The rates of the steps after first .. first + count - 1 steps, as the native runs compute them.
py::array_t<double> learning_rates(py::handle schedule, int64_t first, int64_t count) {
    std::vector<double> storage;
    const LearningRateSchedule s = schedule_value(schedule, &storage);
    if (first < 0 || count < 0)
        throw py::value_error("first and count must be >= 0, got " + std::to_string(first) + " and " +
                              std::to_string(count));
    py::array_t<double> out(count);
    double* rates = out.mutable_data();
    for (int64_t i = 0; i < count; ++i) rates[i] = learning_rate_at(s, first + i);
    return out;
}

}  // namespace

template <class T>
std::vector<OptimTensor<T>> checked_tensors(py::handle params, py::handle grads, const py::tuple& states,
                                           std::vector<py::object>* keep) {
    std::vector<ArrayList> lists;
    lists.push_back(array_list(params, "params", true));
    lists.push_back(array_list(grads, "grads", false));
    static const char* names[3] = {"state[0]", "state[1]", "state[2]"};
    std::vector<int> present;
    for (size_t i = 0; i < states.size() && i < 3; ++i) {
        if (states[i].is_none()) continue;
        lists.push_back(array_list(states[i], names[i], true));
        present.push_back(int(i));
    }
    CallLists all;
    for (const auto& l : lists) all.add(&l);
    const DType dtype = check_group(all);
    if (!lists[0].arrays.empty() && (dtype == DType::f32) != std::is_same<T, float>::value)
        throw py::type_error("params must have the model's dtype");
    const ArrayList* positional[3] = {nullptr, nullptr, nullptr};
    for (size_t j = 0; j < present.size(); ++j) positional[present[j]] = &lists[2 + j];
    for (const auto& l : lists)
        for (const auto& a : l.arrays) keep->push_back(a);
    std::vector<OptimTensor<T>> ts;
    tensors_of<T>(&ts, lists[0], lists[1], positional);
    return ts;
}

template std::vector<OptimTensor<float>> checked_tensors<float>(py::handle, py::handle, const py::tuple&,
                                                                std::vector<py::object>*);
template std::vector<OptimTensor<double>> checked_tensors<double>(py::handle, py::handle, const py::tuple&,
                                                                  std::vector<py::object>*);

// Positional only (keyword matching costs about a microsecond a call in pybind11): nnfast.ops
// wraps each with the keyword signature of nnfast.reference.
void register_optimizers(py::module_& m) {
    m.def("sgd_update", &sgd_update);
    m.def("adagrad_update", &adagrad_update);
    m.def("rmsprop_update", &rmsprop_update);
    m.def("adam_update", &adam_update);
    m.def("adamax_update", &adamax_update);
    m.def("nadam_update", &nadam_update);
    m.def("radam_update", &radam_update);
    m.def("adadelta_update", &adadelta_update);
    m.def("lion_update", &lion_update);
    m.def("ftrl_update", &ftrl_update);
    m.def("prepare_update", &prepare_update, py::arg("kernel"), py::arg("hyperparameters"), py::arg("state"),
          py::arg("learning_rate"),
          "prepare_update(kernel, hyperparameters, state, learning_rate) -> call(params, grads, step): the update "
          "function `kernel` (\"sgd_update\", ...) with its constant arguments checked once; the call runs "
          "kernel(params, grads, *state, step=step, learning_rate=learning_rate, **hyperparameters)");
    m.def("learning_rates", &learning_rates, py::arg("schedule"), py::arg("first"), py::arg("count"),
          "learning_rates(schedule, first, count) -> float64 (count,): the learning rates of the steps taken "
          "after first, first + 1, ... steps, as the native multi-step runs compute them (schedule: a number or "
          "a (kind, params) pair of nnfast.optimizers.schedules' native_parameters())");
}

}  // namespace bindings
}  // namespace nnfast
