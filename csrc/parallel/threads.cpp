#include "parallel/threads.h"

#include <algorithm>
#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nnfast {
namespace {
std::atomic<int> g_threads{0};  // 0: not set yet, use the runtime's default
thread_local int t_cap = 0;     // this thread's ThreadCap (0: none)
}

bool openmp_enabled() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int num_threads() {
    if (!openmp_enabled()) return 1;
    const int n = g_threads.load(std::memory_order_relaxed);
    const int setting = n > 0 ? n : max_threads();
    return t_cap > 0 && t_cap < setting ? t_cap : setting;
}

ThreadCap::ThreadCap(int cap) : previous_(t_cap) { t_cap = cap; }

ThreadCap::~ThreadCap() { t_cap = previous_; }

void set_num_threads(int n) { g_threads.store(n, std::memory_order_relaxed); }

int threads_for(int64_t work) {
    const int64_t by_size = work / kMinWorkPerThread;
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads(), by_size)));
}

}  // namespace nnfast
