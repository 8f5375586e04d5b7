"""Keras's constructor arguments beyond an optimizer's own, which every optimizer takes as Keras
does: Keras 2's ``lr`` and ``decay``, and Keras 3's base-optimizer options (``use_ema``,
``ema_momentum``, ``ema_overwrite_frequency``, ``loss_scale_factor``,
``gradient_accumulation_steps``): checked, accepted where they change nothing, refused by name
where they would; and the sizes of the variables Keras 3's optimizer holds."""
import functools
import inspect
import warnings

import numpy as np

from ..utils import checks

__all__ = ["KERAS3_OPTIONS", "KERAS3_REFUSED", "take_keras3_options", "accept_keras_arguments",
           "keras_variable_sizes"]


# Keras 3's base-optimizer options, with their defaults. Every optimizer takes them: at these
# values they change nothing, in Keras as here. ema_momentum and ema_overwrite_frequency act only
# with use_ema.
KERAS3_OPTIONS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                  "loss_scale_factor": None, "gradient_accumulation_steps": None}
# The options nnfast refuses where they would act, and why.
KERAS3_REFUSED = {
    "use_ema": "nnfast keeps no moving average of the weights; average them in a callback instead",
    "loss_scale_factor": "nnfast trains in float32 or float64, where the loss needs no scaling",
    "gradient_accumulation_steps": "each step updates the weights; use a larger batch_size instead",
}


def take_keras3_options(owner, kwargs):
    """Pop Keras 3's base options from an optimizer's keyword arguments: each checked (TypeError or
    ValueError naming it), then refused with NotImplementedError where it would change training."""
    value = {option: kwargs.pop(option, default) for option, default in KERAS3_OPTIONS.items()}
    acting = {"use_ema": checks.flag("use_ema", value["use_ema"]),
              "loss_scale_factor": checks.optional_real("loss_scale_factor", value["loss_scale_factor"]) is not None,
              "gradient_accumulation_steps": (checks.optional_integer("gradient_accumulation_steps",
                                                                      value["gradient_accumulation_steps"], lo=1)
                                              or 1) > 1}
    checks.real("ema_momentum", value["ema_momentum"], 0.0, 1.0)
    checks.optional_integer("ema_overwrite_frequency", value["ema_overwrite_frequency"], lo=1)
    for option, acts in acting.items():
        if acts:
            raise NotImplementedError(f"{owner}({option}={value[option]!r}) is not supported by nnfast: "
                                      f"{KERAS3_REFUSED[option]} (see docs/keras.md)")


_NOT_GIVEN = object()


def accept_keras_arguments(init):
    """`init` (a subclass's __init__) taking also Keras 2's keyword arguments ``lr`` (a deprecated
    alias of learning_rate) and ``decay`` (time-based decay), which Optimizer.__init__ applies, and
    Keras 3's base options (take_keras3_options)."""
    signature = inspect.signature(init)
    if "learning_rate" not in signature.parameters:
        return init

    @functools.wraps(init)
    def __init__(self, *args, lr=_NOT_GIVEN, decay=_NOT_GIVEN, **kwargs):
        take_keras3_options(type(self).__name__, kwargs)
        legacy = self.__dict__.setdefault("_keras2", {})  # the outermost constructor's, for Optimizer
        if lr is not _NOT_GIVEN:
            bound = signature.bind_partial(self, *args, **kwargs).arguments
            if "learning_rate" in bound:
                raise TypeError("learning_rate and lr are the same argument (lr is Keras 2's name); pass only "
                                f"learning_rate, got learning_rate={bound['learning_rate']!r} and lr={lr!r}")
            warnings.warn("lr is deprecated (Keras 2's name); use learning_rate", DeprecationWarning, stacklevel=2)
            legacy["lr"] = lr
        if decay is not _NOT_GIVEN:
            legacy["decay"] = decay
        init(self, *args, **kwargs)

    keyword = inspect.Parameter.KEYWORD_ONLY
    __init__.__signature__ = signature.replace(parameters=[
        *signature.parameters.values(), inspect.Parameter("lr", keyword, default=None),
        inspect.Parameter("decay", keyword, default=0.0),
        *(inspect.Parameter(option, keyword, default=default) for option, default in KERAS3_OPTIONS.items())])
    return __init__


def keras_variable_sizes(optimizer, dtype, extra_slots=()):
    """(count, bytes) of the variables Keras 3's optimizer of `optimizer`'s kind holds once built, as
    model.summary() reports them: its iteration counter (an int32 on torch), its learning rate
    unless a schedule (float32, Keras's floatx), its slots (these and `extra_slots`, arrays of the
    weights it was built for that are frozen now) and scalars in `dtype`; None before it is built."""
    if not optimizer.built:
        return None
    rate = 0 if callable(optimizer.learning_rate) else 1
    values = sum(a.size for arrays in optimizer.slots.values() for a in arrays) + sum(a.size for a in extra_slots)
    values += optimizer.KERAS_SCALARS
    return 1 + rate + values, 4 + 4 * rate + np.dtype(dtype).itemsize * values
