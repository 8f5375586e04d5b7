"""Optimizers with Keras 3 names and behaviour, on the fused multi-tensor update functions of ``nnfast.ops``.

Every class here is a thin, stateful shell around one functional update of :mod:`nnfast.ops`
(``sgd_update``, ``adagrad_update``, ``rmsprop_update``, ``adam_update``): it owns the state arrays
("slots"), the step count and the learning rate, and makes exactly one update call per step for all
tensors. No update arithmetic is done here; the only NumPy math in this module is gradient clipping.

Conventions
    ``convention="keras"`` (default) follows Keras 3, ``convention="torch"`` follows ``torch.optim``;
    the update rules are tabulated in DESIGN.md, *Optimizer semantics*. Every argument that is left
    at ``None`` takes the default of the chosen convention:

    ========  ===================================================  =====================================
    class     keras                                                torch
    ========  ===================================================  =====================================
    SGD       lr 0.01, momentum 0                                  lr 1e-3, momentum 0, dampening 0
    Adagrad   lr 1e-3, initial_accumulator_value 0.1, eps 1e-7     lr 1e-2, initial 0, eps 1e-10,
                                                                   lr_decay 0
    RMSprop   lr 1e-3, rho 0.9, eps 1e-7                           lr 1e-2, rho (alpha) 0.99, eps 1e-8
    Adam      lr 1e-3, betas 0.9/0.999, eps 1e-7                   lr 1e-3, betas 0.9/0.999, eps 1e-8
    AdamW     as Adam, weight_decay 0.004                          as Adam, weight_decay 1e-2
    ========  ===================================================  =====================================

    Keras weight decay is decoupled (``w -= lr*wd*w`` before the update) for every optimizer; under
    torch it is L2 (``g += wd*w``) except for AdamW. ``weight_decay=None`` means 0 (AdamW: the
    convention's default). ``dampening`` and ``lr_decay`` exist only in torch; a non-zero value under
    keras is a ValueError.

Calling
    ``opt.apply(params, grads)`` takes two lists aligned by position; ``opt.update(params, grads)``
    takes two dicts keyed by name (the keys must match exactly; the tensor order is the order of the
    first ``update`` call, so later calls may list the keys in any order). Parameters are updated in
    place. The state is created on the first call (zeros, Adagrad: ``initial_accumulator_value``, with
    each parameter's shape and dtype) and reused: a step allocates no state. A later call with another
    number of tensors, other keys, or shapes/dtypes that do not match the state raises ValueError and
    modifies nothing. ``iterations`` counts the successful steps; the update function gets
    ``step = iterations + 1``.

Learning rate
    A float, or a callable ``schedule(iterations) -> float`` called before each step with the 0-based
    count of steps already applied (as Keras calls a ``LearningRateSchedule`` with
    ``optimizer.iterations``). ``opt.learning_rate`` may be reassigned at any time.

Clipping (as Keras 3; at most one of the three; 0 disables)
    ``clipvalue``: each gradient clipped to ``[-v, v]``. ``clipnorm``: each gradient scaled by
    ``c / max(||g||, c)``. ``global_clipnorm``: every gradient scaled by ``c / max(global_norm, c)``
    (a non-finite global norm gives NaN gradients, as Keras). Norms are computed in double; the scale
    is computed once in double and applied as one multiplication. Clipping works on new arrays and
    never modifies the caller's gradients; a gradient that needs no scaling is passed on as is.

State
    ``get_state()`` returns ``{"iterations", "config", "slots", "names"}`` with copies of the state
    arrays; ``set_state(state)`` validates the structure and restores copies, so training continued
    after a restore is bit-identical to uninterrupted training. ``set_state`` does not change the
    hyperparameters (``state["config"]`` is informational; build the optimizer with
    ``from_config(state["config"])`` to get the same ones).

Backend
    Each instance calls the update functions of its ``_ops`` attribute, which defaults to the module
    ``nnfast.ops`` (read from this module's global ``ops`` when the instance is made). Setting
    ``opt._ops = nnfast.reference`` runs the same optimizer on the NumPy twin.

Slot names follow Keras 3: SGD ``momentums``; Adagrad ``accumulators``; RMSprop ``velocities``,
``average_gradients`` (centered), ``momentums`` (momentum > 0); Adam/AdamW ``momentums``,
``velocities``, ``velocity_hats`` (amsgrad).
"""

import math
import numbers

import numpy as np

from . import ops
from ._checks import real_in_range as _real

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "get"]

CONVENTIONS = ("keras", "torch")


# --------------------------------------------------------------------------------------------------
# argument checks (constructor time only; the update functions check everything again)
# --------------------------------------------------------------------------------------------------

def _flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _learning_rate(value):
    if callable(value):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError("learning_rate must be a non-negative real number or a callable "
                        f"schedule(iterations) -> float, got {value!r}")
    return _real("learning_rate", value)


def _optional_real(name, value):
    return None if value is None else _real(name, value)


def _global_norm_scale(norm_sq, clipnorm):
    norm = math.sqrt(norm_sq)
    if not math.isfinite(norm):
        return math.nan
    return clipnorm / max(norm, clipnorm)


def _sq_norm(g):
    """Sum of squares of a float array, accumulated in double."""
    return float(np.sum(np.square(g, dtype=np.float64)))


def _is_float_array(g):
    return isinstance(g, np.ndarray) and g.dtype.kind == "f"


def _slot_arrays(params, value):
    """One state array per parameter, filled with `value`: views into a single contiguous buffer
    when the parameters share a dtype (so a model's whole optimizer state is one arena per slot)."""
    dtypes = {p.dtype for p in params}
    if len(dtypes) != 1:
        return [np.full(p.shape, value, p.dtype) for p in params]
    arena = np.full(sum(p.size for p in params), value, dtypes.pop())
    views, offset = [], 0
    for p in params:
        views.append(arena[offset:offset + p.size].reshape(p.shape))
        offset += p.size
    return views


def _describe_keys(missing, extra):
    parts = []
    if missing:
        parts.append(f"missing keys {missing}")
    if extra:
        parts.append(f"unexpected keys {extra}")
    return " and ".join(parts)


# --------------------------------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------------------------------

class Optimizer:
    """Base class: state handling, clipping, learning rate, dict/list calling.

    Subclasses define ``_FN`` (the name of the update function), ``_USES_STEP``, ``_HYPER`` (the
    hyperparameter names with their keras and torch defaults) and implement ``_check`` (validation
    of the resolved hyperparameters), ``_layout`` (the positional state arguments of the update
    function: a slot name or None each) and ``_call_kwargs`` (the constant keyword arguments).
    """

    _FN = None
    _USES_STEP = True
    _HYPER = {}           # name -> (keras default, torch default), in signature order
    _TORCH_ONLY = ()      # names that must be 0 under keras
    _DEFAULT_NAME = None
    _SLOT_INIT = {}       # slot name -> the hyperparameter holding its initial value (else 0)

    def __init__(self, *, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                 convention, name, **hyper):
        if convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
        col = 0 if convention == "keras" else 1
        given = dict(learning_rate=learning_rate, weight_decay=weight_decay, **hyper)
        for key in self._TORCH_ONLY:
            if convention == "keras" and given[key] is not None and not (
                    isinstance(given[key], numbers.Real) and given[key] == 0):
                raise ValueError(f"{key} is only defined for convention='torch' "
                                 f"(got {key}={given[key]!r} with convention='keras')")
        resolved = {}
        for key, defaults in self._HYPER.items():     # the signature's order
            resolved[key] = defaults[col] if given[key] is None else given[key]

        self._learning_rate = _learning_rate(resolved.pop("learning_rate"))
        resolved["weight_decay"] = _real("weight_decay", resolved["weight_decay"])
        self._check(resolved, convention)

        clips = dict(clipnorm=_optional_real("clipnorm", clipnorm),
                     clipvalue=_optional_real("clipvalue", clipvalue),
                     global_clipnorm=_optional_real("global_clipnorm", global_clipnorm))
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set, got "
                             + ", ".join(f"{k}={v!r}" for k, v in clips.items()))
        if name is None:
            name = self._DEFAULT_NAME
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")

        self.name = name
        self._convention = convention
        self._hyper = resolved
        self._clips = clips
        # what _apply does: 0 none, 1 clipvalue, 2 clipnorm, 3 global_clipnorm
        self._clip_mode = (1 if clips["clipvalue"] else 2 if clips["clipnorm"]
                           else 3 if clips["global_clipnorm"] else 0)
        self._ops = ops
        self.iterations = 0
        # the constant keyword arguments of the update call; step and learning_rate are set per step
        self._kw = self._call_kwargs(resolved, convention)
        self._slot_names = tuple(s for s in self._layout(resolved) if s is not None)
        self._reset_slots()

    # ---- subclass hooks ------------------------------------------------------------------------

    def _check(self, hp, convention):
        raise NotImplementedError

    def _layout(self, hp):
        raise NotImplementedError

    def _call_kwargs(self, hp, convention):
        raise NotImplementedError

    # ---- public attributes ---------------------------------------------------------------------

    @property
    def learning_rate(self):
        """The learning rate: a float or a callable schedule(iterations) -> float. Settable."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _learning_rate(value)

    @property
    def convention(self):
        return self._convention

    @property
    def weight_decay(self):
        return self._hyper["weight_decay"]

    clipnorm = property(lambda self: self._clips["clipnorm"])
    clipvalue = property(lambda self: self._clips["clipvalue"])
    global_clipnorm = property(lambda self: self._clips["global_clipnorm"])

    @property
    def slot_names(self):
        """Names of the state arrays this optimizer keeps (Keras 3 names), in update-call order."""
        return self._slot_names

    @property
    def built(self):
        """True once the state has been created (by a first step or set_state)."""
        return self._n is not None

    def get_config(self):
        """The constructor arguments as resolved (Keras-like); ``cls.from_config(config)`` rebuilds."""
        config = {"name": self.name, "learning_rate": self._learning_rate}
        config.update(self._hyper)
        config.update(self._clips)
        config["convention"] = self._convention
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        lr = self._learning_rate
        lr = getattr(lr, "__name__", repr(lr)) if callable(lr) else repr(lr)
        items = [f"learning_rate={lr}"]
        items += [f"{k}={v!r}" for k, v in self._hyper.items()]
        items += [f"{k}={v!r}" for k, v in self._clips.items() if v is not None]
        items.append(f"convention={self._convention!r}")
        return f"{type(self).__name__}({', '.join(items)}) [iterations={self.iterations}]"

    # ---- state ---------------------------------------------------------------------------------

    def _reset_slots(self):
        self._n = None          # number of tensors, once built
        self._keys = None       # dict keys (update()), in state order, once known
        self._slots = {}        # slot name -> list of arrays aligned with the params
        self._args = None       # the positional state arguments of the update call

    def _install(self, slots, n):
        self._slots = slots
        self._args = tuple(None if s is None else slots[s] for s in self._layout(self._hyper))
        self._n = n

    def _build(self, params):
        n = len(params)
        for i in range(n):
            if not isinstance(params[i], np.ndarray):
                raise TypeError(f"params[{i}] must be a numpy.ndarray, got {type(params[i]).__name__}")
        slots = {}
        for s in self._slot_names:
            init = self._SLOT_INIT.get(s)
            value = 0.0 if init is None else self._hyper[init]
            slots[s] = _slot_arrays(params, value)
        self._install(slots, n)

    def get_state(self):
        """``{"iterations": int, "config": dict, "slots": {name: [array copies]}, "names": keys}``.

        ``slots`` is empty until the state has been created; ``names`` is the list of dict keys
        (``update()``) in state order, or None.
        """
        return {
            "iterations": self.iterations,
            "config": self.get_config(),
            "slots": {s: [a.copy() for a in arrays] for s, arrays in self._slots.items()},
            "names": None if self._keys is None else list(self._keys),
        }

    def set_state(self, state):
        """Restore ``get_state()`` output (copies are taken). Validates the structure first: on any
        error nothing changes. The hyperparameters of this optimizer are kept."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict as returned by get_state(), got {type(state).__name__}")
        missing = [k for k in ("iterations", "slots") if k not in state]
        if missing:
            raise ValueError(f"state is missing {missing}")
        it = state["iterations"]
        if isinstance(it, (bool, np.bool_)) or not isinstance(it, numbers.Integral) or it < 0:
            raise ValueError(f"state['iterations'] must be an integer >= 0, got {it!r}")
        slots = state["slots"]
        if not isinstance(slots, dict):
            raise TypeError(f"state['slots'] must be a dict, got {type(slots).__name__}")
        names = state.get("names")
        if slots and set(slots) != set(self._slot_names):
            raise ValueError(f"state['slots'] has slots {sorted(slots)}, but {type(self).__name__} "
                             f"with this configuration keeps {list(self._slot_names)}")
        n = None
        new = {}
        first = None
        for s in self._slot_names if slots else ():
            arrays = slots[s]
            if not isinstance(arrays, (list, tuple)):
                raise TypeError(f"state['slots'][{s!r}] must be a list of arrays, "
                                f"got {type(arrays).__name__}")
            if n is None:
                n, first = len(arrays), arrays
            elif len(arrays) != n:
                raise ValueError(f"state['slots'][{s!r}] has {len(arrays)} arrays, "
                                 f"state['slots'][{self._slot_names[0]!r}] has {n}")
            for i, a in enumerate(arrays):
                where = f"state['slots'][{s!r}][{i}]"
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"{where} must be a numpy.ndarray, got {type(a).__name__}")
                if a.dtype not in (np.float32, np.float64):
                    raise TypeError(f"{where} must be float32 or float64, got {a.dtype}")
                ref = first[i]
                if a.shape != ref.shape or a.dtype != ref.dtype:
                    raise ValueError(f"{where} has shape {a.shape} and dtype {a.dtype}, but "
                                     f"state['slots'][{self._slot_names[0]!r}][{i}] has shape "
                                     f"{ref.shape} and dtype {ref.dtype}")
            new[s] = [np.array(a, dtype=a.dtype, order="C", copy=True) for a in arrays]
        if names is not None:
            if not isinstance(names, (list, tuple)) or len(set(names)) != len(names):
                raise ValueError(f"state['names'] must be a list of distinct keys or None, got {names!r}")
            if n is not None and len(names) != n:
                raise ValueError(f"state['names'] has {len(names)} keys but the slots have {n} arrays")
        # commit
        self._reset_slots()
        if new:
            self._install(new, n)
        elif names is not None:
            self._n = len(names)
        if names is not None:
            self._keys = tuple(names)
        self.iterations = int(it)

    # ---- stepping ------------------------------------------------------------------------------

    def apply(self, params, grads):
        """One step on a list of parameters (updated in place) and the list of their gradients."""
        if isinstance(params, np.ndarray):
            params = [params]
        if isinstance(grads, np.ndarray):
            grads = [grads]
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
        try:
            kw = self._kw
            lr = self._learning_rate
            if callable(lr):
                lr = float(lr(self.iterations))
            kw["learning_rate"] = lr
            if self._USES_STEP:
                kw["step"] = self.iterations + 1
            if self._clip_mode:
                with np.errstate(over="ignore", invalid="ignore"):   # Inf and NaN are data
                    grads = self._clip(grads)
            getattr(self._ops, self._FN)(params, grads, *self._args, **kw)
        except Exception as err:
            if built:                    # a failed first call leaves the optimizer unbuilt
                self._n, self._slots, self._args = None, {}, None
            elif isinstance(err, (TypeError, ValueError)):
                self._explain_mismatch(params, names, err)
            raise
        self.iterations += 1

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

    def _clip(self, grads):
        mode = self._clip_mode
        if mode == 1:
            v = self._clips["clipvalue"]
            return [np.clip(g, -v, v) if _is_float_array(g) else g for g in grads]
        if mode == 2:
            c = self._clips["clipnorm"]
            out = []
            for g in grads:
                if _is_float_array(g):
                    norm = math.sqrt(_sq_norm(g))
                    scale = c / max(norm, c) if norm == norm else math.nan
                    if scale != 1.0:
                        g = g * scale
                out.append(g)
            return out
        c = self._clips["global_clipnorm"]
        sq = 0.0
        for g in grads:
            if _is_float_array(g):
                sq += _sq_norm(g)
        scale = _global_norm_scale(sq, c)
        if scale == 1.0:
            return grads
        return [g * scale if _is_float_array(g) else g for g in grads]


# --------------------------------------------------------------------------------------------------
# the optimizers
# --------------------------------------------------------------------------------------------------

class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum. Calls ``ops.sgd_update``.

    keras: ``v = momentum*v - lr*g; w += v`` (nesterov: ``w += momentum*v - lr*g``); torch:
    ``b = g`` at step 1 else ``b = momentum*b + (1-dampening)*g; w -= lr*b`` (nesterov:
    ``w -= lr*(g + momentum*b)``). torch nesterov needs momentum > 0 and dampening == 0.
    """

    _FN = "sgd_update"
    _HYPER = {"learning_rate": (0.01, 1e-3), "momentum": (0.0, 0.0), "nesterov": (False, False),
              "weight_decay": (0.0, 0.0), "dampening": (0.0, 0.0)}
    _TORCH_ONLY = ("dampening",)
    _DEFAULT_NAME = "SGD"

    def __init__(self, learning_rate=None, momentum=None, nesterov=None, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, convention="keras",
                 dampening=None, name=None):
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
                         weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, convention=convention,
                         dampening=dampening, name=name)

    def _check(self, hp, convention):
        hp["momentum"] = _real("momentum", hp["momentum"], 0.0, 1.0)
        hp["nesterov"] = _flag("nesterov", hp["nesterov"])
        hp["dampening"] = _real("dampening", hp["dampening"], 0.0, 1.0)
        if convention == "torch" and hp["nesterov"] and (hp["momentum"] == 0 or hp["dampening"] != 0):
            raise ValueError("nesterov (convention='torch') requires momentum > 0 and dampening == 0, "
                             f"got momentum={hp['momentum']!r}, dampening={hp['dampening']!r}")

    def _layout(self, hp):
        return ("momentums" if hp["momentum"] else None,)

    def _call_kwargs(self, hp, convention):
        return dict(momentum=hp["momentum"], nesterov=hp["nesterov"], dampening=hp["dampening"],
                    weight_decay=hp["weight_decay"], convention=convention)

    momentum = property(lambda self: self._hyper["momentum"])
    nesterov = property(lambda self: self._hyper["nesterov"])
    dampening = property(lambda self: self._hyper["dampening"])


class Adagrad(Optimizer):
    """Adagrad. Calls ``ops.adagrad_update``.

    keras: ``acc`` starts at initial_accumulator_value; ``acc += g^2; w -= lr*g/sqrt(acc + eps)``.
    torch: ``clr = lr/(1 + (t-1)*lr_decay); acc += g^2; w -= clr*g/(sqrt(acc) + eps)``.
    """

    _FN = "adagrad_update"
    _HYPER = {"learning_rate": (1e-3, 1e-2), "initial_accumulator_value": (0.1, 0.0),
              "epsilon": (1e-7, 1e-10), "weight_decay": (0.0, 0.0), "lr_decay": (0.0, 0.0)}
    _TORCH_ONLY = ("lr_decay",)
    _DEFAULT_NAME = "adagrad"
    _SLOT_INIT = {"accumulators": "initial_accumulator_value"}

    def __init__(self, learning_rate=None, initial_accumulator_value=None, epsilon=None,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 convention="keras", lr_decay=None, name=None):
        super().__init__(learning_rate=learning_rate,
                         initial_accumulator_value=initial_accumulator_value, epsilon=epsilon,
                         weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, convention=convention,
                         lr_decay=lr_decay, name=name)

    def _check(self, hp, convention):
        hp["initial_accumulator_value"] = _real("initial_accumulator_value",
                                                hp["initial_accumulator_value"])
        hp["epsilon"] = _real("epsilon", hp["epsilon"])
        hp["lr_decay"] = _real("lr_decay", hp["lr_decay"])

    def _layout(self, hp):
        return ("accumulators",)

    def _call_kwargs(self, hp, convention):
        return dict(epsilon=hp["epsilon"], lr_decay=hp["lr_decay"], weight_decay=hp["weight_decay"],
                    convention=convention)

    initial_accumulator_value = property(lambda self: self._hyper["initial_accumulator_value"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    lr_decay = property(lambda self: self._hyper["lr_decay"])


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum. Calls ``ops.rmsprop_update``.

    keras: ``v = rho*v + (1-rho)*g^2; w -= lr*g/sqrt(v + eps)`` (centered: ``v - a^2``; momentum
    keeps lr inside the buffer). torch (rho is torch's alpha): ``w -= lr*g/(sqrt(v) + eps)``;
    momentum ``b = momentum*b + g/denom; w -= lr*b``.
    """

    _FN = "rmsprop_update"
    _USES_STEP = False
    _HYPER = {"learning_rate": (1e-3, 1e-2), "rho": (0.9, 0.99), "momentum": (0.0, 0.0),
              "epsilon": (1e-7, 1e-8), "centered": (False, False), "weight_decay": (0.0, 0.0)}
    _DEFAULT_NAME = "rmsprop"

    def __init__(self, learning_rate=None, rho=None, momentum=None, epsilon=None, centered=None,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 convention="keras", name=None):
        super().__init__(learning_rate=learning_rate, rho=rho, momentum=momentum, epsilon=epsilon,
                         centered=centered, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         convention=convention, name=name)

    def _check(self, hp, convention):
        hp["rho"] = _real("rho", hp["rho"], 0.0, 1.0, hi_open=True)
        hp["momentum"] = _real("momentum", hp["momentum"], 0.0, 1.0)
        hp["epsilon"] = _real("epsilon", hp["epsilon"])
        hp["centered"] = _flag("centered", hp["centered"])

    def _layout(self, hp):
        return ("velocities", "average_gradients" if hp["centered"] else None,
                "momentums" if hp["momentum"] else None)

    def _call_kwargs(self, hp, convention):
        return dict(rho=hp["rho"], epsilon=hp["epsilon"], momentum=hp["momentum"],
                    centered=hp["centered"], weight_decay=hp["weight_decay"], convention=convention)

    rho = property(lambda self: self._hyper["rho"])
    momentum = property(lambda self: self._hyper["momentum"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    centered = property(lambda self: self._hyper["centered"])


class Adam(Optimizer):
    """Adam, optionally AMSGrad. Calls ``ops.adam_update``.

    keras: ``alpha = lr*sqrt(1-b2^t)/(1-b1^t); m += (1-b1)(g-m); v += (1-b2)(g^2-v);
    w -= alpha*m/(sqrt(v) + eps)``, weight decay decoupled. torch: bias-corrected form with
    ``eps`` added to ``sqrt(v)/sqrt(bc2)``, weight decay as L2 (``g += wd*w``).
    """

    _FN = "adam_update"
    _HYPER = {"learning_rate": (1e-3, 1e-3), "beta_1": (0.9, 0.9), "beta_2": (0.999, 0.999),
              "epsilon": (1e-7, 1e-8), "amsgrad": (False, False), "weight_decay": (0.0, 0.0)}
    _DEFAULT_NAME = "adam"
    _DECOUPLED = False

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, epsilon=None, amsgrad=None,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 convention="keras", name=None):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         convention=convention, name=name)

    def _check(self, hp, convention):
        hp["beta_1"] = _real("beta_1", hp["beta_1"], 0.0, 1.0, hi_open=True)
        hp["beta_2"] = _real("beta_2", hp["beta_2"], 0.0, 1.0, hi_open=True)
        hp["epsilon"] = _real("epsilon", hp["epsilon"])
        hp["amsgrad"] = _flag("amsgrad", hp["amsgrad"])

    def _layout(self, hp):
        return ("momentums", "velocities", "velocity_hats" if hp["amsgrad"] else None)

    def _call_kwargs(self, hp, convention):
        return dict(beta_1=hp["beta_1"], beta_2=hp["beta_2"], epsilon=hp["epsilon"],
                    amsgrad=hp["amsgrad"], weight_decay=hp["weight_decay"],
                    decoupled_weight_decay=self._DECOUPLED, convention=convention)

    beta_1 = property(lambda self: self._hyper["beta_1"])
    beta_2 = property(lambda self: self._hyper["beta_2"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    amsgrad = property(lambda self: self._hyper["amsgrad"])


class AdamW(Adam):
    """Adam with decoupled weight decay: Keras 3 AdamW (wd 0.004) or torch.optim.AdamW (wd 1e-2,
    ``w *= 1 - lr*wd`` before the Adam step). ``weight_decay=None`` means the convention's default.
    """

    _HYPER = dict(Adam._HYPER, weight_decay=(0.004, 1e-2))
    _DEFAULT_NAME = "adamw"
    _DECOUPLED = True

    def __init__(self, learning_rate=None, weight_decay=None, beta_1=None, beta_2=None, epsilon=None,
                 amsgrad=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 convention="keras", name=None):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         convention=convention, name=name)


_BY_NAME = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(identifier):
    """An optimizer from a name ("sgd", "adagrad", "rmsprop", "adam", "adamw"; any case), default
    constructed; an Optimizer instance is returned as is."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}: expected an Optimizer instance or one of "
                     f"{sorted(_BY_NAME)}")
