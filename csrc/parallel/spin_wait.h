// Waiting on another thread's short piece of work: the core's pause hint between checks, then the
// processor yielded. Included by per-ISA sources (gemm.cpp), so everything here has internal
// linkage, as in parallel_for.h.
#pragma once
#include <thread>

namespace nnfast {
namespace {

// The core's hint that this thread spins (it frees pipeline resources for a sibling thread).
inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// Waits until ready() holds: `spins` checks with the pause hint between them, then the processor
// yielded between checks (another thread may need it to finish what this one waits for).
template <class Ready>
void spin_wait(const Ready& ready, int spins) {
    for (int i = 0; !ready(); ++i) {
        if (i < spins) cpu_pause();
        else std::this_thread::yield();
    }
}

}  // namespace
}  // namespace nnfast
