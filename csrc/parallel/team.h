// A team of threads kept for the length of one piece of work made of many parallel parts (a
// training step: some 28 of them). The work runs on the team's thread 0, the caller; each parallel
// part inside it (parallel_for, the GEMM drivers) is handed to the other threads as a job through
// spin flags: a cache line's round trip per part instead of an OpenMP region's fork and join, and
// one region per step. A job's threads split its work exactly as a region of that many threads
// does (same tid, same count), so results are the same bits. Baseline code: per-ISA sources reach
// it only through these functions.
#pragma once
#include <atomic>
#include <cstdint>

namespace nnfast {

using TeamJob = void (*)(void* context, int tid, int threads);

// Runs work(context) on the calling thread while `threads` threads (it included) stand by for its
// jobs; with one thread, without OpenMP, or when the caller already leads a team or runs a job,
// work runs alone and its parallel parts open their own regions as before. An exception leaving
// work is rethrown here once the team has ended.
void run_with_team(int threads, void (*work)(void* context), void* context);

// Threads of the team the calling thread leads and may hand a job to now (it leads one and is not
// running a job itself), else 0.
int team_job_threads();

// Runs job(context, tid, threads) on tid 0 .. threads - 1 of the calling thread's team, tid 0 on the
// calling thread, and returns when every one has finished. 2 <= threads <= team_job_threads().
void run_team_job(TeamJob job, void* context, int threads) noexcept;

// Work for the team's other threads while they wait for the next job: once a thread has waited
// about a microsecond (a step's serial part, not the gap between two parallel parts), it calls
// task(context), one unit of work per call, until the call returns false or a job arrives; a job
// so waits at most one unit. The leader sets it outside its jobs, one task at a time, and clears
// it with nullptr, which returns once no thread is inside it: what the calls wrote is then the
// leader's to read. Without a team of two or more threads nothing happens.
void set_team_idle_task(bool (*task)(void* context), void* context);

// Whether the calling thread is running a job (of more than one thread); then team_job_barrier
// waits for every thread of that job.
bool in_team_job();
void team_job_barrier();

// Seconds per job of a 2-thread team doing nothing, the best of `repeats` runs of `jobs` jobs:
// what handing a part to another core and hearing back costs (two cache-line transfers between
// the cores). The benchmark's placement check reads it: on a shared host it is about 4x longer
// when the two virtual CPUs land far apart, and every parallel part pays it. 0 without OpenMP or
// when the runtime gives no second thread.
double team_handoff_seconds(int64_t jobs, int repeats);

// run_with_team for a callable: work().
template <class Work>
void with_team(int threads, Work& work) {
    run_with_team(threads, [](void* w) { (*static_cast<Work*>(w))(); }, &work);
}

// Calls of idle tasks so far in this process (set_team_idle_task), a unit of work each or none
// left: tests read it to see that the team's threads took some up.
int64_t idle_units_run();

// Teams formed so far in this process (run_with_team with a second thread: native training steps,
// and team_handoff_seconds' probe): tests read it to see which steps lead one.
int64_t teams_led();

// Counts, on the calling thread, a parallel part about to run on more than one thread outside a
// team (parallel_for.h's run_on_threads): how TeamNeed learns whether a piece of work splits.
void note_split_part();

// Whether a piece of work repeated with the same shapes (a compiled training step) has a part that
// splits over threads, so that leading a team for it pays. Learnt from its first run at each
// thread setting, which runs alone (each part that splits opens its own region, as without a
// team): a step whose parts all stay on one thread (a tiny network's) then never pays a team's
// region and hand-offs. The answer is only ever a time; results never depend on it.
class TeamNeed {
  public:
    // run_with_team(threads, work, context) when the work splits, else work(context) alone.
    void run(int threads, void (*work)(void* context), void* context);

    // Whether a run at `threads` threads has shown that the work splits (false before one has).
    bool splits(int threads) const;

    // Takes over what `other` learnt (for work of the same shapes: a step compiled again).
    void adopt(const TeamNeed& other);

  private:
    // 2 * threads + (1 if the work splits) for the last setting of more than one thread learnt, 0
    // before any; atomic, as two Python threads may share a compiled step.
    std::atomic<int> answer_{0};
};

// TeamNeed::run for a callable: work().
template <class Work>
void with_team(TeamNeed& need, int threads, Work& work) {
    need.run(threads, [](void* w) { (*static_cast<Work*>(w))(); }, &work);
}

}  // namespace nnfast
