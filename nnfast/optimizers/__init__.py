"""Optimizers with Keras 3 names and behaviour, on the fused multi-tensor update functions of ``nnfast.ops``.

Every class here is a thin, stateful shell around one functional update of :mod:`nnfast.ops`
(``sgd_update``, ``adagrad_update``, ``rmsprop_update``, ``adam_update``): it owns the state arrays
("slots"), the step count and the learning rate, and makes exactly one update call per step for all
tensors. No update arithmetic is done here; the only NumPy math in this module is gradient clipping.

Conventions
    ``convention="keras"`` (default) follows Keras 3, ``convention="torch"`` follows ``torch.optim``;
    the update rules are tabulated in docs/design.md, *Optimizer conventions*. Every argument that is left
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
    ``optimizer.iterations``). ``opt.learning_rate`` may be reassigned at any time; a float rate is
    handed out with Keras's ``numpy()`` and ``assign(value)`` as well. The Keras 3
    schedules (``ExponentialDecay``, ``CosineDecay``, ...) are in :mod:`nnfast.optimizers.schedules`,
    evaluated in double; an optimizer's ``get_config`` serializes a schedule as Keras does.

    Keras 2 arguments: code written for Keras 2, such as ``SGD(lr=0.01, momentum=0.0, decay=0.0,
    nesterov=False)`` or ``Adam(lr=0.001, epsilon=None, decay=0.0)``, runs as it meant to on every
    optimizer (Keras 3 rejects ``lr``, and ignores ``decay`` with only a warning). ``lr`` is an alias of
    ``learning_rate`` (a DeprecationWarning; giving both is a TypeError). ``decay`` (>= 0) is Keras 2's
    time-based decay: step ``t`` (0-based ``iterations``) uses ``learning_rate / (1 + decay * t)``,
    computed in double; ``opt.learning_rate`` stays the rate given, ``opt.decay`` holds the decay and
    ``get_config`` lists it when it is not 0. A schedule with a non-zero decay is a ValueError
    (``InverseTimeDecay(lr, 1, decay)`` is the same decay as a schedule). ``epsilon=None`` is the
    convention's default, 1e-7 under keras, as Keras 2's backend epsilon. A model trains with a
    schedule or a ``decay`` on the one-call native step and its multi-step runs: the schedule's
    formula runs in C++ with the same double operations (``NativeUpdate.schedule()``); a Python
    callable (or a schedule subclass) gets its rate from Python each step.

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
    Each instance calls the update function of its ``ops`` attribute, the module ``nnfast.ops`` by
    default. Setting ``opt.ops = nnfast.reference`` runs the same optimizer on the NumPy twin.

The native training step
    ``opt.native_update()`` returns a frozen :class:`NativeUpdate` (update kernel, constant
    hyperparameters, state buffers, learning rate and decay): all the one-call native step of a
    model needs to run this optimizer's update in C++, for every optimizer here. It is None while
    that step cannot run it (see its docstring).

Layout
    ``base`` (the Optimizer class), ``native`` (NativeUpdate and the learning rate of a step),
    ``state`` (slot arenas, restored-state checks), ``clipping``, ``schedules``, and one module per
    optimizer family: ``sgd``, ``adagrad``, ``rmsprop``, ``adam``, ``adamax``, ``nadam``, ``radam``,
    ``adadelta``, ``lion``, ``ftrl``.

Slot names follow Keras 3: SGD ``momentums``; Adagrad ``accumulators``; RMSprop ``velocities``,
``average_gradients`` (centered), ``momentums`` (momentum > 0); Adam/AdamW ``momentums``,
``velocities``, ``velocity_hats`` (amsgrad).
"""

from ..utils import checks
from . import schedules  # noqa: F401 (nnfast.optimizers.schedules: the learning-rate schedules)
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import CONVENTIONS, Optimizer
from .ftrl import Ftrl
from .lion import Lion
from .nadam import Nadam
from .native import NativeUpdate
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "NativeUpdate", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam", "RAdam",
           "Adadelta", "Lion", "Ftrl", "CONVENTIONS", "get"]

_BY_NAME = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adamax": Adamax,
            "nadam": Nadam, "radam": RAdam, "adadelta": Adadelta, "lion": Lion, "ftrl": Ftrl}


def get(identifier):
    """An optimizer from a name ("sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam",
    "radam", "adadelta", "lion", "ftrl"; any case), default constructed; an Optimizer instance is
    returned as is; a ``{"class_name": ..., "config": ...}`` dict (Keras's serialized form) is built
    from its config."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if (isinstance(identifier, dict) and set(identifier) >= {"class_name", "config"}
            and str(identifier["class_name"]).lower() in _BY_NAME):  # keras.optimizers.serialize's form
        return _BY_NAME[str(identifier["class_name"]).lower()].from_config(identifier["config"])
    raise checks.not_one_of("optimizer", identifier, tuple(sorted(_BY_NAME)), also="an Optimizer instance")
