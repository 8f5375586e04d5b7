// What the running CPU (and OS) supports, asked once.
#pragma once

namespace nnfast {

bool cpu_has_avx2_fma();  // AVX2 and FMA3, with OS support for the ymm state
bool cpu_has_avx512f();   // AVX-512F, with OS support for the zmm state

}  // namespace nnfast
