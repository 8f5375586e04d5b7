// What the running CPU (and OS) supports, asked once.
#pragma once

namespace nnfast {

bool cpu_has_avx2_fma();  // AVX2 and FMA3, with OS support for the ymm state
bool cpu_has_avx512();    // AVX-512 F, CD, BW, DQ and VL (x86-64-v4), with OS support for the zmm state
bool cpu_is_amd();        // an AMD x86 CPU (its AVX-512 GEMM takes another tile: gemm/gemm_tiles.cpp)
// AVX-512 run as two 256-bit halves (AMD family 19h, Zen 4), so its multiply-adds are no faster
// than AVX2's: the sparse-input product then pays at denser inputs (gemm/sparse_a.cpp).
bool cpu_halves_avx512();

}  // namespace nnfast
