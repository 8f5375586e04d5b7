// Chooses, by timing, between all threads and one for a piece of work repeated many times (the
// steps of a native training run): a small layer's step can be slower on two threads than on one,
// as fork/join and barrier waits (more of them on a shared machine) cost more than the second
// thread saves. Results never depend on the thread count; only the time does.
//
// A probe runs blocks of kBlock steps on one count, all threads and one in turn, and times all but
// the first step of a block. The first step after a switch finds the data where the other count
// left it: after a two-thread step, a one-thread step pulls the half the second core last wrote
// (weights, optimizer state) from that core's cache. Alternating single steps timed only such
// switch-overs, and chose two threads for the 784-128-10 MLP at batch 32, whose epoch then took
// 280-294 ms against 250 ms on one thread.
//
// One choice lives as long as the work it times (a model's compiled step), across calls: an epoch
// of a small data set is a few dozen steps, and probing afresh in every call would run a large
// share of them on the slower count. It probes again when the thread setting changes, after
// kReprobeSeconds of timed steps (kReprobeOneSeconds after a choice of one thread: in some phases
// of the host the 784-128-10 MLP's 2-thread epochs at batch 128 ran whole fit calls at one
// thread's speed, 240 ms against 140-165, each call's probe, just after an idle pause, finding two
// threads slower), and when kSlowRun steps in a row take kSlowdown times the chosen
// count's probe median (at most once per kMinProbeGap seconds of steps, so a median that was only
// lucky costs a bounded share): on a shared machine the host can halve what two threads get after
// an idle pause (two vCPUs on one physical core), and then one thread is the faster choice.
//
// A probe that finds one thread faster while all threads are the choice runs once more before the
// choice moves (a confirming probe), and one thread is chosen only when both find it faster: a
// single probe in a short spell of the host's noise chose one thread for the 784-128-10 MLP at
// batch 128 on the Zen 4 (session 47: 1 s re-probes, the chunk after one at 91 ms against 51-59 on
// two threads), and that choice held until its own re-probe. Work that one thread does faster
// pays one probe more each time it is probed from a choice of all threads: its first probe, and
// the first probe of each fit call's new step, which does not take over a choice of one thread.
#pragma once
#include <algorithm>
#include <cstdint>

namespace nnfast {

class ThreadChoice {
  public:
    // A probe times kProbes repetitions on each count, in blocks of kBlock (whose first is untimed).
    static constexpr int kProbes = 6;
    static constexpr int kBlock = 3;
    static_assert(kProbes % (kBlock - 1) == 0, "whole blocks on each count");
    static constexpr int kProbeReps = 2 * kProbes / (kBlock - 1) * kBlock;  // 18
    static constexpr double kReprobeSeconds = 1.0;
    static constexpr double kReprobeOneSeconds = 0.2;
    static constexpr double kSlowdown = 1.5;
    static constexpr int kSlowRun = 8;
    static constexpr double kMinProbeGap = 0.1;

    // Starts over, with a probe, when `threads` (the setting now) is not the one being followed.
    void follow(int threads) {
        if (threads == all_) return;
        all_ = chosen_ = threads;
        rep_ = 0;
        confirming_ = false;
    }

    // Threads for the next repetition.
    int threads() const {
        if (!probing()) return chosen_;
        return probe_block() % 2 == 0 ? all_ : 1;
    }

    // Records the time in seconds of the repetition threads() was asked for. After a probe's last
    // repetition, keeps the count whose median probe time is smaller (all threads on a tie).
    void record(double seconds) {
        if (probing()) {
            const int block = probe_block(), within = rep_ % kBlock;
            if (within > 0)  // the block's first repetition follows a switch: not timed
                (block % 2 == 0 ? all_times_ : one_times_)[block / 2 * (kBlock - 1) + within - 1] = seconds;
            ++probe_reps_;
            if (++rep_ < kProbeReps) return;
            const double all = median(all_times_), one = median(one_times_);
            if (one < all && chosen_ == all_ && !confirming_) {
                confirming_ = true;
                rep_ = 0;
                return;
            }
            confirming_ = false;
            chosen_ = one < all ? 1 : all_;
            chosen_median_ = chosen_ == 1 ? one : all;
            since_probe_ = 0.0;
            slow_run_ = 0;
            return;
        }
        if (all_ <= 1) return;
        since_probe_ += seconds;
        slow_run_ = seconds > kSlowdown * chosen_median_ ? slow_run_ + 1 : 0;
        const double reprobe = chosen_ == 1 ? kReprobeOneSeconds : kReprobeSeconds;
        if (since_probe_ >= reprobe || (slow_run_ >= kSlowRun && since_probe_ >= kMinProbeGap)) rep_ = 0;
    }

    // The count settled on (0 before any thread setting was followed).
    int chosen() const { return chosen_; }

    // Whether a probe has settled on all threads (of more than one). A choice of one thread is not
    // worth handing on to a new piece of the same work: nothing notices when the host gives two
    // threads their cores back, short of the next timed probe, while a choice of all threads is
    // probed again as soon as its steps slow down.
    bool settled_on_all() const { return !probing() && all_ > 1 && chosen_ == all_; }

    // Repetitions so far that were probes.
    int64_t probe_reps() const { return probe_reps_; }

  private:
    bool probing() const { return all_ > 1 && rep_ < kProbeReps; }
    int probe_block() const { return rep_ / kBlock; }

    static double median(double* t) {
        std::sort(t, t + kProbes);
        return 0.5 * (t[kProbes / 2 - 1] + t[kProbes / 2]);
    }

    int all_ = 0, chosen_ = 0, rep_ = 0, slow_run_ = 0;
    bool confirming_ = false;  // the probe under way confirms one that found one thread faster
    int64_t probe_reps_ = 0;
    double chosen_median_ = 0.0, since_probe_ = 0.0;
    double all_times_[kProbes] = {}, one_times_[kProbes] = {};
};

}  // namespace nnfast
