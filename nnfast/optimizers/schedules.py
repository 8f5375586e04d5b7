"""Learning-rate schedules with the names, arguments, formulas and configs of Keras 3's
``keras.optimizers.schedules``, evaluated in double precision (Python floats).

A schedule is a callable ``schedule(step) -> float`` of the 0-based step count; any optimizer takes
one as its ``learning_rate`` and calls it with ``optimizer.iterations`` before each step, as Keras
does. Keras computes the same formulas in the dtype of ``initial_learning_rate`` (float32 on the
torch backend), so its values differ from these by float32 rounding.

``get_config()`` returns the constructor arguments as Keras does (``from_config(config)`` rebuilds);
``serialize(schedule)`` gives Keras's dict ``{"module", "class_name", "config", "registered_name"}``
and ``deserialize`` reads it back (Keras 2's ``{"class_name", "config"}`` too).

Arguments are checked when the schedule is made: a wrong type is a TypeError, a wrong value a
ValueError, naming the argument. Learning rates must be >= 0, step counts > 0 (as Keras).
"""
import math

from ..utils import checks

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize"]


def _number(name, value, lo=0.0, lo_open=False):
    """A finite real >= lo (> lo when lo_open), kept as given (an int stays an int, as in Keras's
    configs); NumPy scalars become Python numbers."""
    checks.real(name, value, lo, math.inf, lo_open=lo_open, hi_open=True)
    return value.item() if hasattr(value, "item") else value


def _name(value):
    return checks.string("name", value)


class LearningRateSchedule:
    """Base class: a subclass implements ``__call__(step) -> float`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError(f"learning rate schedule {type(self).__name__!r} must override "
                                  "__call__(self, step)")

    def get_config(self):
        raise NotImplementedError(f"learning rate schedule {type(self).__name__!r} must override "
                                  "get_config() to be serializable")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def native_parameters(self):
        """(kind, params): what the native multi-step training runs need to evaluate this schedule
        in C++ with the same double operations as ``__call__`` (``nnfast._core.learning_rates(
        schedule.native_parameters(), first, count)`` gives its rates); None for a schedule they
        cannot evaluate, which is any class but the six here (a subclass may override
        ``__call__``): a model then gets the schedule's rate from Python each step."""
        native = _NATIVE.get(type(self))  # the exact type
        return None if native is None else native(self)

    def __repr__(self):
        try:
            config = self.get_config()
        except NotImplementedError:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


def _step(step):
    return float(step)


class StepDecay(LearningRateSchedule):
    """The arguments ExponentialDecay and InverseTimeDecay share, and their progress
    ``step / decay_steps`` (floored with ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number("decay_steps", decay_steps, lo_open=True)
        self.decay_rate = _number("decay_rate", decay_rate)
        self.staircase = checks.flag("staircase", staircase)
        self.name = _name(name)

    def progress(self, step):
        p = _step(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase`` the
    exponent is ``floor(step / decay_steps)``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return float(self.initial_learning_rate) * float(self.decay_rate) ** self.progress(step)


class InverseTimeDecay(StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with ``staircase``
    ``step / decay_steps`` is floored. (Keras 2's ``decay=d`` is ``InverseTimeDecay(lr, 1, d)``.)"""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return float(self.initial_learning_rate) / (1.0 + self.decay_rate * self.progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] < step
    <= boundaries[i]``, ``values[-1]`` after ``boundaries[-1]``. The boundaries must increase
    strictly; there must be one value more than boundaries."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries = self._list("boundaries", boundaries)
        values = self._list("values", values)
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"values must have one element more than boundaries ({len(boundaries)}), "
                             f"got {len(values)} values: {values!r}")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"boundaries must be strictly increasing, got {boundaries!r}")
        self.boundaries = boundaries
        self.values = values
        self.name = _name(name)

    @staticmethod
    def _list(name, items):
        if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
            raise TypeError(f"{name} must be a list of real numbers, got {items!r}")
        items = list(items)
        for i, v in enumerate(items):
            _number(f"{name}[{i}]", v, lo=-math.inf if name == "boundaries" else 0.0)
        return [v.item() if hasattr(v, "item") else v for v in items]

    def __call__(self, step):
        s = _step(step)
        for b, v in zip(self.boundaries, self.values):
            if s <= b:
                return float(v)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end`` with ``step`` capped at
    ``decay_steps``; with ``cycle`` the cap is instead the first multiple of ``decay_steps`` that is
    >= step (``decay_steps`` itself at step 0)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number("decay_steps", decay_steps, lo_open=True)
        self.end_learning_rate = _number("end_learning_rate", end_learning_rate)
        self.power = _number("power", power)
        self.cycle = checks.flag("cycle", cycle)
        self.name = _name(name)

    def __call__(self, step):
        s = _step(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if s == 0 else math.ceil(s / decay_steps)
        else:
            s = min(s, decay_steps)
        p = s / decay_steps
        end = float(self.end_learning_rate)
        return (float(self.initial_learning_rate) - end) * (1.0 - p) ** self.power + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


def _cosine(fraction, alpha):
    return (1.0 - alpha) * (0.5 * (1.0 + math.cos(math.pi * fraction))) + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay with an optional linear warmup (Keras 3).

    Without ``warmup_target``: ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) +
    alpha)`` with ``s = min(step, decay_steps)``. With it: for ``step < warmup_steps`` the rate goes
    linearly ``initial + (warmup_target - initial) * step / warmup_steps``; afterwards the cosine
    decay runs from ``warmup_target`` over ``step - warmup_steps``, capped at ``decay_steps``.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number("decay_steps", decay_steps, lo_open=True)
        self.alpha = _number("alpha", alpha)
        self.name = _name(name)
        self.warmup_target = None if warmup_target is None else _number("warmup_target", warmup_target)
        self.warmup_steps = _number("warmup_steps", warmup_steps)

    def __call__(self, step):
        s = _step(step)
        initial, decay_steps, alpha = float(self.initial_learning_rate), float(self.decay_steps), float(self.alpha)
        if self.warmup_target is None:
            return initial * _cosine(min(s, decay_steps) / decay_steps, alpha)
        target, warmup_steps = float(self.warmup_target), float(self.warmup_steps)
        s = min(s, decay_steps + warmup_steps)
        if s < warmup_steps:
            return (target - initial) * (s / warmup_steps) + initial
        return target * _cosine((s - warmup_steps) / decay_steps, alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Keras 3): the multiplier decays from 1 to ``alpha``
    over ``first_decay_steps``; each restart lasts ``t_mul`` times longer and starts ``m_mul``
    times lower. With ``t_mul < 1`` the periods shrink and Keras's formula has no value once their
    sum is reached: the schedule is NaN there, as in Keras."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _number("first_decay_steps", first_decay_steps, lo_open=True)
        self.t_mul = _number("t_mul", t_mul, lo_open=True)
        self.m_mul = _number("m_mul", m_mul)
        self.alpha = _number("alpha", alpha)
        self.name = _name(name)

    def __call__(self, step):
        fraction = _step(step) / float(self.first_decay_steps)
        t_mul = float(self.t_mul)
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            x = 1.0 - fraction * (1.0 - t_mul)
            if x <= 0:
                return math.nan
            restart = math.floor(math.log(x) / math.log(t_mul))
            # the restart index, exact at the period boundaries (where log's rounding may land off by one)
            while restart > 0 and (1.0 - t_mul ** restart) / (1.0 - t_mul) > fraction:
                restart -= 1
            while (1.0 - t_mul ** (restart + 1)) / (1.0 - t_mul) <= fraction:
                restart += 1
            fraction = (fraction - (1.0 - t_mul ** restart) / (1.0 - t_mul)) / t_mul ** restart
        decayed = float(self.m_mul) ** restart * 0.5 * (1.0 + math.cos(math.pi * fraction))
        alpha = float(self.alpha)
        return float(self.initial_learning_rate) * ((1.0 - alpha) * decayed + alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul, "m_mul": self.m_mul,
                "alpha": self.alpha, "name": self.name}


def _step_decay(kind):
    return lambda s: (kind, (float(s.initial_learning_rate), float(s.decay_steps), float(s.decay_rate),
                             float(s.staircase)))


# Each schedule's native kind and parameters, in the order of csrc/common/types.h's LearningRateSchedule.
_NATIVE = {
    ExponentialDecay: _step_decay("exponential_decay"),
    InverseTimeDecay: _step_decay("inverse_time_decay"),
    PiecewiseConstantDecay: lambda s: ("piecewise_constant", tuple(float(v) for v in s.boundaries + s.values)),
    PolynomialDecay: lambda s: ("polynomial_decay", (float(s.initial_learning_rate), float(s.decay_steps),
                                                     float(s.end_learning_rate), float(s.power), float(s.cycle))),
    CosineDecay: lambda s: ("cosine_decay", (float(s.initial_learning_rate), float(s.decay_steps), float(s.alpha),
                                             float(s.warmup_target is not None), float(s.warmup_target or 0.0),
                                             float(s.warmup_steps))),
    CosineDecayRestarts: lambda s: ("cosine_decay_restarts", (float(s.initial_learning_rate),
                                                              float(s.first_decay_steps), float(s.t_mul),
                                                              float(s.m_mul), float(s.alpha))),
}

_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                          PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """Keras's serialized form: ``{"module": "keras.optimizers.schedules", "class_name": ...,
    "config": get_config(), "registered_name": None}``."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(f"learning_rate_schedule must be a LearningRateSchedule, got {learning_rate_schedule!r}")
    cls = type(learning_rate_schedule)
    builtin = _BY_NAME.get(cls.__name__) is cls
    return {"module": "keras.optimizers.schedules" if builtin else cls.__module__,
            "class_name": cls.__name__, "config": learning_rate_schedule.get_config(),
            "registered_name": None if builtin else cls.__name__}


def deserialize(config, custom_objects=None):
    """The schedule ``serialize`` described (``{"class_name", "config", ...}``); a class name not
    among this module's schedules is looked up in ``custom_objects`` (name -> class)."""
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise TypeError(f"config must be a dict with 'class_name' and 'config' keys, got {config!r}")
    name = config["class_name"]
    classes = dict(_BY_NAME, **(custom_objects or {}))
    if name not in classes:
        raise checks.not_one_of("config['class_name']", name, tuple(sorted(classes)))
    cls = classes[name]
    if not (isinstance(cls, type) and issubclass(cls, LearningRateSchedule)):
        raise TypeError(f"custom_objects[{name!r}] must be a LearningRateSchedule subclass, got {cls!r}")
    return cls.from_config(dict(config["config"]))

