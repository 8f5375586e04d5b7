"""The progress bar (:class:`Progbar`) in Keras 3's text, written to ``sys.stdout``."""

import math
import numbers
import re
import sys
import time

import numpy as np

__all__ = ["Progbar", "write", "format_value", "format_per_step", "format_eta"]

# Keras 3 draws with these terminal codes whatever the output is (its Progbar takes every POSIX
# system for a dynamic display), so a log file holds the same bytes under Keras and under nnfast.
BOLD, GREEN, GREY, RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
TERMINAL_CODE = re.compile(r"\x1b\[\d+m")


def write(text):
    """Write to the current sys.stdout (whatever it is at the time) and flush."""
    sys.stdout.write(text)
    sys.stdout.flush()


def format_value(value, rule=abs):
    """' 0.1234', or ' 1.2346e-05' when rule(value) <= 1e-3 (Keras's rule: abs on the bar, the value
    itself on verbose=2 lines); what is not a number as str."""
    if isinstance(value, (numbers.Real, np.generic, np.ndarray)) and np.ndim(value) == 0:
        try:
            x = float(value)
        except (TypeError, ValueError):
            return f" {value}"
        return f" {x:.4f}" if rule(x) > 1e-3 else f" {x:.4e}"
    return f" {value}"


def format_per_step(seconds, unit):
    """'3s/step', '12ms/step' or '870us/step'."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds):
    """'1:02:03', '2:03' or '7s' (whole seconds, cut as Keras's %d cuts them)."""
    s = int(seconds)
    if seconds > 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if seconds > 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s}s"


class Progbar:
    """A progress bar that writes what Keras 3's ``keras.utils.Progbar`` writes.

    verbose=1 redraws one line in place (backspaces over the last one, then ``\\r``), at most every
    ``interval`` seconds except for the final update, which always shows and ends the line; without
    its terminal codes::

         12/32 ━━━━━━━━━━━━━━━━━━━━ 0s 1ms/step - loss: 0.0512
         32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 1ms/step - loss: 0.0100 - mae: 0.0835

    verbose=2 writes only the final line, ``32/32 - 0s - 1ms/step - loss: 0.0100``; verbose=0 nothing.
    ``values`` are (name, value) pairs or a dict; names keep their first-seen order. As in Keras, a
    value is averaged over the steps it was given for (weighted by the steps since the last update)
    unless its name is in ``stateful_metrics``, or, when ``stateless_metrics`` is given instead,
    unless it is not in those; the final update shows the values it is given.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step",
                 stateless_metrics=None):
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("give stateful_metrics or stateless_metrics, not both")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateful_metrics is None and stateless_metrics is not None:
            self._averaged = lambda name: name in stateless_metrics
        else:
            stateful = set(stateful_metrics or ())
            self._averaged = lambda name: name not in stateful
        self._values = {}  # name -> [sum, steps] (an averaged value) or [value, 1]
        self._start = time.time()
        self._last_update = 0.0
        self._after_first_step = None
        self._width_shown = 0  # of the last line drawn, which the next one backspaces over (as Keras)
        self._line_open = False  # a verbose=1 line is drawn and not ended
        self._seen = 0

    def update(self, current, values=None, finalize=None):
        """Show progress ``current`` (steps done); ``finalize`` defaults to ``current >= target``."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        values = values.items() if isinstance(values, dict) else (values or [])
        for name, value in values:
            if self._averaged(name) and not finalize:
                steps = max(current - self._seen, 1)
                if name in self._values:
                    self._values[name][0] += value * steps
                    self._values[name][1] += steps
                else:
                    self._values[name] = [value * steps, steps]
            else:
                self._values[name] = [value, 1]
        self._seen = current
        now = time.time()
        per_step = self._step_seconds(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._redraw(current, now, per_step, finalize)
        elif self.verbose == 2 and finalize and self.target:
            write(f"{self._counter(current)} - {now - self._start:.0f}s - "
                  f"{format_per_step(per_step, self.unit_name)}{self._format_values(rule=float)}\n")
        self._last_update = now

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen + n, values)

    def end_line(self):
        """End a line left unfinished (training interrupted mid-epoch), so later output starts afresh."""
        if self._line_open:
            write("\n")
            self._line_open = False

    def _step_seconds(self, current, now):
        """Seconds per step, leaving out the first step (which compiles, in Keras) once there are more."""
        if not current:
            return 0.0
        if self._after_first_step is not None and current > 1:
            seconds = (now - self._after_first_step) / (current - 1)
        else:
            seconds = (now - self._start) / current
        if current == 1:
            self._after_first_step = now
        return seconds

    def _redraw(self, current, now, per_step, finalize):
        if self.target:
            done = int(self.width * current / self.target)
            bar = f"{BOLD}{self._counter(current)}{RESET} "
            if done > 0:
                bar += f"{GREEN}{'━' * done}{RESET}"
            bar += f"{GREY}{'━' * (self.width - done)}{RESET}"
        else:
            bar = self._counter(current)
        if self.target and not finalize:
            clock = format_eta(per_step * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {BOLD}{clock}{RESET} {format_per_step(per_step, self.unit_name)}{self._format_values()}"
        shown = len(TERMINAL_CODE.sub("", bar + info))  # the characters a terminal shows
        padding = " " * max(0, self._width_shown - shown)
        write("\b" * self._width_shown + "\r" + bar + info + padding + ("\n" if finalize else ""))
        self._width_shown, self._line_open = shown, not finalize

    def _counter(self, current):
        if not self.target:
            return f"{current:7d}/Unknown"
        return f"{current:{int(math.log10(self.target)) + 1}d}/{self.target}"

    def _format_values(self, rule=abs):
        out = ""
        for name, (value, steps) in self._values.items():
            if isinstance(value, (numbers.Real, np.generic, np.ndarray)):
                value = float(np.mean(value)) / max(1, steps)
            out += f" - {name}:{format_value(value, rule)}"
        return out
