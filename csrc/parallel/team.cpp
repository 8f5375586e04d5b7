#include "parallel/team.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>

#include "parallel/float_env.h"
#include "parallel/spin_wait.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nnfast {
namespace {

// Threads in all teams now running, and the processors they may share: while they outnumber the
// processors (several Python threads training at once), a thread spinning for one that waits for a
// processor only delays it.
std::atomic<int> g_team_threads{0};
std::atomic<int64_t> g_teams_led{0};  // teams_led()
std::atomic<int64_t> g_idle_units{0};  // idle_units_run()
int processors() {
#ifdef _OPENMP
    static const int n = omp_get_num_procs();
    return n;
#else
    return 1;
#endif
}

// Waits until ready() holds: spinning (with the core's pause hint) for some tens of microseconds,
// the gap between a step's parallel parts, then yielding the processor between checks; yielding
// at once while teams' threads outnumber the processors.
template <class Ready>
void wait_until(const Ready& ready) {
    constexpr int kSpins = 4096;
    spin_wait(ready, g_team_threads.load(std::memory_order_relaxed) > processors() ? 0 : kSpins);
}

// How long a waiting thread spins before it takes up the idle task, so that the short gaps between
// a step's parallel parts (a few hundred ns) never start a unit that the next part would wait for.
// Timed rather than counted in pauses, which take 47 ns on the Zen 5 and a few on older cores.
constexpr std::chrono::nanoseconds kIdleAfter{1000};

// What the leader and its threads share. The job's fields are written by the leader only while
// no thread reads them (every thread has reported the previous job done), then published by
// `generation`; each flag the threads spin on has a cache line of its own.
struct Team {
    alignas(64) std::atomic<uint64_t> generation{0};  // bumped for each job, and once to end
    TeamJob job = nullptr;
    void* context = nullptr;
    int job_threads = 0;
    bool quit = false;
    int size = 1;
    alignas(64) std::atomic<int> done{0};  // threads other than the leader finished with the job
    alignas(64) std::atomic<int> arrived{0};  // team_job_barrier: threads at the barrier
    alignas(64) std::atomic<uint32_t> phase{0};  // team_job_barrier: barriers passed
    // set_team_idle_task: the task, and the threads inside a call of it
    alignas(64) std::atomic<bool (*)(void*)> idle_task{nullptr};
    std::atomic<void*> idle_context{nullptr};
    alignas(64) std::atomic<int> idle_busy{0};
};

thread_local Team* t_led = nullptr;     // the team this thread leads
thread_local Team* t_job = nullptr;     // the team whose job this thread runs
thread_local int t_job_threads = 0;     // that job's threads
thread_local int64_t t_split_parts = 0;  // note_split_part's count on this thread

// Runs the job on thread `tid` of the team, marked as a job for team_job_barrier and for nesting.
void run_part(Team& team, int tid, int threads) {
    t_job = &team;
    t_job_threads = threads;
    team.job(team.context, tid, threads);
    t_job = nullptr;
}

#ifdef _OPENMP
// One unit of the team's idle task, if it has one; false when it has none or no more work.
// busy is raised before the task is read (both sequentially consistent), so that a leader that
// cleared the task and then reads busy as 0 knows no call is under way or can start.
bool idle_unit(Team& team) {
    team.idle_busy.fetch_add(1, std::memory_order_seq_cst);
    bool (*task)(void*) = team.idle_task.load(std::memory_order_seq_cst);
    const bool more = task && task(team.idle_context.load(std::memory_order_relaxed));
    team.idle_busy.fetch_sub(1, std::memory_order_release);
    if (task) g_idle_units.fetch_add(1, std::memory_order_relaxed);
    return more;
}

// A thread other than the leader: runs each job it is part of until the leader ends the team,
// and the idle task while it waits long enough for the next.
void serve(Team& team, int tid) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = seen;
        const auto since = std::chrono::steady_clock::now();
        int checks = 0;
        bool idle = true;  // until the task has no more work for this wait
        wait_until([&] {
            if ((g = team.generation.load(std::memory_order_acquire)) != seen) return true;
            if (idle && ++checks % 8 == 0 && team.idle_task.load(std::memory_order_relaxed) &&
                std::chrono::steady_clock::now() - since >= kIdleAfter)
                idle = idle_unit(team);
            return false;
        });
        seen = g;
        if (team.quit) return;
        if (tid < team.job_threads) run_part(team, tid, team.job_threads);
        team.done.fetch_add(1, std::memory_order_release);
    }
}
#endif

}  // namespace

void run_with_team(int threads, void (*work)(void* context), void* context) {
#ifdef _OPENMP
    if (threads > 1 && !t_led && !t_job) {
        Team team;
        std::exception_ptr failure;
        const FpMode mode = read_fp_mode();
#pragma omp parallel num_threads(threads)
        {
            if (omp_get_thread_num() == 0) {
                team.size = omp_get_num_threads();
                g_team_threads.fetch_add(team.size, std::memory_order_relaxed);
                if (team.size > 1) {
                    t_led = &team;
                    g_teams_led.fetch_add(1, std::memory_order_relaxed);
                }
                try {
                    work(context);
                } catch (...) {
                    failure = std::current_exception();
                }
                t_led = nullptr;
                g_team_threads.fetch_sub(team.size, std::memory_order_relaxed);
                team.quit = true;
                team.generation.fetch_add(1, std::memory_order_release);
            } else {
                FpModeScope fp(mode);
                serve(team, omp_get_thread_num());
            }
        }
        if (failure) std::rethrow_exception(failure);
        return;
    }
#else
    (void)threads;
#endif
    work(context);
}

int team_job_threads() { return t_led && !t_job ? t_led->size : 0; }

void set_team_idle_task(bool (*task)(void* context), void* context) {
    Team* team = t_led;
    if (!team || team->size < 2) return;
    if (task) {
        team->idle_context.store(context, std::memory_order_relaxed);
        team->idle_task.store(task, std::memory_order_seq_cst);
        return;
    }
    team->idle_task.store(nullptr, std::memory_order_seq_cst);
    wait_until([&] { return team->idle_busy.load(std::memory_order_seq_cst) == 0; });
}

void run_team_job(TeamJob job, void* context, int threads) noexcept {
    Team& team = *t_led;
    team.job = job;
    team.context = context;
    team.job_threads = threads;
    team.done.store(0, std::memory_order_relaxed);
    team.generation.fetch_add(1, std::memory_order_release);
    run_part(team, 0, threads);
    wait_until([&] { return team.done.load(std::memory_order_acquire) == team.size - 1; });
}

bool in_team_job() { return t_job && t_job_threads > 1; }

// The last thread to arrive opens the barrier for the others by advancing the phase they read on
// arrival (no thread can reach the next barrier before it does).
void team_job_barrier() {
    Team& team = *t_job;
    const uint32_t phase = team.phase.load(std::memory_order_acquire);
    if (team.arrived.fetch_add(1, std::memory_order_acq_rel) == t_job_threads - 1) {
        team.arrived.store(0, std::memory_order_relaxed);
        team.phase.store(phase + 1, std::memory_order_release);
        return;
    }
    wait_until([&] { return team.phase.load(std::memory_order_acquire) != phase; });
}

int64_t teams_led() { return g_teams_led.load(std::memory_order_relaxed); }

int64_t idle_units_run() { return g_idle_units.load(std::memory_order_relaxed); }

void note_split_part() { ++t_split_parts; }

void TeamNeed::run(int threads, void (*work)(void* context), void* context) {
    if (threads < 2) return work(context);
    const int known = answer_.load(std::memory_order_relaxed);
    if (known / 2 == threads) return known % 2 ? run_with_team(threads, work, context) : work(context);
    const int64_t before = t_split_parts;
    work(context);  // alone: each part that splits opens its own region and says so
    answer_.store(2 * threads + (t_split_parts > before ? 1 : 0), std::memory_order_relaxed);
}

bool TeamNeed::splits(int threads) const {
    const int known = answer_.load(std::memory_order_relaxed);
    return threads > 1 && known / 2 == threads && known % 2 == 1;
}

void TeamNeed::adopt(const TeamNeed& other) {
    answer_.store(other.answer_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

double team_handoff_seconds(int64_t jobs, int repeats) {
    double best = 0.0;
    auto probe = [&] {
        if (team_job_threads() < 2) return;
        for (int r = 0; r < repeats; ++r) {
            const auto start = std::chrono::steady_clock::now();
            for (int64_t j = 0; j < jobs; ++j) run_team_job([](void*, int, int) {}, nullptr, 2);
            const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (r == 0 || t < best) best = t;
        }
    };
    if (jobs > 0) with_team(2, probe);
    return jobs > 0 ? best / double(jobs) : 0.0;
}

}  // namespace nnfast
