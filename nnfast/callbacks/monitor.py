"""What the callbacks that watch training share: the watched quantity (:class:`Monitor`) and
their messages (:func:`say`)."""

import math
import warnings

from ..utils import checks
from ..utils.progbar import write

__all__ = ["Monitor", "auto_mode", "say"]


class Monitor:
    """The logged quantity a callback watches, which direction is better, and by how much it must move."""

    MODES = ("auto", "min", "max")

    def __init__(self, owner, name, mode="auto", min_delta=0.0, when_missing="it is skipped"):
        checks.string("monitor", name)
        if mode not in self.MODES:  # as Keras: a warning, then "auto"
            warnings.warn(f"{owner} mode '{mode}' is unknown, fallback to auto mode.", UserWarning, stacklevel=3)
            mode = "auto"
        self.owner = owner
        self.name = name
        self.requested_mode = mode
        self.mode = auto_mode(name, ()) if mode == "auto" else mode
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

    def reset(self, model=None):
        """Allow the missing-quantity warning again, and with mode "auto" take the direction of
        ``model``'s compiled metric of that name (called at each training start)."""
        self._warned = False
        if self.requested_mode == "auto":
            self.mode = auto_mode(self.name, getattr(model, "metrics", None) or ())


def auto_mode(name, metrics):
    """"min" or "max" for the logged quantity `name`, as Keras's mode "auto" chooses: "loss" is
    minimized, a compiled metric of that name (without "val_") goes its ``direction``. Where
    neither tells (Keras raises a ValueError asking for a mode), the name does: "max" for an
    accuracy or an AUC, else "min"."""
    base = name[4:] if name.startswith("val_") else name
    direction = "down" if base == "loss" else None
    for metric in metrics:
        if getattr(metric, "name", None) == base and getattr(metric, "direction", None) is not None:
            direction = metric.direction
    if direction is None:
        direction = "up" if "acc" in base or base.startswith("auc") else "down"
    return "max" if direction == "up" else "min"


def say(verbose, message):
    """A callback's message (when verbose), on its own line."""
    if verbose:
        write(message + "\n")
