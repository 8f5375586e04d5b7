"""What the callbacks that watch training share: the watched quantity (:class:`Monitor`) and
their messages (:func:`say`)."""

import math
import warnings

from ..utils import checks
from ..utils.progbar import write

__all__ = ["Monitor", "say"]


class Monitor:
    """The logged quantity a callback watches, which direction is better, and by how much it must move."""

    MODES = ("auto", "min", "max")

    def __init__(self, owner, name, mode="auto", min_delta=0.0, when_missing="it is skipped"):
        checks.string("monitor", name)
        checks.one_of("mode", mode, self.MODES)
        if mode == "auto":
            base = name[4:] if name.startswith("val_") else name
            mode = "max" if "acc" in base or base.startswith("auc") else "min"
        self.owner = owner
        self.name = name
        self.mode = mode
        self.min_delta = abs(checks.real("min_delta", min_delta, -math.inf))
        self.when_missing = when_missing  # what the owner does when the quantity is not logged
        self._warned = False

    @property
    def worst(self):
        """The starting "best" value: +inf when minimizing, -inf when maximizing."""
        return math.inf if self.mode == "min" else -math.inf

    def improved(self, current, best):
        """Whether ``current`` beats ``best`` by more than ``min_delta``."""
        if self.mode == "min":
            return current < best - self.min_delta
        return current > best + self.min_delta

    def value(self, logs):
        """The monitored value as a float, or None (with a warning once per run) when not logged."""
        logs = logs or {}
        current = logs.get(self.name)
        if current is None:
            if not self._warned:
                self._warned = True
                available = ", ".join(logs) or "none"
                warnings.warn(f"{self.owner} is conditioned on '{self.name}', which is not in the logs "
                              f"(available: {available}); {self.when_missing}", UserWarning, stacklevel=2)
            return None
        return float(current)

    def reset(self):
        """Allow the missing-quantity warning again (called at each training start)."""
        self._warned = False


def say(verbose, message):
    """A callback's message (when verbose), on its own line."""
    if verbose:
        write(message + "\n")
