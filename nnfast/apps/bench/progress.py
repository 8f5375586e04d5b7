"""Progress of a benchmark run on stderr while it runs: the section, the thread count, the case,
the elapsed time and an estimate of what is left.

The sections need not know about it: `timing.threads` announces each thread pass and every
measurement starts with `timing.settle`, which counts it; a section may also name its case with
`timing.case`. What is left is estimated from PRIOR_SECONDS (a thread pass of each section in a
full run on the project's 2-core machine), scaled by how the finished sections ran against their
priors; a running section's estimate switches to its own finished thread passes as soon as it has
one, counted in measurements (each pass of a section measures the same cases)."""
import sys
import time

# Seconds of one thread pass of each section, full run (quick: x QUICK_FACTOR, except the machine
# limits' probes, which --quick does not shorten), on the project's 2-core machine; only the ratios
# between them matter once a section has finished.
PRIOR_SECONDS = {"limits": 3, "optimizers": 150, "dense": 60, "training": 300, "keras_models": 120,
                 "subnormal": 60, "torch_optim": 60, "sklearn": 60}
QUICK_FACTOR = 0.1
DEFAULT_INTERVAL = 5.0  # seconds between two progress lines within a case

_active = None


def active():
    """The Progress of the running report, or None."""
    return _active


def duration(seconds):
    """'1h02m', '3m05s' or '42s'."""
    s = int(round(max(seconds, 0.0)))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Progress:
    """Context manager: while active, the report's sections report to it. `stream` (stderr by
    default) gets one line at each section start, case change and at most every `interval` seconds
    within a case, and a last line with the total time."""

    def __init__(self, sections, thread_counts, quick=False, stream=None, interval=DEFAULT_INTERVAL,
                 clock=time.monotonic):
        self.sections = list(sections)
        self.passes = len(thread_counts)
        self.scale = QUICK_FACTOR if quick else 1.0
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.clock = clock
        self.done = {}  # finished section -> seconds
        self.name = None

    def __enter__(self):
        global _active
        self.start = self.clock()
        self._last_line = -float("inf")
        _active = self
        return self

    def __exit__(self, *exc):
        global _active
        _active = None
        if exc[0] is None:
            self.end_section()
            self._write(f"done: {len(self.done)} section(s) in {duration(self.clock() - self.start)}")
        return False

    # ---- events ---------------------------------------------------------------------------------

    def begin_section(self, name):
        self.end_section()
        now = self.clock()
        self.name, self.section_start, self.pass_starts = name, now, []
        self.pass_ticks, self.ticks, self.thread_count, self.case_text = [], 0, None, None
        self._report(force=True)

    def end_section(self):
        if self.name is not None:
            self.done[self.name] = self.clock() - self.section_start
            self.name = None

    def threads(self, n):
        """A thread pass of the running section starts (timing.threads)."""
        if self.name is None:
            return
        if self.pass_starts:
            self.pass_ticks.append(self.ticks)
        self.pass_starts.append(self.clock())
        self.thread_count, self.ticks = n, 0

    def case(self, text):
        """The running section now measures `text` (a line is written when it changes)."""
        if self.name is not None and text != self.case_text:
            self.case_text = text
            self._report(force=True)

    def tick(self):
        """A measurement starts (timing.settle)."""
        if self.name is not None:
            self.ticks += 1
            self._report()

    # ---- the estimate ---------------------------------------------------------------------------

    def _prior(self, name):
        return PRIOR_SECONDS.get(name, 60) * self.passes * (1.0 if name == "limits" else self.scale)

    def _calibration(self):
        """Measured / prior time of the finished sections (1 before any has finished)."""
        prior = sum(self._prior(n) for n in self.done)
        return sum(self.done.values()) / prior if prior > 0 else 1.0

    def section_left(self):
        """Seconds left in the running section."""
        now = self.clock()
        if self.name is None:
            return 0.0
        finished = len(self.pass_starts) - 1  # thread passes done
        if finished >= 1 and len(self.pass_starts) <= self.passes:
            per_pass = (self.pass_starts[-1] - self.pass_starts[0]) / finished
            in_pass = per_pass * max(1.0 - self.ticks / max(1, self.pass_ticks[0]), 0.0)
            return in_pass + per_pass * (self.passes - len(self.pass_starts))
        return max(self._prior(self.name) * self._calibration() - (now - self.section_start), 0.0)

    def left(self):
        """Seconds left in the whole run."""
        if self.name is None:
            pending = [s for s in self.sections if s not in self.done]
        else:
            pending = self.sections[self.sections.index(self.name) + 1:] if self.name in self.sections else []
        return self.section_left() + self._calibration() * sum(self._prior(s) for s in pending)

    def line(self):
        index = self.sections.index(self.name) + 1 if self.name in self.sections else 0
        where = f"{self.name} ({index}/{len(self.sections)})" if index else str(self.name)
        if self.thread_count is not None:
            where += f", {self.thread_count} thread{'s' if self.thread_count > 1 else ''}"
        what = self.case_text or (f"measurement {self.ticks}" if self.ticks else "starting")
        return (f"{where}: {what}; elapsed {duration(self.clock() - self.start)}, "
                f"about {duration(self.section_left())} left in the section, {duration(self.left())} in all")

    def _report(self, force=False):
        now = self.clock()
        if force or now - self._last_line >= self.interval:
            self._last_line = now
            self._write(self.line())

    def _write(self, text):
        print(f"[nnfast bench] {text}", file=self.stream, flush=True)
