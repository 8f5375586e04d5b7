// Chooses, by timing, between all threads and one for a piece of work repeated many times (the
// steps of a native training run): a small layer's step can be slower on two threads than on one,
// as fork/join and barrier waits (more of them on a shared machine) cost more than the second
// thread saves. Results never depend on the thread count; only the time does.
#pragma once
#include <algorithm>
#include <cstdint>

namespace nnfast {

class ThreadChoice {
  public:
    // The first 2 * kProbes repetitions alternate all threads and one.
    static constexpr int kProbes = 4;

    explicit ThreadChoice(int threads) : all_(threads), chosen_(threads) {}

    // Threads for repetition i (0, 1, ...).
    int threads_at(int64_t i) const {
        if (all_ <= 1 || i >= 2 * kProbes) return chosen_;
        return i % 2 == 0 ? all_ : 1;
    }

    // Records repetition i's time in seconds; after the last probe, keeps the count whose median
    // probe time is smaller (all threads on a tie).
    void record(int64_t i, double seconds) {
        if (all_ <= 1 || i >= 2 * kProbes) return;
        (i % 2 == 0 ? all_times_ : one_times_)[i / 2] = seconds;
        if (i == 2 * kProbes - 1) chosen_ = median(one_times_) < median(all_times_) ? 1 : all_;
    }

    int chosen() const { return chosen_; }

  private:
    static double median(double* t) {
        std::sort(t, t + kProbes);
        return 0.5 * (t[kProbes / 2 - 1] + t[kProbes / 2]);
    }

    int all_, chosen_;
    double all_times_[kProbes] = {}, one_times_[kProbes] = {};
};

}  // namespace nnfast
