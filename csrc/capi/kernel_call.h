// What every C API entry point does between its checks and its kernel: the kernels of its dtype,
// the kernels' floating-point mode, and no C++ exception escaping into C.
#pragma once
#include <new>

#include "capi/validate.h"
#include "dispatch/dispatch.h"
#include "parallel/float_env.h"

namespace nnfast {
namespace capi {

template <class T> struct DType;
template <> struct DType<float> { static constexpr const char* tag = "f32"; };
template <> struct DType<double> { static constexpr const char* tag = "f64"; };

template <class T>
Ctx ctx(const char* fn) {
    return Ctx{fn, DType<T>::tag};
}

// The kernels of element type T at the ISA level chosen at import.
template <class T>
const KernelSet<T>& kernels() {
    return kernels_of<T>(active_kernels());
}

// Runs f() in the kernels' floating-point mode (as nnfast.ops does: the caller's mode is back on
// return) and turns any exception (a workspace that could not grow) into a status.
template <class F>
int run(const Ctx& c, F&& f) {
    try {
        FpModeScope fp(kernel_fp_mode(flush_denormal()));
        f();
        return NNFAST_OK;
    } catch (const std::bad_alloc&) {
        return fail(c, NNFAST_ERR_INTERNAL, "out of memory");
    } catch (...) {
        return fail(c, NNFAST_ERR_INTERNAL, "unexpected failure inside nnfast");
    }
}

}  // namespace capi
}  // namespace nnfast
