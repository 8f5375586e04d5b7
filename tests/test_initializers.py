"""Initializers (shapes, dtypes, statistics, truncation, seeding, get) and regularizers (values and
gradients against finite differences)."""
import math

import numpy as np
import pytest

from nnfast import initializers as init
from nnfast import regularizers as reg

pytestmark = pytest.mark.filterwarnings("error")

DTYPES = (np.float32, np.float64)
FAN_IN, FAN_OUT = 300, 500
SHAPE = (FAN_IN, FAN_OUT)  # 150000 draws: sample stddevs are within ~0.5 % of the truth


def draw(initializer, shape=SHAPE, dtype=np.float64, seed=0):
    return initializer(shape, dtype, np.random.default_rng(seed))


# --------------------------------------------------------------------------------------------------
# shapes, dtypes, fans
# --------------------------------------------------------------------------------------------------

ALL = [init.Zeros(), init.Ones(), init.RandomNormal(), init.RandomUniform(), init.TruncatedNormal(),
       init.VarianceScaling(), init.GlorotUniform(), init.GlorotNormal(), init.HeUniform(), init.HeNormal()]


@pytest.mark.parametrize("initializer", ALL, ids=lambda i: type(i).__name__)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3), (7,), (0, 4), (), (3, 3, 2, 4)])
def test_shape_dtype_and_layout(initializer, dtype, shape):
    w = initializer(shape, dtype, np.random.default_rng(1))
    assert w.shape == shape and w.dtype == dtype
    assert w.flags.c_contiguous and w.flags.writeable and w.flags.owndata
    assert np.all(np.isfinite(w))


def test_default_dtype_is_float32_and_an_int_is_a_1d_shape():
    w = init.GlorotUniform()(5)
    assert w.shape == (5,) and w.dtype == np.float32


@pytest.mark.parametrize("shape,fans", [((), (1, 1)), ((7,), (7, 7)), ((3, 5), (3, 5)),
                                        ((2, 3, 4, 5), (24, 30)), ((0, 4), (0, 4))])
def test_compute_fans(shape, fans):
    assert init.compute_fans(shape) == fans


def test_constants():
    assert np.array_equal(init.get("zeros")((2, 3), "float64"), np.zeros((2, 3)))
    assert np.array_equal(init.get("ones")((4,)), np.ones(4, np.float32))


# --------------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("initializer,limit", [
    (init.GlorotUniform(), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (init.HeUniform(), math.sqrt(6 / FAN_IN)),
    (init.RandomUniform(), 0.05),
    (init.VarianceScaling(3.0, "fan_out", "uniform"), math.sqrt(9 / FAN_OUT)),
])
def test_uniform_limits_and_spread(initializer, limit):
    w = draw(initializer)
    assert w.min() >= -limit and w.max() <= limit
    assert w.min() < -0.999 * limit and w.max() > 0.999 * limit
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.01)
    assert abs(w.mean()) < 0.01 * limit


def test_random_uniform_custom_range():
    w = draw(init.RandomUniform(2.0, 3.0))
    assert w.min() >= 2.0 and w.max() < 3.0 and w.mean() == pytest.approx(2.5, abs=0.01)


@pytest.mark.parametrize("initializer,stddev", [
    (init.GlorotNormal(), math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.HeNormal(), math.sqrt(2 / FAN_IN)),
    (init.VarianceScaling(0.5, "fan_out"), math.sqrt(0.5 / FAN_OUT)),
    (init.TruncatedNormal(stddev=0.05), 0.05 * 0.87962566103423978),
])
def test_truncated_normals_hit_their_stddev_and_stay_inside_two_sigma(initializer, stddev):
    w = draw(initializer)
    sigma = stddev / 0.87962566103423978 if not isinstance(initializer, init.TruncatedNormal) else 0.05
    assert w.std() == pytest.approx(stddev, rel=0.02)
    assert abs(w.mean()) < 0.01 * stddev
    assert np.abs(w).max() <= 2 * sigma
    assert np.abs(w).max() > 1.99 * sigma  # truncated, not squeezed


def test_untruncated_normal_variance_scaling():
    w = draw(init.VarianceScaling(2.0, "fan_avg", "untruncated_normal"))
    stddev = math.sqrt(2.0 / ((FAN_IN + FAN_OUT) / 2))
    assert w.std() == pytest.approx(stddev, rel=0.02)
    assert np.abs(w).max() > 3 * stddev


def test_random_normal_defaults_to_the_seed_notes_randn():
    w = draw(init.RandomNormal())
    assert w.std() == pytest.approx(1.0, rel=0.02) and abs(w.mean()) < 0.01
    w = draw(init.RandomNormal(mean=3.0, stddev=0.5))
    assert w.std() == pytest.approx(0.5, rel=0.02) and w.mean() == pytest.approx(3.0, abs=0.01)


def test_bias_shape_uses_its_length_for_both_fans():
    w = draw(init.GlorotUniform(), shape=(200000,))
    assert np.abs(w).max() <= math.sqrt(6 / 400000)


def test_tiny_fans_use_at_least_one():
    w = draw(init.HeUniform(), shape=(0, 3))
    assert w.shape == (0, 3)
    w = draw(init.VarianceScaling(1.0, "fan_avg", "uniform"), shape=())
    assert abs(float(w)) <= math.sqrt(3.0)


# --------------------------------------------------------------------------------------------------
# seeding
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("initializer", ALL[2:], ids=lambda i: type(i).__name__)
def test_same_seed_same_values_other_seed_other_values(initializer):
    a, b, c = (draw(initializer, (20, 30), seed=s) for s in (7, 7, 8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("initializer", ALL[2:], ids=lambda i: type(i).__name__)
def test_float32_is_the_rounded_float64_draw(initializer):
    w64 = draw(initializer, (20, 30), np.float64)
    w32 = draw(initializer, (20, 30), np.float32)
    assert np.array_equal(w32, w64.astype(np.float32))


def test_own_seed_is_used_without_an_rng():
    a = init.GlorotNormal(seed=3)((10, 10))
    assert np.array_equal(a, init.GlorotNormal(seed=3)((10, 10)))
    assert np.array_equal(a, init.GlorotNormal()((10, 10), "float32", np.random.default_rng(3)))
    assert not np.array_equal(a, init.GlorotNormal(seed=4)((10, 10)))


def test_a_shared_generator_advances():
    rng = np.random.default_rng(0)
    first, second = init.HeNormal()((4, 4), rng=rng), init.HeNormal()((4, 4), rng=rng)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("initializer", ALL, ids=lambda i: type(i).__name__)
def test_config_round_trip(initializer):
    clone = type(initializer).from_config(initializer.get_config())
    assert clone.get_config() == initializer.get_config()
    assert np.array_equal(draw(clone, (5, 6)), draw(initializer, (5, 6)))
    assert repr(initializer).startswith(type(initializer).__name__ + "(")


# --------------------------------------------------------------------------------------------------
# get and bad arguments
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,cls", [
    ("glorot_uniform", init.GlorotUniform), ("GlorotUniform", init.GlorotUniform),
    ("GLOROT_NORMAL", init.GlorotNormal), ("he_uniform", init.HeUniform), ("he_normal", init.HeNormal),
    ("random_normal", init.RandomNormal), ("random_uniform", init.RandomUniform), ("zeros", init.Zeros),
    ("Ones", init.Ones), ("truncated_normal", init.TruncatedNormal),
])
def test_get_by_name(name, cls):
    got = init.get(name)
    assert type(got) is cls
    assert got.get_config() == cls().get_config()


def test_get_passes_instances_and_callables_and_builds_classes():
    he = init.HeNormal(seed=1)
    assert init.get(he) is he

    def custom(shape, dtype, rng):
        return np.full(shape, 0.5, dtype)

    assert init.get(custom) is custom
    assert type(init.get(init.HeUniform)) is init.HeUniform
    assert init.get(None) is None
    assert init.glorot_uniform is init.GlorotUniform and init.random_normal is init.RandomNormal


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="initializer must be one of .*'glorot_uniform'.*'he_normal'.*'zeros', "
                                         "got 'xavier'"):
        init.get("xavier")
    with pytest.raises(TypeError, match="initializer"):
        init.get(42)


@pytest.mark.parametrize("call,error,name", [
    (lambda: init.GlorotUniform()((2, 3), np.int32), TypeError, "dtype"),
    (lambda: init.Zeros()((2, 3), np.float16), TypeError, "dtype"),
    (lambda: init.GlorotUniform()((2, -3)), ValueError, "shape"),
    (lambda: init.GlorotUniform()((2, 3.0)), TypeError, "shape"),
    (lambda: init.GlorotUniform()("23"), TypeError, "shape"),
    (lambda: init.GlorotUniform()((2, 3), "float32", np.random.RandomState(0)), TypeError, "rng"),
    (lambda: init.RandomNormal(stddev=0.0), ValueError, "stddev"),
    (lambda: init.RandomNormal(mean=float("nan")), ValueError, "mean"),
    (lambda: init.RandomUniform(0.1, -0.1), ValueError, "minval"),
    (lambda: init.VarianceScaling(mode="fan_max"), ValueError, "mode"),
    (lambda: init.VarianceScaling(distribution="gaussian"), ValueError, "distribution"),
    (lambda: init.VarianceScaling(scale=-1.0), ValueError, "scale"),
    (lambda: init.GlorotUniform(seed=-1), ValueError, "seed"),
    (lambda: init.GlorotUniform(seed=1.5), TypeError, "seed"),
])
def test_bad_arguments_are_named(call, error, name):
    with pytest.raises(error, match=name):
        call()


# --------------------------------------------------------------------------------------------------
# regularizers
# --------------------------------------------------------------------------------------------------

def numeric_gradient(f, w, h=1e-6):
    g = np.empty_like(w)
    for i in np.ndindex(w.shape):
        plus, minus = w.copy(), w.copy()
        plus[i] += h
        minus[i] -= h
        g[i] = (f(plus) - f(minus)) / (2 * h)
    return g


@pytest.fixture
def weights(rng):
    w = rng.normal(size=(4, 5))
    w[np.abs(w) < 1e-3] = 0.5  # keep L1 away from its kink
    return w


@pytest.mark.parametrize("regularizer", [reg.L2(0.01), reg.L2(0.3), reg.L1(0.01), reg.L1(0.2),
                                         reg.L1L2(l1=0.05, l2=0.1), reg.L1L2()], ids=repr)
def test_gradient_matches_finite_differences(regularizer, weights):
    expected = numeric_gradient(regularizer, weights)
    np.testing.assert_allclose(regularizer.gradient(weights), expected, rtol=1e-6, atol=1e-9)


def test_penalty_values(weights):
    assert reg.L2(0.01)(weights) == pytest.approx(0.01 * np.sum(weights ** 2), rel=1e-14)
    assert reg.L1(0.2)(weights) == pytest.approx(0.2 * np.sum(np.abs(weights)), rel=1e-14)
    both = reg.L1L2(l1=0.05, l2=0.1)(weights)
    assert both == pytest.approx(0.05 * np.sum(np.abs(weights)) + 0.1 * np.sum(weights ** 2), rel=1e-14)
    assert reg.L1L2()(weights) == 0.0
    assert isinstance(reg.L2()(weights.astype(np.float32)), float)


def test_gradient_formulas_and_kink():
    w = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(reg.L2(0.25).gradient(w), [-1.0, 0.0, 1.5])
    np.testing.assert_array_equal(reg.L1(0.5).gradient(w), [-0.5, 0.0, 0.5])
    np.testing.assert_array_equal(reg.L1L2(0.5, 0.25).gradient(w), [-1.5, 0.0, 2.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("regularizer", [reg.L2(0.1), reg.L1(0.1), reg.L1L2(0.1, 0.1)], ids=repr)
def test_gradient_into_out_keeps_dtype(regularizer, dtype, weights):
    w = weights.astype(dtype)
    out = np.full_like(w, 99.0)
    assert regularizer.gradient(w, out=out) is out
    np.testing.assert_allclose(out, regularizer.gradient(w), rtol=0)
    assert regularizer.gradient(w).dtype == dtype
    with pytest.raises(ValueError, match="out"):
        regularizer.gradient(w, out=np.empty((2, 2), dtype))
    with pytest.raises(TypeError, match="out"):
        regularizer.gradient(w, out=[0.0])


def test_keras_aliases_defaults_and_get():
    assert type(reg.l2(0.01)) is reg.L2 and reg.l2(0.01).l2 == 0.01
    assert type(reg.l1()) is reg.L1 and reg.l1().l1 == 0.01
    assert reg.l1_l2 is reg.L1L2 and reg.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert type(reg.get("l2")) is reg.L2 and reg.get("L2").l2 == 0.01
    assert type(reg.get("L1L2")) is reg.L1L2 and type(reg.get("l1_l2")) is reg.L1L2
    r = reg.L2(0.5)
    assert reg.get(r) is r and reg.get(None) is None and type(reg.get(reg.L1)) is reg.L1
    assert reg.L2.from_config(reg.L2(0.5).get_config()).l2 == 0.5 and repr(r) == "L2(l2=0.5)"
    with pytest.raises(ValueError, match="regularizer must be one of 'l1', 'l1_l2', 'l2', got 'l3'"):
        reg.get("l3")


@pytest.mark.parametrize("make,error,name", [(lambda: reg.L2(-0.1), ValueError, "l2"),
                                             (lambda: reg.L1(float("inf")), ValueError, "l1"),
                                             (lambda: reg.L2("0.1"), TypeError, "l2")])
def test_regularizer_bad_coefficients(make, error, name):
    with pytest.raises(error, match=name):
        make()
