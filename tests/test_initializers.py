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
       init.VarianceScaling(), init.GlorotUniform(), init.GlorotNormal(), init.HeUniform(), init.HeNormal(),
       init.LecunUniform(), init.LecunNormal(), init.Orthogonal(), init.Constant(0.5)]


@pytest.mark.parametrize("initializer", ALL, ids=lambda i: type(i).__name__)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3), (7,), (0, 4), (), (3, 3, 2, 4)])
def test_shape_dtype_and_layout(initializer, dtype, shape):
    if isinstance(initializer, init.Orthogonal) and len(shape) < 2:
        return  # at least 2-D (test_orthogonal_needs_two_dimensions)
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

@pytest.mark.parametrize("initializer", ALL[2:-1], ids=lambda i: type(i).__name__)
def test_same_seed_same_values_other_seed_other_values(initializer):
    a, b, c = (draw(initializer, (20, 30), seed=s) for s in (7, 7, 8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("initializer", ALL[2:-1], ids=lambda i: type(i).__name__)
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
# the initializers Keras 3 has beyond glorot and he
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("initializer,limit", [(init.LecunUniform(), math.sqrt(3 / FAN_IN)),
                                               (init.get("uniform"), 0.05)])
def test_more_uniform_limits(initializer, limit):
    test_uniform_limits_and_spread(initializer, limit)


def test_lecun_normal_is_truncated_with_stddev_one_over_sqrt_fan_in():
    test_truncated_normals_hit_their_stddev_and_stay_inside_two_sigma(init.LecunNormal(), math.sqrt(1 / FAN_IN))


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("shape", [(50, 50), (200, 30), (30, 200), (4, 5, 6), (1, 1), (3, 1)])
def test_orthogonal_is_orthogonal(shape, dtype, tol):
    q = init.Orthogonal(gain=1.0)(shape, dtype, np.random.default_rng(5))
    assert q.shape == shape and q.dtype == dtype
    flat = q.reshape(-1, shape[-1]).astype(np.float64)
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T  # orthonormal columns, or rows when wider
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), rtol=0, atol=tol)
    scaled = init.Orthogonal(gain=2.5)(shape, dtype, np.random.default_rng(5))
    np.testing.assert_allclose(scaled, 2.5 * q, rtol=4 * np.finfo(dtype).eps)


def test_orthogonal_is_uniformly_signed_and_needs_two_dimensions():
    q = np.stack([init.Orthogonal()((4, 4), "float64", np.random.default_rng(s)) for s in range(2000)])
    assert abs(q[:, 0, 0].mean()) < 0.05  # R's diagonal signs remove QR's bias toward one sign
    with pytest.raises(ValueError, match="shape must be at least 2-D"):
        init.Orthogonal()((5,))
    assert init.Orthogonal()((0, 3)).shape == (0, 3)


def test_constant_and_identity():
    assert np.array_equal(init.Constant(2.5)((2, 3), "float64"), np.full((2, 3), 2.5))
    assert np.array_equal(init.get("constant")((2,)), np.zeros(2, np.float32))
    assert np.array_equal(init.Identity()((3, 3)), np.eye(3, dtype=np.float32))
    assert np.array_equal(init.Identity(gain=2.0)((2, 4), "float64"), 2.0 * np.eye(2, 4))
    with pytest.raises(ValueError, match="shape must be 2-D"):
        init.Identity()((2, 2, 2))
    with pytest.raises(TypeError, match="value"):
        init.Constant("1")


def test_variance_scaling_fan_axes_and_normal_alias():
    vs = init.VarianceScaling(2.0, "fan_in", "uniform", input_axes=[0, 1], output_axes=[-1])
    assert vs.get_config()["input_axes"] == [0, 1]
    w = draw(vs, shape=(10, 20, 30))
    assert np.abs(w).max() <= math.sqrt(3 * 2.0 / 200)
    assert init.compute_fans((10, 20, 30), [0, 1], [-1]) == (200, 30)
    assert init.VarianceScaling(distribution="Normal").distribution == "truncated_normal"
    with pytest.raises(TypeError, match="input_axes"):
        init.VarianceScaling(input_axes=3)


# Keras 3 (torch backend) as the oracle for names, fans and configs; it cannot be for values (other RNG)

@pytest.mark.parametrize("shape", [(3, 5), (7,), (), (2, 3, 4, 5), (0, 4), (1, 1)])
def test_fans_equal_keras(keras, shape):
    from keras.src.initializers.random_initializers import compute_fans as keras_fans
    assert init.compute_fans(shape) == keras_fans(shape)
    assert init.compute_fans((2, 3, 4), [0, 2], [1]) == keras_fans((2, 3, 4), [0, 2], [1])


CONFIG_CASES = [("Zeros", {}), ("Ones", {}), ("Constant", {}), ("Constant", {"value": 3.0}), ("Identity", {}),
                ("Identity", {"gain": 0.5}), ("RandomNormal", {}), ("RandomNormal", {"mean": 1.0, "stddev": 2.0}),
                ("RandomUniform", {"minval": -1.0, "maxval": 2.0, "seed": 4}), ("TruncatedNormal", {"seed": 1}),
                ("VarianceScaling", {}),
                ("VarianceScaling", {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform", "seed": 3,
                                     "input_axes": [0], "output_axes": [1]}),
                ("GlorotUniform", {}), ("GlorotNormal", {"seed": 2}), ("HeUniform", {}), ("HeNormal", {}),
                ("LecunUniform", {}), ("LecunNormal", {"seed": 9}), ("Orthogonal", {}),
                ("Orthogonal", {"gain": 2.0, "seed": 5})]


# Keras 3.15's Identity.get_config() is {} (it drops the gain, so its round trip resets it to 1.0);
# nnfast keeps the gain in the config
KERAS_DROPS = {"Identity": {"gain"}}


def keras_visible(initializer):
    config = initializer.get_config()
    return {k: v for k, v in config.items() if k not in KERAS_DROPS.get(type(initializer).__name__, ())}


@pytest.mark.parametrize("name,kwargs", CONFIG_CASES, ids=lambda v: str(v))
def test_keras_namespace_configs_equal_keras(keras, name, kwargs):
    from nnfast.keras import initializers as kinit
    ours, theirs = getattr(kinit, name)(**kwargs), getattr(keras.initializers, name)(**kwargs)
    assert keras_visible(ours) == theirs.get_config()
    again = kinit.get(kinit.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    # a config Keras wrote (with its "module" and "registered_name") loads too
    assert keras_visible(kinit.get(keras.initializers.serialize(theirs))) == theirs.get_config()


@pytest.mark.parametrize("name", sorted(init.BY_NAME))
def test_every_name_gives_the_class_keras_gives(keras, name):
    from nnfast.keras import initializers as kinit
    # Keras spells two compatibility names only in CamelCase
    keras_name = {"identity_initializer": "IdentityInitializer",
                  "orthogonal_initializer": "OrthogonalInitializer"}.get(name, name)
    # Keras 3.15's get("constant") fails (Constant.from_config needs a "value"); nnfast gives Constant()
    theirs = keras.initializers.Constant() if name == "constant" else keras.initializers.get(keras_name)
    ours = kinit.get(name)
    assert type(ours).__name__ == type(theirs).__name__ and keras_visible(ours) == theirs.get_config()
    assert type(init.get(type(theirs).__name__)) is type(init.get(name))  # Keras' class names too
    assert callable(getattr(kinit, type(theirs).__name__))


def test_random_normal_defaults_in_the_two_namespaces():
    from nnfast.keras import initializers as kinit
    assert init.RandomNormal().stddev == 1.0 and init.get("normal").stddev == 1.0
    assert kinit.RandomNormal().stddev == 0.05 and kinit.random_normal().stddev == 0.05
    for name in ("normal", "random_normal", "RandomNormal"):
        assert type(kinit.get(name)) is kinit.RandomNormal and kinit.get(name).stddev == 0.05
    assert isinstance(kinit.RandomNormal(), init.RandomNormal)
    assert kinit.get(init.serialize(init.RandomNormal())).stddev == 1.0  # configs carry the stddev
    w = draw(kinit.get("normal"))
    assert w.std() == pytest.approx(0.05, rel=0.02)
    assert kinit.GlorotUniform is init.GlorotUniform and kinit.get("uniform").maxval == 0.05


def test_serialize_and_deserialize():
    he = init.HeNormal(seed=3)
    assert init.serialize(he) == {"class_name": "HeNormal",
                                  "config": {"seed": 3, "input_axes": None, "output_axes": None}}
    assert init.deserialize(init.serialize(he)).get_config() == he.get_config()
    assert type(init.deserialize("lecun_normal")) is init.LecunNormal
    assert init.serialize(None) is None and he.clone().get_config() == he.get_config()
    with pytest.raises(TypeError, match="config must be a dict or a name"):
        init.deserialize(3)


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


def test_a_constant_of_an_array_broadcasts_as_keras_and_survives_its_config():
    """The imbalanced-data tutorial's bias_initializer=Constant(np.log([pos / neg]))."""
    keras = pytest.importorskip("keras")
    value = np.log([0.3])
    for shape in ((1,), (3,), (2, 3)):
        ours = init.Constant(value)(shape, dtype="float32")
        np.testing.assert_array_equal(ours, np.asarray(keras.initializers.Constant(value)(shape, dtype="float32")))
    row = init.Constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(row((2, 3)), [[1, 2, 3], [1, 2, 3]])
    np.testing.assert_array_equal(init.Constant(**row.get_config())((2, 3)), row((2, 3)))
    with pytest.raises(ValueError, match=r"does not broadcast to the weight's shape \(3,\)"):
        init.Constant([1.0, 2.0])((3,))
    with pytest.raises(TypeError, match="value must be a real number or an array"):
        init.Constant(["a", None])


@pytest.mark.parametrize("name", ["random_normal", "normal", "RandomNormal", "uniform", "truncated_normal"])
def test_a_layer_takes_an_initializer_name_as_keras_means_it(name):
    """Dense(kernel_initializer="random_normal") is Keras's N(0, 0.05), not the notes' randn."""
    keras = pytest.importorskip("keras")
    from nnfast.layers import Dense
    from nnfast.models import Sequential
    ours = Sequential([Dense(400, input_dim=300, kernel_initializer=name)], seed=0).get_weights()[0]
    theirs = np.asarray(keras.initializers.get(name)((300, 400)))
    assert abs(ours.std() / theirs.std() - 1) < 0.02 and abs(ours.mean()) < 3e-3
    assert init.get("random_normal")((300, 400)).std() > 0.95  # nnfast's own name stays the notes' randn
