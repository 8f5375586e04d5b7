#include "dispatch/cpu_features.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

namespace nnfast {

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
// __builtin_cpu_supports checks CPUID and, for AVX levels, that the OS saves the wider registers.
bool cpu_has_avx2_fma() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool cpu_has_avx512() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && cpu_has_avx2_fma();
}
bool cpu_is_amd() {
    __builtin_cpu_init();
    return __builtin_cpu_is("amd");
}
bool cpu_halves_avx512() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!cpu_is_amd() || !cpu_has_avx512() || !__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const unsigned base = (eax >> 8) & 0xF;  // the extended family counts only past base family 0xF
    const unsigned family = base == 0xF ? base + ((eax >> 20) & 0xFF) : base;
    return family == 0x19;  // Zen 3 has none; Zen 5 (1Ah) servers run it whole
}
#else
bool cpu_has_avx2_fma() { return false; }
bool cpu_has_avx512() { return false; }
bool cpu_is_amd() { return false; }
bool cpu_halves_avx512() { return false; }
#endif

}  // namespace nnfast
