#include "dispatch/dispatch.h"

#include <atomic>
#include <stdexcept>

#include "dispatch/cpu_features.h"

// Each built level defines nnfast::<level>::kernel_table() in its own object (see CMakeLists.txt).
#define NNFAST_DECLARE_LEVEL(level) \
    namespace nnfast { namespace level { const KernelTable& kernel_table(); } }
#ifdef NNFAST_BUILT_GENERIC
NNFAST_DECLARE_LEVEL(generic)
#endif
#ifdef NNFAST_BUILT_AVX2
NNFAST_DECLARE_LEVEL(avx2)
#endif
#ifdef NNFAST_BUILT_AVX512
NNFAST_DECLARE_LEVEL(avx512)
#endif
#ifdef NNFAST_BUILT_NEON
NNFAST_DECLARE_LEVEL(neon)
#endif

namespace nnfast {
namespace {

struct Level {
    std::string name;
    const KernelTable& (*table)();
    bool (*cpu_supports)();
};

bool always() { return true; }

const std::vector<Level>& levels() {
    static const std::vector<Level> all = {
#ifdef NNFAST_BUILT_GENERIC
        {"generic", &generic::kernel_table, &always},
#endif
#ifdef NNFAST_BUILT_NEON
        {"neon", &neon::kernel_table, &always},  // NEON is the aarch64 baseline
#endif
#ifdef NNFAST_BUILT_AVX2
        {"avx2", &avx2::kernel_table, &cpu_has_avx2_fma},
#endif
#ifdef NNFAST_BUILT_AVX512
        {"avx512", &avx512::kernel_table, &cpu_has_avx512},
#endif
    };
    return all;
}

const KernelTable* g_active = nullptr;

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

const std::vector<std::string>& built_isas() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& l : levels()) v.push_back(l.name);
        return v;
    }();
    return names;
}

std::vector<std::string> supported_isas() {
    std::vector<std::string> v;
    for (const auto& l : levels())
        if (l.cpu_supports()) v.push_back(l.name);
    return v;
}

void select_isa(const std::string& forced) {
    const Level* chosen = nullptr;
    for (const auto& l : levels()) {
        if (!l.cpu_supports()) continue;
        if (forced.empty() || forced == l.name) chosen = &l;
    }
    if (!chosen) {
        bool built = false;
        for (const auto& l : levels()) built = built || l.name == forced;
        throw std::invalid_argument(
            "NNFAST_ISA='" + forced + "' " +
            (built ? "is a level this CPU does not support" : "is not a known ISA level") +
            "; available on this machine: " + join(supported_isas()) +
            " (built: " + join(built_isas()) + ")");
    }
    g_active = &chosen->table();
}

void select_gemm_tile(const std::string& forced) {
    int rows = 0;
    if (!forced.empty()) {
        rows = -1;
        if (forced.size() <= 2 && forced.find_first_not_of("0123456789") == std::string::npos && forced[0] != '0')
            rows = std::stoi(forced);
    }
    if (rows >= 0 && g_active->use_gemm_tile(rows)) return;
    const GemmTiles tiles = g_active->gemm_tiles();
    std::vector<std::string> names;
    for (int i = 0; i < tiles.count; ++i) names.push_back(std::to_string(tiles.rows[i]));
    throw std::invalid_argument("NNFAST_GEMM_MR='" + forced + "' is not a GEMM tile of the " + g_active->isa +
                                " level; its tiles' rows: " + join(names));
}

const KernelTable& active_kernels() { return *g_active; }

namespace {
bool g_sparse_inputs = true;
bool g_sparse_terms_by_loads = false;
std::atomic<long long> g_sparse_products{0};
std::atomic<long long> g_full_groups{0};  // full_groups_run()
std::atomic<long long> g_shared_tiles{0};  // shared_tiles_taken()
std::atomic<bool> g_shared_lead_held{false};
}  // namespace

void select_sparse_inputs(const std::string& value) {
    if (value != "" && value != "0" && value != "1" && value != "registers" && value != "loads")
        throw std::invalid_argument("NNFAST_SPARSE_INPUTS='" + value +
                                    "' must be 0 (off), 1 (on, the default), or registers or loads (on, "
                                    "taking the terms' entries that way)");
    g_sparse_inputs = value != "0";
    g_sparse_terms_by_loads = value == "loads" || (value != "registers" && !cpu_is_amd());
}

bool sparse_inputs_enabled() { return g_sparse_inputs; }

bool sparse_terms_by_loads() { return g_sparse_terms_by_loads; }

const char* sparse_terms_name() { return g_sparse_terms_by_loads ? "loads" : "registers"; }

void note_sparse_product() { g_sparse_products.fetch_add(1, std::memory_order_relaxed); }

long long sparse_products_run() { return g_sparse_products.load(std::memory_order_relaxed); }

void note_full_groups(long long groups) { g_full_groups.fetch_add(groups, std::memory_order_relaxed); }

long long full_groups_run() { return g_full_groups.load(std::memory_order_relaxed); }

void note_shared_tiles(long long tiles) { g_shared_tiles.fetch_add(tiles, std::memory_order_relaxed); }

long long shared_tiles_taken() { return g_shared_tiles.load(std::memory_order_relaxed); }

void hold_shared_lead(bool held) { g_shared_lead_held.store(held, std::memory_order_relaxed); }

bool shared_lead_held() { return g_shared_lead_held.load(std::memory_order_relaxed); }

}  // namespace nnfast
