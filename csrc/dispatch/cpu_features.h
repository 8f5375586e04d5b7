// What the running CPU (and OS) supports, asked once.
#pragma once

namespace nnfast {

bool cpu_has_avx2_fma();  // AVX2 and FMA3, with OS support for the ymm state
bool cpu_has_avx512();    // AVX-512 F, CD, BW, DQ and VL (x86-64-v4), with OS support for the zmm state
bool cpu_is_amd();        // an AMD x86 CPU (its AVX-512 GEMM takes another tile: gemm/gemm_tiles.cpp)

}  // namespace nnfast
