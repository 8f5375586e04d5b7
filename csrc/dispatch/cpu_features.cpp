#include "dispatch/cpu_features.h"

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
#else
bool cpu_has_avx2_fma() { return false; }
bool cpu_has_avx512() { return false; }
bool cpu_is_amd() { return false; }
#endif

}  // namespace nnfast
