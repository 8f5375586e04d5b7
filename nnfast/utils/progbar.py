"""The Keras-style progress bar (:class:`Progbar`) and its text formats, written to ``sys.stdout``."""

import numbers
import sys
import time

import numpy as np

__all__ = ["Progbar", "write", "format_value", "format_per_step", "format_eta"]


def write(text):
    """Write to the current sys.stdout (whatever it is at the time) and flush."""
    sys.stdout.write(text)
    sys.stdout.flush()


def format_value(value):
    """' 0.1234', or ' 1.2346e-05' when |value| <= 1e-3 (Keras' rule); non-numbers as str."""
    if isinstance(value, (numbers.Real, np.generic, np.ndarray)) and np.ndim(value) == 0:
        try:
            x = float(value)
        except (TypeError, ValueError):
            return f" {value}"
        return f" {x:.4f}" if abs(x) > 1e-3 else f" {x:.4e}"
    return f" {value}"


def format_per_step(seconds, unit):
    """'3s/step', '12ms/step' or '870us/step'."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds):
    """'1:02:03', '2:03' or '7s'."""
    s = int(seconds)
    if s > 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if s > 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s}s"


class Progbar:
    """A Keras-style progress bar written to ``sys.stdout``.

    verbose=1 redraws one line in place (``\\r``), at most every ``interval`` seconds except for the
    final update, which always shows and ends the line::

        12/32 [==========>...................] - ETA: 0s - loss: 0.0512
        32/32 [==============================] - 0s 1ms/step - loss: 0.0100 - mae: 0.0835

    verbose=2 writes only the final line, ``32/32 - 0s - 1ms/step - loss: 0.0100``; verbose=0 nothing.
    ``values`` (a dict or (name, value) pairs) are shown as given; names keep their first-seen order.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, unit_name="step"):
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._values = {}
        self._start = time.perf_counter()
        self._last_update = None
        self._line_width = 0
        self._seen = 0

    def update(self, current, values=None, finalize=None):
        """Show progress ``current`` (steps done); ``finalize`` defaults to ``current >= target``."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._values.update(values or {})
        self._seen = current
        if self.verbose == 0 or (self.verbose == 2 and not finalize):
            return
        now = time.perf_counter()
        if not finalize and self._last_update is not None and now - self._last_update < self.interval:
            return
        self._last_update = now
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        if self.verbose == 1:
            self._redraw(current, elapsed, per_step, finalize)
        else:
            count = self._counter(current)
            write(f"{count} - {elapsed:.0f}s - {format_per_step(per_step, self.unit_name)}"
                  f"{self._format_values()}\n")

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen + n, values)

    def end_line(self):
        """End a line left unfinished (training interrupted mid-epoch), so later output starts afresh."""
        if self._line_width:
            write("\n")
            self._line_width = 0

    def _redraw(self, current, elapsed, per_step, finalize):
        if finalize:
            timing = f" - {elapsed:.0f}s {format_per_step(per_step, self.unit_name)}"
        elif self.target is not None:
            timing = f" - ETA: {format_eta(per_step * (self.target - current))}"
        else:
            timing = ""
        line = self._counter(current) + self._bar(current) + timing + self._format_values()
        padding = " " * max(0, self._line_width - len(line))
        self._line_width = 0 if finalize else len(line)
        write("\r" + line + padding + ("\n" if finalize else ""))

    def _counter(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        return f"{current:{len(str(self.target))}d}/{self.target}"

    def _bar(self, current):
        if self.target is None:
            return ""
        done = min(self.width, int(self.width * current / self.target) if self.target else self.width)
        head = (">" if current < self.target else "=") if done else ""
        return " [" + "=" * max(0, done - 1) + head + "." * (self.width - done) + "]"

    def _format_values(self):
        return "".join(f" - {name}:{format_value(v)}" for name, v in self._values.items())
