// The floating-point mode kernels run in: round to nearest, every exception masked, and - when the
// library setting says so (nnfast.set_flush_denormal, on by default) - subnormals flushed to zero:
// x86 MXCSR FTZ|DAZ (0x8040), AArch64 FPCR.FZ. A kernel call sets the mode on its thread and gives
// the caller's back on return (bindings' GilRelease); a parallel region hands the calling thread's
// mode to its workers and gives each worker's own back at the end (parallel_for, the GEMM), so no
// caller ever sees nnfast's mode. Included by per-ISA sources, so the helpers have internal linkage.
#pragma once
#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#include <xmmintrin.h>
#define NNFAST_FP_MXCSR 1
#elif defined(__aarch64__)
#define NNFAST_FP_FPCR 1
#endif

namespace nnfast {

// Whether this platform has a flush-to-zero control nnfast can set (x86 SSE, AArch64).
#if defined(NNFAST_FP_MXCSR) || defined(NNFAST_FP_FPCR)
constexpr bool kFlushDenormalSupported = true;
#else
constexpr bool kFlushDenormalSupported = false;
#endif

bool flush_denormal();              // the library setting: on by default where supported
void set_flush_denormal(bool on);   // ignored (stays off) where unsupported

namespace {

using FpMode = uint64_t;  // MXCSR or FPCR; 0 where neither exists

FpMode read_fp_mode() {
#if defined(NNFAST_FP_MXCSR)
    return _mm_getcsr();
#elif defined(NNFAST_FP_FPCR)
    uint64_t r;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(r));
    return r;
#else
    return 0;
#endif
}

void write_fp_mode(FpMode m) {
#if defined(NNFAST_FP_MXCSR)
    _mm_setcsr(static_cast<unsigned>(m));
#elif defined(NNFAST_FP_FPCR)
    __asm__ __volatile__("msr fpcr, %0" : : "r"(m));
#else
    (void)m;
#endif
}

// The kernels' mode: exceptions masked, round to nearest, FTZ and DAZ (FZ on Arm) iff `flush`.
FpMode kernel_fp_mode(bool flush) {
#if defined(NNFAST_FP_MXCSR)
    return 0x1F80u | (flush ? 0x8040u : 0u);
#elif defined(NNFAST_FP_FPCR)
    return flush ? (uint64_t(1) << 24) : 0;
#else
    (void)flush;
    return 0;
#endif
}

// Runs a scope in mode `m`, then gives the thread its previous mode back (both skipped when equal).
class FpModeScope {
  public:
    explicit FpModeScope(FpMode m) : saved_(read_fp_mode()), mode_(m) {
        if (saved_ != mode_) write_fp_mode(mode_);
    }
    ~FpModeScope() {
        if (saved_ != mode_) write_fp_mode(saved_);
    }
    FpModeScope(const FpModeScope&) = delete;
    FpModeScope& operator=(const FpModeScope&) = delete;

  private:
    FpMode saved_, mode_;
};

}  // namespace
}  // namespace nnfast
