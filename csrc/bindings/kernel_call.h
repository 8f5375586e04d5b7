// What every binding needs between its argument checks and its kernel: the arrays' data as
// typed pointers, one code path for both dtypes, the GIL policy and the class-label check.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>

#include "bindings/checks.h"
#include "dispatch/dispatch.h"
#include "parallel/float_env.h"

namespace nnfast {
namespace bindings {

// a's data as T* (ptr<const T> for an input); a's dtype (and, for an output, writability) checked.
template <class T>
T* ptr(const py::array& a) {
    return static_cast<T*>(const_cast<void*>(a.data()));
}

// f(T()) with T = float or double as d says, so a binding writes its kernel call once:
// dispatch_dtype(a, [&](auto t) { using T = decltype(t); ... }) for the dtype of a checked array a.
template <class F>
decltype(auto) dispatch_dtype(DType d, F&& f) {
    if (d == DType::f32) return f(float());
    return f(double());
}
template <class F>
decltype(auto) dispatch_dtype(const py::array& a, F&& f) {
    return dispatch_dtype(dtype_of(a), std::forward<F>(f));
}

// The kernels of element type T at the ISA level chosen at import.
template <class T>
const KernelSet<T>& kernels() {
    return kernels_of<T>(active_kernels());
}

// The GIL policy of every kernel call: released while the kernel runs, unless the kernel is tiny
// (`work`: its multiply-adds or elements, below kTinyWork): releasing and taking the GIL back then
// costs more than the whole kernel, and other Python threads wait at most that long. While it
// lives, the thread is also in the kernels' floating-point mode (float_env.h: subnormals flushed
// when nnfast.set_flush_denormal says so); the caller's mode is back when the call returns.
class GilRelease {
  public:
    static constexpr int64_t kTinyWork = int64_t(1) << 16;
    explicit GilRelease(int64_t work) {
        if (work >= kTinyWork) state_ = PyEval_SaveThread();
    }
    ~GilRelease() {
        if (state_) PyEval_RestoreThread(state_);
    }
    GilRelease(const GilRelease&) = delete;
    GilRelease& operator=(const GilRelease&) = delete;

  private:
    PyThreadState* state_ = nullptr;
    FpModeScope fp_{kernel_fp_mode(flush_denormal())};
};

// ValueError unless every label is a class index in [0, classes): labels[i] for i < n, or
// labels[at[i]] when `at` (the sample indices of a batch) is given. `what` opens the message (an
// embedding's row indices say "indices must be").
inline void require_class_indices(const int64_t* labels, const int64_t* at, int64_t n, int64_t classes,
                                  const char* what = "labels must be class indices") {
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = at ? at[i] : i;
        if (labels[j] < 0 || labels[j] >= classes)
            throw py::value_error(std::string(what) + " in [0, " + std::to_string(classes) + "), got " +
                                  std::to_string(labels[j]) + " at position " + std::to_string(j));
    }
}

}  // namespace bindings
}  // namespace nnfast
