// Chooses, by timing, between all threads and one for a piece of work repeated many times (the
// steps of a native training run): a small layer's step can be slower on two threads than on one,
// as fork/join and barrier waits (more of them on a shared machine) cost more than the second
// thread saves. Results never depend on the thread count; only the time does.
//
// One choice lives as long as the work it times (a model's compiled step), across calls: an epoch
// of a small data set is a few dozen steps, and probing afresh in every call would run a large
// share of them on the slower count. It probes again after kReprobeAfter repetitions, so a
// machine whose load changes is followed, and from the start when the thread setting changes.
#pragma once
#include <algorithm>
#include <cstdint>

namespace nnfast {

class ThreadChoice {
  public:
    // A probe is 2 * kProbes repetitions alternating all threads and one.
    static constexpr int kProbes = 6;
    static constexpr int64_t kReprobeAfter = 4096;

    // Starts over, with a probe, when `threads` (the setting now) is not the one being followed.
    void follow(int threads) {
        if (threads == all_) return;
        all_ = chosen_ = threads;
        rep_ = 0;
    }

    // Threads for the next repetition.
    int threads() const {
        if (!probing()) return chosen_;
        return rep_ % 2 == 0 ? all_ : 1;
    }

    // Records the time in seconds of the repetition threads() was asked for. After a probe's last
    // repetition, keeps the count whose median probe time is smaller (all threads on a tie).
    void record(double seconds) {
        if (probing()) {
            (rep_ % 2 == 0 ? all_times_ : one_times_)[rep_ / 2] = seconds;
            ++probe_reps_;
            if (rep_ == 2 * kProbes - 1) chosen_ = median(one_times_) < median(all_times_) ? 1 : all_;
        }
        rep_ = rep_ + 1 == 2 * kProbes + kReprobeAfter ? 0 : rep_ + 1;
    }

    // The count settled on (0 before any thread setting was followed).
    int chosen() const { return chosen_; }

    // Repetitions so far that were probes.
    int64_t probe_reps() const { return probe_reps_; }

  private:
    bool probing() const { return all_ > 1 && rep_ < 2 * kProbes; }

    static double median(double* t) {
        std::sort(t, t + kProbes);
        return 0.5 * (t[kProbes / 2 - 1] + t[kProbes / 2]);
    }

    int all_ = 0, chosen_ = 0;
    int64_t rep_ = 0, probe_reps_ = 0;
    double all_times_[kProbes] = {}, one_times_[kProbes] = {};
};

}  // namespace nnfast
