"""The optimizers of "Deep Learning from Scratch" (``common/optimizer.py``) on nnfast's fused updates.

Same class names, constructor arguments, defaults and attributes as the book: ``SGD(lr=0.01)``,
``Momentum(lr=0.01, momentum=0.9)``, ``Nesterov(lr=0.01, momentum=0.9)``, ``AdaGrad(lr=0.01)``,
``RMSprop(lr=0.01, decay_rate=0.99)``, ``Adam(lr=0.001, beta1=0.9, beta2=0.999)``, each with
``update(params, grads)`` taking dicts of arrays keyed by name and updating ``params`` in place.
The state dicts (``v``, ``h``, ``m``, ``iter``) are public attributes as in the book, ``None`` until
the first ``update``; an entry is created (zeros of the parameter's shape and dtype) the first time a
key is seen. Hyperparameter attributes (``lr``, ``momentum``, ...) may be changed between calls.

Each ``update`` is one multi-tensor call of an :mod:`nnfast.ops` update function (``self._ops``,
default ``nnfast.ops``; set it to ``nnfast.reference`` to run on the NumPy twin):

==========  ===============================================================  ==========================
class       book formula (eps = 1e-7)                                        nnfast call
==========  ===============================================================  ==========================
SGD         ``w -= lr*g``                                                    ``sgd_update``, keras
Momentum    ``v = mu*v - lr*g; w += v``                                      ``sgd_update``, keras,
                                                                             ``momentum=mu``
Nesterov    ``v *= mu; v -= lr*g; w += mu*mu*v; w -= (1+mu)*lr*g``           ``sgd_update``,
                                                                             ``convention="dlfs"``,
                                                                             ``nesterov=True``
AdaGrad     ``h += g*g; w -= lr*g/(sqrt(h) + eps)``                          ``adagrad_update``, torch,
                                                                             ``epsilon=1e-7``, h from 0
RMSprop     ``h *= dr; h += (1-dr)*g*g; w -= lr*g/(sqrt(h) + eps)``          ``rmsprop_update``, torch,
                                                                             ``rho=decay_rate``,
                                                                             ``epsilon=1e-7``
Adam        ``iter += 1; lr_t = lr*sqrt(1-b2**iter)/(1-b1**iter);``          ``adam_update``, keras,
            ``m += (1-b1)*(g-m); v += (1-b2)*(g**2-v);``                     ``epsilon=1e-7``,
            ``w -= lr_t*m/(sqrt(v) + eps)``                                  ``step=iter``
==========  ===============================================================  ==========================

The book writes some updates as two in-place statements (Nesterov, RMSprop); nnfast evaluates the
same formula as one expression, so results can differ from the book's in the last bit.
A rejected call (wrong shapes, dtypes, missing gradients, ...) raises TypeError/ValueError and changes
neither the parameters nor the optimizer (no state entry is added, ``iter`` is not advanced).
"""

from .. import ops
from ..utils import aligned

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]

EPSILON = 1e-7

# The keras and dlfs SGD forms and Adagrad/RMSprop do not depend on the step count; they get step=1.
_NO_STEP = 1


class _Optimizer:
    _STATE = ()          # names of the per-key state dict attributes, in update-call order

    def __init__(self):
        self._ops = ops
        for attr in self._STATE:
            setattr(self, attr, None)

    def update(self, params, grads):
        """One step: ``params[key]`` is updated in place from ``grads[key]`` for every key of params."""
        keys = list(params)
        missing = [k for k in keys if k not in grads]
        if missing:
            raise ValueError(f"grads is missing keys {missing} of params")
        ws = [params[k] for k in keys]
        gs = [grads[k] for k in keys]
        states, fresh = [], []
        for attr in self._STATE:
            known = getattr(self, attr) or {}
            new = {}
            lst = []
            for k, w in zip(keys, ws):
                s = known.get(k)
                if s is None:
                    s = new[k] = aligned.zeros_like(w)
                lst.append(s)
            states.append(lst)
            fresh.append(new)
        self._update(ws, gs, *states)
        for attr, new in zip(self._STATE, fresh):
            if getattr(self, attr) is None:
                setattr(self, attr, {})
            getattr(self, attr).update(new)

    def _update(self, ws, gs, *states):
        raise NotImplementedError

    def __repr__(self):
        hp = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._HYPER)
        return f"{type(self).__name__}({hp})"


class SGD(_Optimizer):
    """``w -= lr*g`` (``sgd_update``, keras convention)."""

    _HYPER = ("lr",)

    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr

    def _update(self, ws, gs):
        self._ops.sgd_update(ws, gs, None, step=_NO_STEP, learning_rate=self.lr, convention="keras")


class Momentum(_Optimizer):
    """``v = momentum*v - lr*g; w += v`` (``sgd_update``, keras convention)."""

    _HYPER = ("lr", "momentum")
    _STATE = ("v",)
    _RULE = {"convention": "keras"}  # sgd_update's arguments that pick the update rule

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__()
        self.lr = lr
        self.momentum = momentum

    def _update(self, ws, gs, vs):
        self._ops.sgd_update(ws, gs, vs, step=_NO_STEP, learning_rate=self.lr,
                             momentum=self.momentum, **self._RULE)


class Nesterov(Momentum):
    """The book's Nesterov: ``v = mu*v - lr*g; w += mu*mu*v - (1+mu)*lr*g`` (``sgd_update``,
    ``convention="dlfs"``, ``nesterov=True``)."""

    _RULE = {"nesterov": True, "convention": "dlfs"}


class AdaGrad(_Optimizer):
    """``h += g*g; w -= lr*g/(sqrt(h) + 1e-7)`` (``adagrad_update``, torch convention, h from 0)."""

    _HYPER = ("lr",)
    _STATE = ("h",)

    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr

    def _update(self, ws, gs, hs):
        self._ops.adagrad_update(ws, gs, hs, step=_NO_STEP, learning_rate=self.lr, epsilon=EPSILON,
                                 convention="torch")


class RMSprop(_Optimizer):
    """``h = dr*h + (1-dr)*g*g; w -= lr*g/(sqrt(h) + 1e-7)`` (``rmsprop_update``, torch convention,
    ``rho=decay_rate``)."""

    _HYPER = ("lr", "decay_rate")
    _STATE = ("h",)

    def __init__(self, lr=0.01, decay_rate=0.99):
        super().__init__()
        self.lr = lr
        self.decay_rate = decay_rate

    def _update(self, ws, gs, hs):
        self._ops.rmsprop_update(ws, gs, hs, None, None, learning_rate=self.lr, rho=self.decay_rate,
                                 epsilon=EPSILON, convention="torch")


class Adam(_Optimizer):
    """The book's Adam in the ``lr_t`` form, which is Keras' (``adam_update``, keras convention,
    ``epsilon=1e-7``, ``step=iter``)."""

    _HYPER = ("lr", "beta1", "beta2")
    _STATE = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__()
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0

    def _update(self, ws, gs, ms, vs):
        self._ops.adam_update(ws, gs, ms, vs, None, step=self.iter + 1, learning_rate=self.lr,
                              beta_1=self.beta1, beta_2=self.beta2, epsilon=EPSILON,
                              convention="keras")
        self.iter += 1
