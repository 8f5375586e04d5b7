"""The Optimizer base class: hyperparameters of both conventions, state, clipping, the learning
rate, the list and dict calling forms, and the contract with the one-call native training step
(``native_update()``). The update arithmetic itself is one call of an ``nnfast.ops`` function."""
import math
import numbers
from types import MappingProxyType

import numpy as np

from .. import ops as default_ops
from ..utils import checks
from ..utils.values import KerasInteger, KerasScalar
from . import clipping, schedules, update_call
from .keras_options import accept_keras_arguments, keras_variable_sizes
from .native import NativeUpdate, learning_rate_at
from .state import checked_state, slot_arrays

CONVENTIONS = ("keras", "torch")


class LearningRateValue(KerasScalar):
    """A constant learning rate as an optimizer hands it out: a float that also has the two methods
    Keras programs call on Keras 3's learning-rate variable, ``numpy()`` (a 0-d float32 array, as
    KerasScalar's) and ``assign(value)``."""

    __slots__ = ("_optimizer",)

    def __new__(cls, value, optimizer):
        self = super().__new__(cls, value)
        self._optimizer = optimizer
        return self

    def assign(self, value):
        """``optimizer.learning_rate = value``, as Keras's ``learning_rate.assign(value)``; returns
        the new rate."""
        self._optimizer.learning_rate = value
        return self._optimizer.learning_rate

    def __reduce__(self):  # a copy or a pickle is the plain number
        return float, (float(self),)


def _learning_rate(value):
    if callable(value):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError("learning_rate must be a non-negative real number, a callable "
                        f"schedule(iterations) -> float or a callable of no arguments, got {value!r}")
    return checks.real("learning_rate", value)


def _decay(value, learning_rate):
    decay = 0.0 if value is None else checks.real("decay", value, 0.0, math.inf, hi_open=True)
    if decay and callable(learning_rate):
        raise ValueError(f"decay must be 0 when learning_rate is a schedule (put the decay in the schedule, "
                         f"e.g. InverseTimeDecay(lr, 1, decay)), got decay={value!r}, learning_rate={learning_rate!r}")
    return decay


def arguments(frame_locals):
    """A subclass constructor's arguments, from its ``locals()`` taken first thing: each optimizer
    spells out its signature (names, order, defaults) and hands every argument on to Optimizer."""
    return {k: v for k, v in frame_locals.items() if k not in ("self", "__class__")}


def _describe_keys(missing, extra):
    parts = []
    if missing:
        parts.append(f"missing keys {missing}")
    if extra:
        parts.append(f"unexpected keys {extra}")
    return " and ".join(parts)


def _as_list(name, value):
    """apply's params or grads as a list or tuple: one ndarray becomes a list of it."""
    if isinstance(value, np.ndarray):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of numpy.ndarray (or one ndarray), got {type(value).__name__}")
    return value


class Optimizer:
    """Base class: state handling, clipping, learning rate, dict/list calling.

    Subclasses define ``UPDATE_KERNEL`` (the name of the update function), ``USES_STEP``,
    ``HYPERPARAMETERS`` (the hyperparameter names with their keras and torch defaults) and
    implement ``check`` (validation of the resolved hyperparameters), ``layout`` (the positional
    state arguments of the update function: a slot name or None each) and ``call_kwargs`` (the
    constant keyword arguments).
    """

    UPDATE_KERNEL = None
    USES_STEP = True
    HYPERPARAMETERS = {}  # name -> (keras default, torch default), in signature order
    TORCH_ONLY = ()       # names that must be 0 under keras
    DEFAULT_NAME = None
    SLOT_INIT = {}        # slot name -> the hyperparameter holding its initial value (else 0)
    KERAS_SCALARS = 0     # scalar variables Keras 3's optimizer adds to its slots (Nadam's u_product)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:  # every optimizer takes Keras 2's lr and decay
            cls.__init__ = accept_keras_arguments(cls.__dict__["__init__"])

    def __init__(self, *, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                 convention, name, **hyper):
        legacy = self.__dict__.pop("_keras2", {})
        if "lr" in legacy:
            learning_rate = legacy["lr"]
        if not isinstance(convention, str) or convention not in CONVENTIONS:  # (`in` compares an array elementwise)
            raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
        col = 0 if convention == "keras" else 1
        given = dict(learning_rate=learning_rate, weight_decay=weight_decay, **hyper)
        for key in self.TORCH_ONLY:
            if convention == "keras" and given[key] is not None and not (
                    isinstance(given[key], numbers.Real) and given[key] == 0):
                raise ValueError(f"{key} is only defined for convention='torch' "
                                 f"(got {key}={given[key]!r} with convention='keras')")
        resolved = {}
        for key, defaults in self.HYPERPARAMETERS.items():  # the signature's order
            resolved[key] = defaults[col] if given[key] is None else given[key]

        self._learning_rate = _learning_rate(resolved.pop("learning_rate"))
        self._decay = _decay(legacy.get("decay"), self._learning_rate)
        resolved["weight_decay"] = checks.real("weight_decay", resolved["weight_decay"])
        self.check(resolved, convention)

        clips = {mode: checks.optional_real(mode, value) for mode, value in
                 zip(clipping.CLIP_MODES, (clipvalue, clipnorm, global_clipnorm))}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set, got "
                             + ", ".join(f"{k}={clips[k]!r}" for k in ("clipnorm", "clipvalue", "global_clipnorm")))
        if name is None:
            name = self.DEFAULT_NAME
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")

        self.name = name
        self._convention = convention
        self._hyper = resolved
        self._clips = clips
        # the clipping applied before each update (a limit of 0 disables it, as in Keras)
        self._clip_mode = next((mode for mode, limit in clips.items() if limit), None)
        self.ops = default_ops
        """The functional module whose update function runs the step: nnfast.ops (native) or
        nnfast.reference (the NumPy twin). Settable."""
        self.iterations = 0
        # the constant keyword arguments of the update call (step and learning_rate come per step)
        self._kw = self.call_kwargs(resolved, convention)
        self._bound = (None, None)  # (ops module, its bound update call), made by the first step
        self._slot_names = tuple(s for s in self.layout(resolved) if s is not None)
        self._reset_slots()

    # ---- subclass hooks ------------------------------------------------------------------------

    def check(self, hp, convention):
        """Validate (and normalise in place) the resolved hyperparameters."""
        raise NotImplementedError

    def layout(self, hp):
        """The update function's positional state arguments: a slot name, or None, each."""
        raise NotImplementedError

    def call_kwargs(self, hp, convention):
        """The update function's constant keyword arguments."""
        raise NotImplementedError

    # ---- public attributes ---------------------------------------------------------------------

    @property
    def learning_rate(self):
        """The learning rate: a float (a LearningRateValue, with Keras's ``numpy()`` and ``assign()``)
        or a callable schedule(iterations) -> float. Settable."""
        lr = self._learning_rate
        return lr if callable(lr) else LearningRateValue(lr, self)

    @learning_rate.setter
    def learning_rate(self, value):
        value = _learning_rate(value)
        _decay(self._decay, value)
        self._learning_rate = value
        self._native = None
        self._prepared = None

    @property
    def decay(self):
        """Keras 2's time-based decay: step ``t`` (0-based) uses ``learning_rate / (1 + decay * t)``;
        0 (the default) for none. Only with a float learning rate."""
        return self._decay

    @property
    def convention(self):
        return self._convention

    @property
    def weight_decay(self):
        return self._hyper["weight_decay"]

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Keras's exemption of some weights from the weight decay. nnfast decays every weight of a
        step alike, so this is refused where it would change anything: with a weight decay."""
        if self._hyper["weight_decay"] and (var_list or var_names):
            raise NotImplementedError(f"{type(self).__name__}.exclude_from_weight_decay is not supported by nnfast: "
                                      "its weight decay applies to every weight (see docs/keras.md)")

    clipnorm = property(lambda self: self._clips["clipnorm"])
    clipvalue = property(lambda self: self._clips["clipvalue"])
    global_clipnorm = property(lambda self: self._clips["global_clipnorm"])

    @property
    def slot_names(self):
        """Names of the state arrays this optimizer keeps (Keras 3 names), in update-call order."""
        return self._slot_names

    @property
    def slots(self):
        """The live state: slot name -> list of arrays aligned with the parameters (empty until
        built). Read-only view; use get_state/set_state to copy or restore."""
        return MappingProxyType(self._slots)

    @property
    def built(self):
        """True once the state has been created (by a first step or set_state)."""
        return self._n is not None

    def keras_variables(self, dtype, extra_slots=()):
        """(count, bytes) of the variables Keras 3's optimizer of this kind holds once built, as
        model.summary() reports them (keras_options.keras_variable_sizes); None before it is built."""
        return keras_variable_sizes(self, dtype, extra_slots)

    def native_update(self):
        """What the one-call native training step needs to run this optimizer's update, as a
        NativeUpdate; None when the step cannot run it: gradient clipping (done in Python), an
        ``ops`` other than nnfast.ops, or no state yet (the first step builds it). Every optimizer,
        learning-rate schedule and Keras 2 ``decay`` runs there (a Python callable learning rate
        gets its rate from Python each step). Cached until the state or the learning rate changes,
        so calling it per step costs an attribute read."""
        native = self._native
        if native is None and self._args is not None and self._clip_mode is None and self.ops is default_ops:
            constants = dict(self._kw)  # (step and learning_rate are passed per step)
            native = self._native = NativeUpdate(self.UPDATE_KERNEL, MappingProxyType(constants), self._args,
                                                 self._learning_rate, self._decay)
        return native

    def get_config(self):
        """The constructor arguments as resolved (Keras-like); ``cls.from_config(config)`` rebuilds."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        config = {"name": self.name, "learning_rate": lr}
        if self._decay:
            config["decay"] = self._decay
        config.update(self._hyper)
        config.update({k: self._clips[k] for k in ("clipnorm", "clipvalue", "global_clipnorm")})
        config["convention"] = self._convention
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self):
        lr = self._learning_rate
        lr = getattr(lr, "__name__", repr(lr)) if callable(lr) else repr(lr)
        items = [f"learning_rate={lr}"] + ([f"decay={self._decay!r}"] if self._decay else [])
        items += [f"{k}={v!r}" for k, v in self._hyper.items()]
        items += [f"{k}={self._clips[k]!r}" for k in ("clipnorm", "clipvalue", "global_clipnorm")
                  if self._clips[k] is not None]
        items.append(f"convention={self._convention!r}")
        return f"{type(self).__name__}({', '.join(items)}) [iterations={self.iterations}]"

    # ---- state ---------------------------------------------------------------------------------

    def _reset_slots(self):
        self._n = None          # number of tensors, once built
        self._keys = None       # dict keys (update()), in state order, once known
        self._slots = {}        # slot name -> list of arrays aligned with the params
        self._args = None       # the positional state arguments of the update call
        self._native = None     # the cached NativeUpdate
        self._prepared = None   # the prepared update call (None: not made yet; False: none)

    def _install(self, slots, n):
        self._slots = slots
        self._args = tuple(None if s is None else slots[s] for s in self.layout(self._hyper))
        self._n = n
        self._native = None
        self._prepared = None

    def _build(self, params):
        n = len(params)
        for i in range(n):
            if not isinstance(params[i], np.ndarray):
                raise TypeError(f"params[{i}] must be a numpy.ndarray, got {type(params[i]).__name__}")
            if not params[i].flags.c_contiguous:  # before the state is allocated (a zero-stride view may claim TBs)
                raise ValueError(f"params[{i}] must be C-contiguous (use numpy.ascontiguousarray), got strides "
                                 f"{params[i].strides}")
        slots = {}
        for s in self._slot_names:
            init = self.SLOT_INIT.get(s)
            value = 0.0 if init is None else self._hyper[init]
            slots[s] = slot_arrays(params, value)
        self._install(slots, n)

    def get_state(self):
        """``{"iterations": int, "config": dict, "slots": {name: [array copies]}, "names": keys}``.

        ``slots`` is empty until the state has been created; ``names`` is the list of dict keys
        (``update()``) in state order, or None.
        """
        return {
            "iterations": self._iterations,
            "config": self.get_config(),
            "slots": {s: [a.copy() for a in arrays] for s, arrays in self._slots.items()},
            "names": None if self._keys is None else list(self._keys),
        }

    def set_state(self, state):
        """Restore ``get_state()`` output (copies are taken). Validates the structure first: on any
        error nothing changes. The hyperparameters of this optimizer are kept."""
        iterations, slots, n, names = checked_state(state, self._slot_names, type(self).__name__)
        self._reset_slots()
        if slots:
            self._install(slots, n)
        elif names is not None:
            self._n = len(names)
        if names is not None:
            self._keys = tuple(names)
        self.iterations = iterations

    @property
    def iterations(self):
        """The steps taken (an int with Keras's ``numpy()``). Settable."""
        return KerasInteger(self._iterations)

    @iterations.setter
    def iterations(self, value):
        self._iterations = checks.integer("iterations", value)

    # ---- stepping ------------------------------------------------------------------------------

    def apply(self, params, grads):
        """One step on a list of parameters (updated in place) and the list of their gradients."""
        prepared = self._prepared  # the step's constants checked once (_prepare_update)
        if prepared and type(params) is list and len(params) == self._n and self.ops is default_ops:
            iterations = self._iterations
            try:
                prepared(params, grads, iterations + 1)
            except (TypeError, ValueError):  # refused, modifying nothing: the general path says why,
                self._prepared = False       # or converts another library's arrays, from now on
            else:
                self._iterations = iterations + 1
                return
        if type(params) is not list or type(grads) is not list:  # the common case checks in one test
            params, grads = _as_list("params", params), _as_list("grads", grads)
        self._apply(params, grads, None)

    def update(self, params, grads):
        """One step on a dict of parameters (updated in place) and a dict of gradients, same keys."""
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
        if not isinstance(grads, dict):
            raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
        keys = self._keys
        names = tuple(params)
        if names == keys:
            plist = list(params.values())
        else:
            if keys is not None:
                known = set(keys)
                if params.keys() != known:
                    raise ValueError("params keys do not match the keys the optimizer state was made "
                                     "for: " + _describe_keys([k for k in keys if k not in params],
                                                              [k for k in names if k not in known]))
                names = keys
            plist = [params[k] for k in names]
        if tuple(grads) == names:
            glist = list(grads.values())
        else:
            if grads.keys() != params.keys():
                raise ValueError("grads keys must match params keys: " + _describe_keys(
                    [k for k in names if k not in grads], [k for k in grads if k not in params]))
            glist = [grads[k] for k in names]
        self._apply(plist, glist, names)
        if keys is None:
            self._keys = names

    def _apply(self, params, grads, names):
        built = False
        n = self._n
        if n is None:
            self._build(params)
            built = True
        elif len(params) != n:
            raise ValueError(f"params has {len(params)} tensors, but the optimizer state was made "
                             f"for {n}")
        iterations = self._iterations  # the int itself: the property makes a KerasInteger each read
        learning_rate = self._learning_rate
        try:
            if self._decay or callable(learning_rate):  # else the number is the rate: no call (a step
                learning_rate = learning_rate_at(learning_rate, self._decay, iterations)  # is ~10 us)
            if self._clip_mode is not None:  # clipping makes new arrays: the kernel's layout checks come first
                for i, g in enumerate(grads):
                    if isinstance(g, np.ndarray) and not g.flags.c_contiguous:
                        raise ValueError(f"grads[{i}] must be C-contiguous (use numpy.ascontiguousarray), got "
                                         f"strides {g.strides}")
                grads = clipping.clip(grads, self._clip_mode, self._clips[self._clip_mode])
            ops, call = self._bound
            if ops is not self.ops:
                call = self._update_call()
            call(params, grads, self._args, iterations + 1, learning_rate)
        except Exception as err:
            if built:                    # a failed first call leaves the optimizer unbuilt
                self._reset_slots()
            elif isinstance(err, (TypeError, ValueError)):
                self._explain_mismatch(params, names, err)
            raise
        self._iterations = iterations + 1
        if self._prepared is None:  # apply's next steps, at a constant rate, unclipped, on nnfast.ops
            lr = self._learning_rate
            constant = not (self._decay or callable(lr) or self._clip_mode or self.ops is not default_ops)
            self._prepared = constant and update_call.prepare(self.ops, self.UPDATE_KERNEL, self._kw, self._args, lr)

    def _update_call(self):
        """self.ops' update function with the constant arguments bound (update_call.bind)."""
        if self._bound[0] is not self.ops:  # made again when self.ops changes
            self._bound = (self.ops, update_call.bind(getattr(self.ops, self.UPDATE_KERNEL), self._kw, self.USES_STEP))
        return self._bound[1]

    def _explain_mismatch(self, params, names, err):
        """After a rejected call: if a parameter does not match its state, say so as a ValueError."""
        if not self._slot_names:
            return
        ref = self._slots[self._slot_names[0]]
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray):
                continue
            s = ref[i]
            if p.shape != s.shape or p.dtype != s.dtype:
                what = f"params[{i}]" if names is None else f"params[{names[i]!r}]"
                raise ValueError(f"{what} has shape {p.shape} and dtype {p.dtype}, but the optimizer "
                                 f"state was made for shape {s.shape} and dtype {s.dtype}") from err
