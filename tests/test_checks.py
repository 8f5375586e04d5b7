"""nnfast.utils.checks: what each checker accepts and returns, and that every rejection is a
TypeError (wrong type) or ValueError (wrong value) naming the argument, as "NAME must be ..., got VALUE"."""
import math

import numpy as np
import pytest

from nnfast.utils import checks


def test_real_accepts_real_numbers_in_the_interval():
    assert checks.real("lr", 0) == 0.0 and type(checks.real("lr", 0)) is float
    assert checks.real("lr", np.float32(0.5)) == 0.5
    assert checks.real("lr", math.inf) == math.inf  # a closed infinite bound admits infinity
    assert checks.real("beta", 0.0, 0.0, 1.0, hi_open=True) == 0.0
    assert checks.real("delta", -3, -math.inf) == -3.0


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.1", None, 1j, [0.1]])
def test_real_rejects_non_numbers(value):
    with pytest.raises(TypeError, match=r"^lr must be a real number, got "):
        checks.real("lr", value)


@pytest.mark.parametrize("value,kwargs,text", [
    (-0.1, {}, ">= 0.0"),
    (math.nan, {}, ">= 0.0"),
    (1.0, {"hi": 1.0, "hi_open": True}, r"in \[0.0, 1.0\)"),
    (0.0, {"lo_open": True, "hi": 1.0}, r"in \(0.0, 1.0\]"),
    (2.0, {"lo": -math.inf, "hi": 1.0}, "<= 1.0"),
    (math.inf, {"lo_open": True, "hi_open": True}, "finite and > 0.0"),
    (-math.inf, {"lo": -math.inf, "lo_open": True, "hi_open": True}, "a finite real number"),
])
def test_real_rejects_values_outside_the_interval(value, kwargs, text):
    with pytest.raises(ValueError, match=rf"^x must be {text}, got {value!r}$"):
        checks.real("x", value, **kwargs)


def test_interval_texts():
    assert checks.interval(0.0, math.inf) == ">= 0.0"
    assert checks.interval(0, math.inf, lo_open=True) == "> 0.0"
    assert checks.interval(-math.inf, 1.0, hi_open=True) == "< 1.0"
    assert checks.interval(0, 1, hi_open=True) == "in [0.0, 1.0)"
    assert checks.interval(-math.inf, math.inf) == "any real number"
    assert checks.interval(-math.inf, math.inf, True, True) == "a finite real number"
    assert checks.interval(0, math.inf, hi_open=True) == "finite and >= 0.0"


def test_optional_real():
    assert checks.optional_real("baseline", None) is None
    assert checks.optional_real("baseline", 2) == 2.0
    with pytest.raises(TypeError, match="baseline"):
        checks.optional_real("baseline", "2")
    with pytest.raises(ValueError, match="baseline"):
        checks.optional_real("baseline", -1.0)


def test_integer():
    assert checks.integer("patience", 0) == 0
    assert checks.integer("patience", np.int64(3)) == 3 and type(checks.integer("patience", np.int64(3))) is int
    assert checks.integer("step", 1, lo=1) == 1 and checks.integer("verbose", 2, lo=0, hi=2) == 2
    assert checks.integer("offset", -5, lo=None) == -5
    for value in (1.0, True, np.bool_(True), "1", None):
        with pytest.raises(TypeError, match=r"^patience must be an int, got "):
            checks.integer("patience", value)
    with pytest.raises(ValueError, match=r"^step must be >= 1, got 0$"):
        checks.integer("step", 0, lo=1)
    with pytest.raises(ValueError, match=r"^verbose must be <= 2, got 3$"):
        checks.integer("verbose", 3, hi=2)


def test_optional_integer():
    assert checks.optional_integer("seed", None) is None
    assert checks.optional_integer("seed", 7) == 7
    with pytest.raises(TypeError, match=r"^seed must be an int, got 1.5$"):
        checks.optional_integer("seed", 1.5)
    with pytest.raises(ValueError, match=r"^seed must be >= 0, got -1$"):
        checks.optional_integer("seed", -1)


def test_flag():
    assert checks.flag("nesterov", True) is True and checks.flag("nesterov", np.bool_(False)) is False
    for value in (1, 0.0, "yes", None):
        with pytest.raises(TypeError, match=r"^nesterov must be True or False, got "):
            checks.flag("nesterov", value)


def test_one_of():
    assert checks.one_of("mode", "min", ("auto", "min", "max")) == "min"
    assert checks.one_of("activation", None, (None, "relu")) is None
    # a str subclass (numpy.str_, as from an array of names) matches, and the plain choice comes back
    chosen = checks.one_of("mode", np.str_("max"), ("auto", "min", "max"))
    assert chosen == "max" and type(chosen) is str
    # the type must match too: 1 is not True, and 1.0 is not 1
    for value in ("mean", True, 1.0, np.zeros(2)):
        with pytest.raises(ValueError, match=r"^mode must be one of 'auto', 1, got "):
            checks.one_of("mode", value, ("auto", 1))


def test_string():
    assert checks.string("monitor", "val_loss") == "val_loss"
    with pytest.raises(TypeError, match=r"^monitor must be a str, got None$"):
        checks.string("monitor", None)


def test_shape():
    assert checks.shape("shape", (2, np.int64(3))) == (2, 3)
    assert checks.shape("shape", 4) == (4,) and checks.shape("shape", ()) == ()
    assert checks.shape("shape", [0, 1]) == (0, 1)
    for value in ((2, 3.0), "23", None, True, (2, True)):
        with pytest.raises(TypeError, match=r"^shape must be a tuple of ints, got "):
            checks.shape("shape", value)
    with pytest.raises(ValueError, match=r"^shape must be a tuple of ints >= 0, got \(2, -3\)$"):
        checks.shape("shape", (2, -3))


def test_float_dtype():
    assert checks.float_dtype("dtype", "float32") == np.float32
    assert checks.float_dtype("dtype", np.float64) == np.float64
    assert checks.float_dtype("dtype", np.zeros(1, np.float32).dtype) == np.float32
    assert checks.float_dtype("dtype", None) == np.float64  # NumPy's meaning of None
    with pytest.raises(TypeError, match=r"^dtype must be float32 or float64, got int32$"):
        checks.float_dtype("dtype", np.int32)
    with pytest.raises(TypeError, match=r"^dtype must be float32 or float64, got 'words'$"):
        checks.float_dtype("dtype", "words")


def test_torch_nesterov():
    checks.torch_nesterov(0.9, 0.0)
    for momentum, dampening in ((0.0, 0.0), (0.9, 0.1)):
        with pytest.raises(ValueError, match=r"^nesterov \(convention='torch'\) requires momentum > 0 and "
                                             r"dampening == 0, got momentum="):
            checks.torch_nesterov(momentum, dampening)
