// The data caches of the running CPU, detected once (the GEMM's cache blocking is derived from
// them), and the NNFAST_BLOCKING override of that blocking.
#pragma once
#include <cstdint>
#include <string>

namespace nnfast {

struct CacheLevel {
    int64_t bytes = 0;  // total size of one instance
    int ways = 0;       // associativity (0: unknown or fully associative)
    int line = 64;      // line size in bytes
    int sharing = 1;    // logical processors sharing one instance
};

struct CacheSizes {
    CacheLevel l1d, l2, l3;
    int64_t l3_per_core = 0;  // l3.bytes / the cores that share it (at most the cores this process sees)
    std::string source;       // where the sizes came from: "cpuid", "sysfs", "sysctl" or "fallback"
};

// Detected on first use: on x86 from CPUID (leaf 0x8000001D on AMD, leaf 4 on Intel), else from
// Linux's sysfs (then sysconf) or macOS's sysctl; what none gives comes from the fallback
// (L1d 32 KiB 8-way, L2 512 KiB, L3 2 MiB per core).
const CacheSizes& cache_sizes();

// NNFAST_BLOCKING=KC,MC,NC: block sizes in elements; 0 keeps that size's derived value.
struct BlockingOverride {
    int64_t kc = 0, mc = 0, nc = 0;
};

// Parses NNFAST_BLOCKING's value; throws std::invalid_argument naming the value unless it is three
// comma-separated integers in [0, kMaxBlock].
BlockingOverride parse_blocking(const std::string& text);
constexpr int64_t kMaxBlock = 1 << 20;

// The override in force (all zero: none). Set once, at import, before any kernel runs.
const BlockingOverride& blocking_override();
void set_blocking_override(const BlockingOverride& o);

}  // namespace nnfast
