#include "memory/caches.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define NNFAST_HAVE_CPUID 1
#endif
#if defined(__linux__)
#include <unistd.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace nnfast {
namespace {

// Fills the levels CPUID describes: leaf 0x8000001D (AMD's topology extension) or leaf 4 (Intel),
// one sub-leaf per cache. Returns false when neither leaf exists.
bool from_cpuid(CacheSizes* s) {
#ifdef NNFAST_HAVE_CPUID
    unsigned eax, ebx, ecx, edx, leaf = 0;
    if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) && eax >= 0x8000001D &&
        __get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 22)))  // topoext
        leaf = 0x8000001D;
    else if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) && eax >= 4)
        leaf = 4;
    if (!leaf) return false;
    bool any = false;
    for (unsigned i = 0; i < 16; ++i) {
        __cpuid_count(leaf, i, eax, ebx, ecx, edx);
        const unsigned type = eax & 31, level = (eax >> 5) & 7;
        if (type == 0) break;  // no more caches
        if (type == 2) continue;  // instruction cache
        CacheLevel c;
        c.line = int((ebx & 0xfff) + 1);
        c.ways = int((ebx >> 22) + 1);
        const int64_t partitions = ((ebx >> 12) & 0x3ff) + 1, sets = int64_t(ecx) + 1;
        c.bytes = int64_t(c.ways) * partitions * c.line * sets;
        c.sharing = int(((eax >> 14) & 0xfff) + 1);
        if (eax & (1u << 9)) c.ways = 0;  // fully associative
        CacheLevel* dst = level == 1 ? &s->l1d : level == 2 ? &s->l2 : level == 3 ? &s->l3 : nullptr;
        if (dst && c.bytes > 0) *dst = c, any = true;
    }
    return any;
#else
    (void)s;
    return false;
#endif
}

#if defined(__linux__)
std::string read_line(const std::string& path) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    return line;
}

// Processors in a sysfs list such as "0-3,8-11".
int count_cpus(const std::string& list) {
    int count = 0;
    std::stringstream ss(list);
    std::string part;
    while (std::getline(ss, part, ',')) {
        const auto dash = part.find('-');
        if (part.empty()) continue;
        count += dash == std::string::npos ? 1 : std::atoi(part.c_str() + dash + 1) - std::atoi(part.c_str()) + 1;
    }
    return count > 0 ? count : 1;
}

// Linux describes cpu0's caches in /sys/devices/system/cpu/cpu0/cache/index*/.
bool from_sysfs(CacheSizes* s) {
    bool any = false;
    for (int i = 0; i < 16; ++i) {
        const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
        const std::string size = read_line(dir + "size"), type = read_line(dir + "type");
        if (size.empty()) continue;
        if (type == "Instruction") continue;
        int64_t bytes = std::atoll(size.c_str());
        if (size.back() == 'K') bytes <<= 10;
        if (size.back() == 'M') bytes <<= 20;
        CacheLevel c;
        c.bytes = bytes;
        c.ways = std::atoi(read_line(dir + "ways_of_associativity").c_str());
        const int line = std::atoi(read_line(dir + "coherency_line_size").c_str());
        c.line = line > 0 ? line : 64;
        c.sharing = count_cpus(read_line(dir + "shared_cpu_list"));
        const int level = std::atoi(read_line(dir + "level").c_str());
        CacheLevel* dst = level == 1 ? &s->l1d : level == 2 ? &s->l2 : level == 3 ? &s->l3 : nullptr;
        if (dst && bytes > 0) *dst = c, any = true;
    }
    return any;
}

// glibc's sysconf: sizes and associativity only (it may count an L3 once per core sharing it).
bool from_sysconf(CacheSizes* s) {
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l1 <= 0) return false;
    s->l1d.bytes = l1;
    s->l1d.ways = int(std::max(0L, sysconf(_SC_LEVEL1_DCACHE_ASSOC)));
    if (l2 > 0) s->l2.bytes = l2;
    return true;
#else
    (void)s;
    return false;
#endif
}
#endif

#if defined(__APPLE__)
int64_t sysctl_value(const char* name) {
    int64_t v = 0;
    size_t len = sizeof(v);
    return sysctlbyname(name, &v, &len, nullptr, 0) == 0 ? v : 0;
}

// macOS: the performance cores' caches where the machine has two kinds (Apple silicon).
bool from_sysctl(CacheSizes* s) {
    int64_t l1 = sysctl_value("hw.perflevel0.l1dcachesize"), l2 = sysctl_value("hw.perflevel0.l2cachesize");
    if (l1 <= 0) l1 = sysctl_value("hw.l1dcachesize");
    if (l2 <= 0) l2 = sysctl_value("hw.l2cachesize");
    if (l1 <= 0) return false;
    s->l1d.bytes = l1;
    s->l2.bytes = l2;
    s->l3.bytes = sysctl_value("hw.l3cachesize");
    return true;
}
#endif

CacheSizes detect() {
    CacheSizes s;
    bool found = from_cpuid(&s);
    s.source = "cpuid";
#if defined(__linux__)
    if (!found && (found = from_sysfs(&s))) s.source = "sysfs";
    if (!found && (found = from_sysconf(&s))) s.source = "sysconf";
#endif
#if defined(__APPLE__)
    if (!found && (found = from_sysctl(&s))) s.source = "sysctl";
#endif
    if (!found) s.source = "fallback";
    // The fallback fills what detection left out.
    if (s.l1d.bytes <= 0) s.l1d = CacheLevel{32 << 10, 8, 64, 1};
    if (s.l1d.ways <= 0) s.l1d.ways = 8;
    if (s.l2.bytes <= 0) s.l2 = CacheLevel{512 << 10, 8, 64, 1};
    if (s.l3.bytes <= 0) s.l3 = CacheLevel{2 << 20, 16, 64, 1};
    // The L3 per core: its size over the processors sharing it that this machine has (a virtual
    // machine may see fewer processors than share the physical cache; SMT siblings count as cores).
    const int cores = std::max(1, int(std::thread::hardware_concurrency()));
    s.l3_per_core = s.l3.bytes / std::max(1, std::min(s.l3.sharing, cores));
    return s;
}

BlockingOverride g_override;

}  // namespace

const CacheSizes& cache_sizes() {
    static const CacheSizes sizes = detect();
    return sizes;
}

BlockingOverride parse_blocking(const std::string& text) {
    const auto bad = [&](const std::string& why) {
        return std::invalid_argument("NNFAST_BLOCKING must be KC,MC,NC: three integers in [0, " +
                                     std::to_string(kMaxBlock) + "] (0 keeps the derived size), " + why +
                                     ", got '" + text + "'");
    };
    int64_t v[3];
    size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
        const size_t end = i < 2 ? text.find(',', pos) : text.size();
        if (end == std::string::npos) throw bad("missing a comma");
        const std::string item = text.substr(pos, end - pos);
        if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos) throw bad("not an integer");
        if (item.size() > 8 || std::stoll(item) > kMaxBlock) throw bad("too large");
        v[i] = std::stoll(item);
        pos = end + 1;
    }
    return BlockingOverride{v[0], v[1], v[2]};
}

const BlockingOverride& blocking_override() { return g_override; }
void set_blocking_override(const BlockingOverride& o) { g_override = o; }

}  // namespace nnfast
