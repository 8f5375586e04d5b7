"""The contract between an optimizer and the one-call native training step: NativeUpdate (what the
step needs of the optimizer) and the learning rate of each step (a number, Keras 2's time-based
decay or a schedule), computed the same way in Python and, through ``NativeUpdate.schedule()``,
in the native multi-step runs."""
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Union

from ..utils.values import KerasInteger
from . import schedules


def learning_rate_at(learning_rate, decay, iterations):
    """The learning rate of the step taken after `iterations` steps: a callable schedule called with
    iterations (as Keras calls one with ``optimizer.iterations``), or with no arguments when it
    takes none (as Keras calls a plain callable), or Keras 2's time-based decay
    ``learning_rate / (1 + decay * iterations)`` in double, or the number itself."""
    if callable(learning_rate):
        if not isinstance(learning_rate, schedules.LearningRateSchedule) and takes_no_arguments(learning_rate):
            return float(learning_rate())
        return float(learning_rate(KerasInteger(iterations)))  # as optimizer.iterations reads
    if decay:
        return learning_rate / (1.0 + decay * iterations)
    return learning_rate


def takes_no_arguments(function):
    """Whether `function` can be called with no arguments (Keras's `learning_rate=lambda: 0.01`)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature: called with the step
        return False
    try:
        signature.bind()
    except TypeError:
        return False
    return True


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class NativeUpdate:
    """What the one-call native training step needs of an optimizer (see ``Optimizer.native_update``).

    kernel: the ``nnfast.ops`` update function's name ("adam_update", ...).
    hyperparameters: its constant keyword arguments (learning_rate and step are set per step).
    state: its positional state arguments (a list of arrays per slot, or None), aligned with the
        parameters; the same tuple object for as long as the state lives, so a caller may cache
        work made for it and compare with ``is``.
    learning_rate: a float, or a callable ``schedule(iterations) -> float``.
    decay: Keras 2's time-based decay of a float learning rate (0: none).
    """
    kernel: str
    hyperparameters: Mapping[str, Any]
    state: tuple = field(repr=False)  # a list of arrays per slot, or None
    learning_rate: Union[float, Callable[[int], float]]
    decay: float = 0.0

    def learning_rate_at(self, iterations):
        """The rate of the step after `iterations` steps, as Optimizer.apply computes it."""
        return learning_rate_at(self.learning_rate, self.decay, iterations)

    def schedule(self):
        """The learning rate as the native multi-step runs evaluate it per step, in C++: a pair
        (kind, params) (``nnfast._core.learning_rates`` computes the same rates), or None for a
        callable they cannot evaluate (a Python function, a schedule subclass), whose rate each
        step then gets from Python. Keras 2's decay is ``InverseTimeDecay(lr, 1, decay)``: the same
        operations as ``learning_rate_at``."""
        lr = self.learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return lr.native_parameters()
        if callable(lr):
            return None
        if self.decay:
            return ("inverse_time_decay", (float(lr), 1.0, float(self.decay), 0.0))
        return ("constant", (float(lr),))
