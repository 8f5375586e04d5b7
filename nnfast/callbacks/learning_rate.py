"""The callbacks that set the learning rate: LearningRateScheduler (by epoch) and
ReduceLROnPlateau (when the monitored quantity stops improving)."""

import inspect
import math
import numbers
import warnings

import numpy as np

from ..utils import checks
from .base import Callback
from .monitor import Monitor, say

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def _current_learning_rate(model, owner):
    """The optimizer's learning rate as a float (a schedule cannot be adjusted by a callback)."""
    lr = model.optimizer.learning_rate
    if callable(lr):
        raise TypeError(f"{owner} needs a float learning rate, but the optimizer's learning_rate is "
                        f"the schedule {lr!r}")
    return float(lr)


def _is_rate(lr):
    """A usable learning rate: a finite real number >= 0."""
    return (isinstance(lr, numbers.Real) and not isinstance(lr, (bool, np.bool_))
            and math.isfinite(lr) and lr >= 0)


def _takes_learning_rate(schedule):
    """Whether ``schedule`` accepts (epoch, lr); otherwise it is called with the epoch alone."""
    try:
        inspect.signature(schedule).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:  # no signature available (some builtins): assume the two-argument form
        pass
    return True


class LearningRateScheduler(Callback):
    """At each epoch start set the learning rate to ``schedule(epoch, lr)`` (or ``schedule(epoch)``).

    ``epoch`` is 0-based and ``lr`` the current learning rate; the result must be a finite real >= 0.
    The learning rate in effect is logged as ``logs["learning_rate"]`` at epoch end (Keras 3).
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"schedule must be callable as schedule(epoch, lr), got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._with_lr = _takes_learning_rate(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        if self._with_lr:
            lr = self.schedule(epoch, _current_learning_rate(self.model, "LearningRateScheduler"))
        else:
            lr = self.schedule(epoch)
        if not _is_rate(lr):
            raise ValueError(f"schedule must return a finite real number >= 0, got {lr!r} at epoch {epoch}")
        self.model.optimizer.learning_rate = float(lr)
        say(self.verbose, f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                           f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_learning_rate(self.model, "LearningRateScheduler")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras 3 semantics).

    After ``patience`` epochs without an improvement by more than ``|min_delta|`` the learning rate
    becomes ``max(lr * factor, min_lr)`` (unless already at ``min_lr``), then ``cooldown`` epochs pass
    before waiting starts again. The learning rate is logged as ``logs["learning_rate"]``.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if kwargs:  # Keras takes and ignores any other keyword (Keras 2's epsilon): said here
            warnings.warn(f"ReduceLROnPlateau ignores the argument(s) {', '.join(sorted(kwargs))}, as Keras 3 does",
                          UserWarning, stacklevel=2)
        self.monitor = Monitor("ReduceLROnPlateau", monitor, mode, min_delta)
        self.factor = checks.real("factor", factor, 0.0, 1.0, hi_open=True)
        self.patience = checks.integer("patience", patience)
        self.verbose = verbose
        self.cooldown = checks.integer("cooldown", cooldown)
        self.min_lr = checks.real("min_lr", min_lr)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.monitor.reset(self.model)
        self.best = self.monitor.worst
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        lr = _current_learning_rate(self.model, "ReduceLROnPlateau")
        if logs is not None:
            logs["learning_rate"] = lr
        current = self.monitor.value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor.improved(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new_lr = max(lr * self.factor, self.min_lr)
                self.model.optimizer.learning_rate = new_lr
                say(self.verbose, f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                                   f"{new_lr}.")
                self.cooldown_counter = self.cooldown
                self.wait = 0
