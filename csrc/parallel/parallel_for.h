// Static partitioning of a 1-D range over OpenMP threads. Included by per-ISA kernel sources, so
// everything here has internal linkage (no inline function compiled with AVX flags can be shared
// with, and picked by the linker for, the baseline copy).
#pragma once
#include <algorithm>
#include <cstdint>

#include "parallel/float_env.h"
#include "parallel/team.h"
#include "parallel/threads.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nnfast {
namespace {

// [*begin, *end) of piece `part` when [0, n) is cut into `parts` contiguous pieces whose
// boundaries fall on multiples of `align` items (a cache line of floats is 16).
void partition(int64_t n, int parts, int part, int64_t align, int64_t* begin, int64_t* end) {
    const int64_t blocks = (n + align - 1) / align;
    const int64_t per = blocks / parts, extra = blocks % parts;
    const int64_t b0 = part * per + std::min<int64_t>(part, extra);
    const int64_t b1 = b0 + per + (part < extra ? 1 : 0);
    *begin = std::min(n, b0 * align);
    *end = std::min(n, b1 * align);
}

// Calls part(tid, threads) for tid 0 .. threads - 1, tid 0 on the calling thread: as a job of the
// team the caller leads (team.h: a training step), else in an OpenMP region of its own. `threads`
// may come out smaller (a region inside another runs alone), never larger; every thread runs in the
// calling thread's floating-point mode (float_env.h).
template <class Part>
void run_on_threads(int threads, const Part& part) {
#ifdef _OPENMP
    if (threads > 1) {
        const int team = team_job_threads();
        if (team > 1) {
            run_team_job([](void* p, int tid, int nt) { (*static_cast<const Part*>(p))(tid, nt); },
                         const_cast<Part*>(&part), std::min(threads, team));
            return;
        }
        note_split_part();
        const FpMode mode = read_fp_mode();
#pragma omp parallel num_threads(threads)
        {
            FpModeScope fp(mode);
            part(omp_get_thread_num(), omp_get_num_threads());
        }
        return;
    }
#endif
    part(0, 1);
}

// Calls body(begin, end) over disjoint pieces of [0, n) covering it, one per thread. `cost` is
// the work per item, which decides how many threads are worth starting; never more threads than
// pieces of `align` items (a region for one piece would only make its other thread wait).
template <class Body>
void parallel_for(int64_t n, int64_t align, int64_t cost, const Body& body) {
    const int nt = static_cast<int>(std::min<int64_t>(threads_for(n * cost), (n + align - 1) / align));
    if (nt > 1) {
        run_on_threads(nt, [&](int tid, int threads) {
            int64_t b, e;
            partition(n, threads, tid, align, &b, &e);
            if (b < e) body(b, e);
        });
        return;
    }
    if (n > 0) body(0, n);
}

}  // namespace
}  // namespace nnfast
