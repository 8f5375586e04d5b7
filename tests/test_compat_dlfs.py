"""nnfast.compat.dlfs against a literal re-typing of the "Deep Learning from Scratch" optimizers.

The Book* classes below are the book's common/optimizer.py, typed out in plain NumPy (only renamed).
nnfast.compat.dlfs must reproduce each over 20 steps on a small network's parameter dict; the book
writes some updates as two in-place statements where nnfast evaluates one expression, so the
comparison allows last-bit differences (rtol 1e-12), not more.
"""

import inspect

import numpy as np
import pytest

import nnfast
from nnfast import compat
from nnfast import reference as R
from nnfast.compat import dlfs

from conftest import assert_same_bits

pytestmark = pytest.mark.filterwarnings("error")

STEPS = 20
UPDATE_FNS = ("sgd_update", "adagrad_update", "rmsprop_update", "adam_update")


@pytest.fixture(params=["native", "reference"])
def backend(request):
    if request.param == "native":
        if not all(hasattr(nnfast.ops, f) for f in UPDATE_FNS):
            pytest.skip("nnfast.ops has no native optimizer updates yet")
        return nnfast.ops
    return R


# --------------------------------------------------------------------------------------------------
# the book's classes (Deep Learning from Scratch, common/optimizer.py)
# --------------------------------------------------------------------------------------------------

class BookSGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class BookMomentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class BookNesterov:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]


class BookAdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookRMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookAdam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


PAIRS = [
    ("SGD", BookSGD, dlfs.SGD, (), {"lr": 0.01}),
    ("Momentum", BookMomentum, dlfs.Momentum, ("v",), {"lr": 0.01, "momentum": 0.9}),
    ("Nesterov", BookNesterov, dlfs.Nesterov, ("v",), {"lr": 0.01, "momentum": 0.9}),
    ("AdaGrad", BookAdaGrad, dlfs.AdaGrad, ("h",), {"lr": 0.01}),
    ("RMSprop", BookRMSprop, dlfs.RMSprop, ("h",), {"lr": 0.01, "decay_rate": 0.99}),
    ("Adam", BookAdam, dlfs.Adam, ("m", "v"), {"lr": 0.001, "beta1": 0.9, "beta2": 0.999}),
]
IDS = [p[0] for p in PAIRS]
SHAPES = {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}


def network(rng):
    return {k: rng.normal(size=s) for k, s in SHAPES.items()}


def gradients(rng):
    return [{k: rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(STEPS)]


def assert_close(actual, desired):
    scale = float(np.max(np.abs(desired)))
    np.testing.assert_allclose(actual, desired, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("name, book_cls, cls, state, defaults", PAIRS, ids=IDS)
def test_defaults_equal_the_books(name, book_cls, cls, state, defaults):
    book_sig = inspect.signature(book_cls)
    sig = inspect.signature(cls)
    assert list(sig.parameters) == list(book_sig.parameters) == list(defaults)
    for arg, value in defaults.items():
        assert sig.parameters[arg].default == book_sig.parameters[arg].default == value
    opt = cls()
    for arg, value in defaults.items():
        assert getattr(opt, arg) == value
    for attr in state:
        assert getattr(opt, attr) is None
    assert cls.__name__ == name


@pytest.mark.parametrize("hyper", ["defaults", "custom"])
@pytest.mark.parametrize("name, book_cls, cls, state, defaults", PAIRS, ids=IDS)
def test_reproduces_the_book(name, book_cls, cls, state, defaults, hyper, backend, rng):
    kwargs = {}
    if hyper == "custom":
        custom = {"lr": 0.05, "momentum": 0.7, "decay_rate": 0.9, "beta1": 0.8, "beta2": 0.99}
        kwargs = {k: custom[k] for k in defaults}
    params0 = network(rng)
    grads = gradients(rng)
    book, ours = book_cls(**kwargs), cls(**kwargs)
    ours._ops = backend
    p_book = {k: v.copy() for k, v in params0.items()}
    p_ours = {k: v.copy() for k, v in params0.items()}
    ids = {k: id(v) for k, v in p_ours.items()}
    for g in grads:
        book.update(p_book, g)
        ours.update(p_ours, g)
        for k in SHAPES:
            assert_close(p_ours[k], p_book[k])
    assert {k: id(v) for k, v in p_ours.items()} == ids          # updated in place
    for k in SHAPES:
        assert not np.array_equal(p_ours[k], params0[k])
    for attr in state:
        mine, theirs = getattr(ours, attr), getattr(book, attr)
        assert list(mine) == list(theirs)
        for k in SHAPES:
            assert_close(mine[k], theirs[k])
    if name == "Adam":
        assert ours.iter == book.iter == STEPS


EXACT = ["SGD", "Momentum", "AdaGrad", "Adam"]     # same expression order as the book


@pytest.mark.parametrize("name", EXACT)
def test_same_expressions_give_the_same_bits_on_the_reference(name, rng):
    _, book_cls, cls, _, _ = next(p for p in PAIRS if p[0] == name)
    params0 = network(rng)
    book, ours = book_cls(), cls()
    ours._ops = R
    p_book = {k: v.copy() for k, v in params0.items()}
    p_ours = {k: v.copy() for k, v in params0.items()}
    for g in gradients(rng):
        book.update(p_book, g)
        ours.update(p_ours, g)
    for k in SHAPES:
        assert_same_bits(p_ours[k], p_book[k])


def test_state_is_created_per_key(backend, rng):
    opt = dlfs.Adam(lr=0.01)
    opt._ops = backend
    p = {"W1": rng.normal(size=(4, 3))}
    opt.update(p, {"W1": rng.normal(size=(4, 3))})
    assert list(opt.m) == ["W1"] and list(opt.v) == ["W1"]
    p["b1"] = rng.normal(size=3)
    opt.update(p, {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=3), "unused": np.ones(1)})
    assert list(opt.m) == ["W1", "b1"] and opt.m["b1"].shape == (3,)
    assert opt.iter == 2


def test_float32_parameters_keep_float32_state(backend, rng):
    opt = dlfs.RMSprop()
    opt._ops = backend
    p = {k: v.astype(np.float32) for k, v in network(rng).items()}
    opt.update(p, {k: v.astype(np.float32) for k, v in gradients(rng)[0].items()})
    assert all(h.dtype == np.float32 for h in opt.h.values())
    assert all(w.dtype == np.float32 for w in p.values())


@pytest.mark.parametrize("name, book_cls, cls, state, defaults", PAIRS, ids=IDS)
def test_rejected_calls_change_nothing(name, book_cls, cls, state, defaults, backend, rng):
    opt = cls()
    opt._ops = backend
    p = network(rng)
    g = gradients(rng)[0]
    opt.update(p, g)
    before = {k: v.copy() for k, v in p.items()}
    snapshot = {a: {k: v.copy() for k, v in getattr(opt, a).items()} for a in state}
    it = getattr(opt, "iter", None)

    missing = dict(g)
    del missing["b2"]
    with pytest.raises(ValueError, match="b2"):
        opt.update(p, missing)
    with pytest.raises(ValueError):
        opt.update(p, dict(g, W2=np.ones((2, 3))))
    with pytest.raises(ValueError):                    # a new key with a bad gradient
        opt.update(dict(p, W3=np.ones(2)), dict(g, W3=np.ones(3)))
    for k in SHAPES:
        assert_same_bits(p[k], before[k])
    for a in state:
        assert list(getattr(opt, a)) == list(snapshot[a])       # no entry added for W3
        for k in SHAPES:
            assert_same_bits(getattr(opt, a)[k], snapshot[a][k])
    assert getattr(opt, "iter", None) == it


def test_hyperparameters_can_change_between_calls(backend, rng):
    book, ours = BookMomentum(), dlfs.Momentum()
    ours._ops = backend
    params0 = network(rng)
    p_book = {k: v.copy() for k, v in params0.items()}
    p_ours = {k: v.copy() for k, v in params0.items()}
    for t, g in enumerate(gradients(rng)):
        if t == 10:
            book.lr = ours.lr = 0.001
        book.update(p_book, g)
        ours.update(p_ours, g)
    for k in SHAPES:
        assert_close(p_ours[k], p_book[k])


def test_default_backend_and_docstring():
    assert dlfs.Adam()._ops is nnfast.ops
    for name in ("sgd_update", "adagrad_update", "rmsprop_update", "adam_update", "dlfs"):
        assert name in dlfs.__doc__
    assert compat.dlfs is dlfs
