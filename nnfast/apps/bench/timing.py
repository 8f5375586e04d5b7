"""Timing with warm-up, repeats and medians: the machines are shared and noisy, so every figure
is a median with its spread, never a single run."""
import contextlib
import dataclasses
import os
import statistics
import time

from . import progress

# Every measurement starts after this pause (seconds), so worker threads that the previous
# measurement, often of another library, left spinning (OpenBLAS's wait about 0.1 s before they
# sleep, OpenMP's less) have parked and do not compete for the cores. NNFAST_BENCH_SETTLE overrides
# it (the tests set 0).
DEFAULT_SETTLE_SECONDS = 0.15


def settle_seconds():
    return float(os.environ.get("NNFAST_BENCH_SETTLE", DEFAULT_SETTLE_SECONDS))


# Threads do not always get whole cores on these shared machines: after the cores idle (as the
# settle pause lets them), the host sometimes gives two threads about one core's worth (likely both
# vCPUs on one physical core's two hardware threads), or one thread half a core, for as long as they
# stay busy (measured: a 2-thread FMA probe at 118 or 230 GFLOP/s and a 2-thread GEMM at 110 or 200,
# flipping only after an idle pause). So a measurement starts only when a short FMA probe on its
# threads reads at least FULL_PLACEMENT_SHARE of the best probe seen on that count; else it pauses
# and probes again, at most MAX_PLACEMENT_TRIES times (then it measures anyway, counted).
FULL_PLACEMENT_SHARE = 0.8
MAX_PLACEMENT_TRIES = 20
PLACEMENT_PROBE_ITERS = 800_000  # about 2 ms on one Zen 4 core

# The host also sometimes places the two vCPUs far apart (another CCX or socket, for minutes): a
# cache line then takes about 4x longer between them (a 2-thread team's empty hand-off about 500
# against 120 ns on the Zen 4), which the FMA probe does not see but every parallel part of a small
# training step pays (the tabular Keras epoch on 2 threads: 600-650 against 360-380 ms, processes
# alternated). So on 2 threads or more a measurement also waits until the hand-off probe
# (_core.team_handoff_seconds) reads at most HANDOFF_SLOWDOWN times the best seen.
HANDOFF_SLOWDOWN = 2.0
HANDOFF_PROBE_JOBS = 2000  # about 0.25 ms a run at 120 ns


@dataclasses.dataclass
class Placement:
    """The thread count of the running pass, the best probe per count, and what the checks did."""
    threads: int = 1
    best: dict = dataclasses.field(default_factory=dict)
    checks: int = 0
    retries: int = 0
    gave_up: int = 0
    discarded: int = 0
    handoff_best: float = float("inf")  # seconds: the best hand-off probe on 2 threads or more
    far_apart: int = 0  # probes whose hand-off read more than HANDOFF_SLOWDOWN x handoff_best


placement = Placement()


def fma_gflops(iters, nt, seconds):
    """GFLOP/s of _core.fma_loop(iters, nt) run in `seconds` (128 multiply-adds per iteration and thread)."""
    return 256.0 * iters * nt / seconds / 1e9


def fma_probe_gflops(nt):
    """A short FMA probe on nt threads, in GFLOP/s: the best of three runs of about 2 ms. (nnfast's
    OpenMP workers spin a few milliseconds after it, within the next measurement's warm-up.)"""
    from nnfast import _core
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        _core.fma_loop(PLACEMENT_PROBE_ITERS, nt)
        best = min(best, time.perf_counter() - start)
    return fma_gflops(PLACEMENT_PROBE_ITERS, nt, best)


def handoff_probe_seconds():
    """Seconds per empty job of a 2-thread team, the best of three runs (0 without a second thread)."""
    from nnfast import _core
    return _core.team_handoff_seconds(HANDOFF_PROBE_JOBS, 3)


def placement_held(probe=fma_probe_gflops, handoff=handoff_probe_seconds):
    """Whether the running pass's threads get whole cores now: one probe reads at least
    FULL_PLACEMENT_SHARE of the best probe seen on that thread count (which it may raise), and on
    2 threads or more the hand-off probe at most HANDOFF_SLOWDOWN times its best (likewise)."""
    nt = placement.threads
    rate = probe(nt)
    best = placement.best[nt] = max(placement.best.get(nt, 0.0), rate)
    if rate < FULL_PLACEMENT_SHARE * best:
        return False
    if nt < 2:
        return True
    seconds = handoff()
    if seconds <= 0:  # no second thread to hand off to
        return True
    placement.handoff_best = min(placement.handoff_best, seconds)
    if seconds > HANDOFF_SLOWDOWN * placement.handoff_best:
        placement.far_apart += 1
        return False
    return True


def await_full_placement(probe=fma_probe_gflops, pause=time.sleep, handoff=handoff_probe_seconds):
    """Returns once the running pass's threads get whole cores (placement_held), pausing between
    probes, or after MAX_PLACEMENT_TRIES probes that say otherwise (counted)."""
    placement.checks += 1
    for _ in range(MAX_PLACEMENT_TRIES):
        if placement_held(probe, handoff):
            return
        placement.retries += 1
        pause(settle_seconds())
    placement.gave_up += 1


def settle():
    """Sleeps the settle pause, then waits for the threads to get whole cores; a measurement starts
    (counted by the run's progress report)."""
    if progress.active():
        progress.active().tick()
    time.sleep(settle_seconds())
    if settle_seconds() > 0:
        await_full_placement()


def case(text):
    """Names the case a section measures now, for the run's progress report on stderr."""
    if progress.active():
        progress.active().case(text)


@dataclasses.dataclass
class Timing:
    """Seconds per call over the repeats: median and the interquartile range."""
    median: float
    q1: float
    q3: float
    repeats: int
    calls_per_repeat: int

    @classmethod
    def of(cls, seconds, calls=1):
        """The Timing of repeats that took `seconds` each (per call, of `calls` calls a repeat)."""
        q = statistics.quantiles(seconds, n=4) if len(seconds) > 1 else [seconds[0]] * 3
        return cls(statistics.median(seconds), q[0], q[2], len(seconds), calls)

    @property
    def spread(self):
        """Half the interquartile range relative to the median (0.05 means +-5%)."""
        return (self.q3 - self.q1) / (2 * self.median) if self.median > 0 else 0.0


def measure(fn, *, repeats=15, min_repeat_time=0.005, max_total_time=3.0, warmup=2, check_each_repeat=False):
    """Median seconds per call of fn().

    Calls fn `warmup` times, picks how many calls make one repeat last at least min_repeat_time (so
    microsecond calls are not lost in timer noise), then times `repeats` repeats, fewer if the
    total would exceed max_total_time (never fewer than 3). Starts with the settle pause. With
    check_each_repeat, every repeat also starts only once the threads get whole cores
    (await_full_placement, untimed), and a repeat after which a probe finds them halved
    (placement_held) is discarded and run again, up to `repeats` times in a measurement: for
    repeats of seconds, long enough for the host to take half the cores in their middle.
    """
    settle()
    calls, repeat_seconds = _sized_repeat(fn, warmup, min_repeat_time)
    repeats = max(3, min(repeats, int(max_total_time / repeat_seconds)))
    per_call, discards = [], 0
    while len(per_call) < repeats:
        seconds = _placed_repeat(fn, calls, check_each_repeat, discards < repeats)
        if seconds is None:
            discards += 1
            continue
        per_call.append(seconds)
    return Timing.of(per_call, calls)


def _placed_repeat(fn, calls, check, may_discard):
    """Seconds per call of one repeat of `calls` calls of fn. With check, it starts once the threads
    get whole cores, and gives None (counted as discarded) when the probe after it finds them
    halved and may_discard."""
    if check:
        await_full_placement()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    seconds = (time.perf_counter() - start) / calls
    if check and may_discard and not placement_held():
        placement.discarded += 1
        return None
    return seconds


def _sized_repeat(fn, warmup, min_repeat_time):
    """(calls per repeat, seconds of one repeat) of fn after `warmup` calls, as measure sizes them."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-9)
    calls = max(1, int(min_repeat_time / one))
    return calls, one * calls


def measure_together(fns, *, repeats=15, min_repeat_time=0.005, max_total_time=3.0, warmup=2,
                     check_each_repeat=False):
    """{key: Timing} of each callable of the dict `fns`, measured as measure does but in turns:
    every round times one repeat of each, the order rotating from round to round, so that a slow
    spell of the shared host (a neighbour taking memory bandwidth, a halved core) falls on all of
    them alike and the ratios between them stay fair. max_total_time is the budget per callable.
    check_each_repeat places every repeat as measure does (a repeat after which the probe finds the
    threads halved is run again, up to `repeats` times per callable)."""
    settle()
    sized = {key: _sized_repeat(fn, warmup, min_repeat_time) for key, fn in fns.items()}
    longest = max((seconds for _, seconds in sized.values()), default=1e-9)
    repeats = max(3, min(repeats, int(max_total_time / longest)))
    keys, per_call = list(fns), {key: [] for key in fns}
    discards = dict.fromkeys(keys, 0)
    for r in range(repeats):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            fn, calls = fns[key], sized[key][0]
            while (seconds := _placed_repeat(fn, calls, check_each_repeat, discards[key] < repeats)) is None:
                discards[key] += 1
            per_call[key].append(seconds)
    return {key: Timing.of(per_call[key], sized[key][0]) for key in keys}


@contextlib.contextmanager
def threads(n):
    """nnfast, NumPy's BLAS (through threadpoolctl when installed) and torch on n threads."""
    import nnfast
    if progress.active():
        progress.active().threads(n)
    before, placement_before = nnfast.get_num_threads(), placement.threads
    nnfast.set_num_threads(n)
    placement.threads = n
    torch = optional_import("torch")
    torch_before = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(n)
    limiter = contextlib.nullcontext()
    tpc = optional_import("threadpoolctl")
    if tpc:
        limiter = tpc.threadpool_limits(limits=n, user_api="blas")
    try:
        with limiter:
            yield
    finally:
        nnfast.set_num_threads(before)
        placement.threads = placement_before
        if torch:
            torch.set_num_threads(torch_before)


def optional_import(name):
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def section_config(defaults, sizes, chosen, known, what):
    """A section's sizes (defaults updated by `sizes`), checked: repeats >= 1, and every one of
    `chosen` (models or parts) among `known`."""
    cfg = dict(defaults, **(sizes or {}))
    if cfg["repeats"] < 1:
        raise ValueError(f"repeats must be >= 1, got {cfg['repeats']}")
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise ValueError(f"unknown {what}(s) {unknown}; expected some of {known}")
    return cfg
