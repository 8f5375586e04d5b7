// The width of one SIMD register of this ISA level, in bytes, from the compiler's target macros
// (each level's copy of a kernel is compiled with its own flags). Included by per-ISA sources.
#pragma once

#if defined(__AVX512F__)
#define NNFAST_VEC_BYTES 64
#elif defined(__AVX2__) || defined(__AVX__)
#define NNFAST_VEC_BYTES 32
#else
#define NNFAST_VEC_BYTES 16  // SSE2 (x86-64 baseline) and NEON
#endif
