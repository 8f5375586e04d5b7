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

// While alive, caps num_threads() on the calling thread (only) at `cap` >= 1: for a caller that
// has measured fewer threads to be faster for its work. Results never depend on the thread count,
// so a cap changes only the time.
class ThreadCap {
  public:
    explicit ThreadCap(int cap);
    ~ThreadCap();
    ThreadCap(const ThreadCap&) = delete;
    ThreadCap& operator=(const ThreadCap&) = delete;

  private:
    int previous_;
};

constexpr int64_t kMinWorkPerThread = 32768;

}  // namespace nnfast
