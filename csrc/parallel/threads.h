// The library-wide thread setting and the rule that keeps small problems on one thread.
#pragma once
#include <cstdint>

namespace nnfast {

bool openmp_enabled();
int max_threads();           // threads the runtime offers (1 without OpenMP)
int num_threads();           // the current setting (always 1 without OpenMP)
void set_num_threads(int n); // n >= 1; callers validate
// Threads to use for `work` elementary operations: 1 below kMinWorkPerThread per thread, so
// fork/join never costs more than it saves; at most num_threads().
int threads_for(int64_t work);

constexpr int64_t kMinWorkPerThread = 32768;

}  // namespace nnfast
