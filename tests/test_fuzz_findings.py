"""The bugs the fuzz tests (tests/fuzz, issue #17 item 2) found, each pinned by a direct test: every
one of these calls crashed the interpreter state, misread memory or raised an error that named no
argument before it was fixed."""
import math
import warnings

import numpy as np
import pytest

import nnfast
from nnfast import ops, optimizers, reference


def f32(*shape):
    return np.arange(1, 1 + int(np.prod(shape)), dtype=np.float32).reshape(shape) / 7


def assert_refused(call, error, pattern, *arrays):
    before = [a.tobytes() for a in arrays]
    with pytest.raises(error, match=pattern):
        call()
    assert [a.tobytes() for a in arrays] == before, "a refused call wrote"


@pytest.mark.parametrize("dtype", [">f4", ">f8"])
def test_byte_swapped_floats_are_refused_not_misread(dtype):
    swapped = f32(2, 3).astype(dtype)  # kind 'f' and itemsize 4/8, but the bytes are reversed
    plain = f32(2, 3).astype(swapped.dtype.newbyteorder("="))
    assert_refused(lambda: ops.activation_forward(swapped, "relu"), TypeError, "z must have dtype", swapped)
    assert_refused(lambda: ops.mse(swapped, swapped.copy()), TypeError, "pred must have dtype", swapped)
    assert_refused(lambda: ops.sgd_update([plain], [swapped], None, step=1, learning_rate=0.1), TypeError,
                   r"grads\[0\] must have dtype", plain, swapped)


@pytest.mark.parametrize("option", ["nesterov", "maximize"])
def test_an_optimizer_flag_without_a_truth_value_is_a_named_type_error(option):
    w, g = f32(3), f32(3)
    kwargs = dict(step=1, learning_rate=0.1, momentum=0.5, convention="torch", **{option: np.ones(3)})
    # was: no error at the call, a pending Python exception, then a SystemError at the next import
    assert_refused(lambda: ops.sgd_update([w], [g], [np.zeros(3, np.float32)], **kwargs), TypeError,
                   f"{option} must be True or False", w, g)
    import json  # noqa: F401 - the interpreter is fine afterwards


@pytest.mark.parametrize("value", [np.ones(3), np.array(0.5)])
def test_an_array_hyperparameter_is_a_named_type_error(value):
    w, g = f32(3), f32(3)
    assert_refused(lambda: ops.sgd_update([w], [g], [np.zeros(3, np.float32)], step=1, learning_rate=0.1,
                                          momentum=value), TypeError, "momentum must be a real number", w)
    assert_refused(lambda: ops.sgd_update([w], [g], None, step=1, learning_rate=value), TypeError,
                   "learning_rate must be a real number", w)


def test_a_step_beyond_64_bits_or_an_array_step_is_named():
    w, g = f32(3), f32(3)
    assert_refused(lambda: ops.sgd_update([w], [g], None, step=2 ** 70, learning_rate=0.1), ValueError,
                   "step must be < 2", w)
    assert_refused(lambda: ops.sgd_update([w], [g], None, step=np.ones(3), learning_rate=0.1), TypeError,
                   "step must be an int", w)


@pytest.mark.parametrize("value", [True, np.ones(3), "0.1"])
def test_loss_parameters_are_real_numbers(value):
    p, t = f32(2, 3) / 2, f32(2, 3) / 3
    with pytest.raises(TypeError, match="label_smoothing must be a real number"):
        ops.binary_cross_entropy(p, t, label_smoothing=value)
    with pytest.raises(TypeError, match="label_smoothing must be a real number"):
        ops.softmax_cross_entropy(p, np.array([0, 1]), label_smoothing=value)
    with pytest.raises(TypeError, match="delta must be a real number"):
        ops.huber(p, t, delta=value)


@pytest.mark.parametrize("call, pattern", [
    (lambda x: ops.dropout_forward(x, "a", 1), "rate must be a real number"),
    (lambda x: ops.dropout_forward(x, None, 1), "rate must be a real number"),
    (lambda x: ops.dropout_forward(x, 0.5, None), "seed must be an int"),
    (lambda x: ops.dropout_forward(x, 0.5, 1.5), "seed must be an int"),
    (lambda x: ops.dropout_backward(x, np.ones(x.shape, np.uint8), None), "rate must be a real number"),
    (lambda x: ops.gemm(x, x.T.copy(), trans_a=np.ones(3)), "trans_a must be True or False"),
    (lambda x: ops.dense_backward(x, x.T.copy(), f32(2, 2), f32(2, 2), need_dx=np.ones(2)), "need_dx must be"),
    (lambda x: ops.batch_norm_forward(x, None, None, f32(3), f32(3), None), "training must be True or False"),
    (lambda x: ops.batch_norm_forward(x, None, None, f32(3), f32(3), True, momentum="a"), "momentum must be a real"),
    (lambda x: ops.layer_norm_forward(x, None, None, epsilon=None), "epsilon must be a real number"),
    (lambda x: ops.normalization_forward(x, f32(3), f32(3), invert=np.ones(2)), "invert must be True or False"),
])
def test_ops_conversions_name_their_argument(call, pattern):
    x = f32(2, 3)
    assert_refused(lambda: call(x), TypeError, pattern, x)


def test_the_reference_dropout_seed_is_an_int():
    with pytest.raises(TypeError, match="seed must be an int"):
        reference.dropout_forward(f32(4), 0.5, 1.5)


def test_reference_ftrl_power_overflows_to_inf_as_the_kernel():
    def args():
        return [f32(2)], [np.full(2, 1e30, np.float32)], [np.full(2, 1e30, np.float32)], [np.zeros(2, np.float32)]
    native, twin = args(), args()
    with np.errstate(all="ignore"):
        ops.ftrl_update(*native, learning_rate=0.1, learning_rate_power=-20.0)
        reference.ftrl_update(*twin, learning_rate=0.1, learning_rate_power=-20.0)  # was: OverflowError
    for a, b in zip(native, twin):
        assert [x.tobytes() for x in a] == [x.tobytes() for x in b]


def test_optimizer_apply_names_a_container_that_is_not_a_list():
    opt = optimizers.Adam()
    with pytest.raises(TypeError, match="params must be a list of numpy.ndarray"):
        opt.apply(None, [f32(3)])
    with pytest.raises(TypeError, match="grads must be a list of numpy.ndarray"):
        opt.apply([f32(3)], 5)
    assert opt.iterations == 0


@pytest.fixture
def model():
    m = nnfast.Sequential([nnfast.layers.Dense(2)], seed=0)
    m.compile(optimizer="sgd", loss="mse")
    m.build((None, 3))
    return m


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(epochs="2"), TypeError, "epochs must be an int"),
    (dict(epochs=-1), ValueError, "epochs must be >= 0"),
    (dict(initial_epoch=None), TypeError, "initial_epoch must be an int"),
    (dict(sample_weight={}), ValueError, "sample_weight must be an array of real numbers"),
    (dict(sample_weight="relu"), ValueError, "sample_weight must be an array of real numbers"),
    (dict(y=None), ValueError, "y must be an array with one target per sample"),
    (dict(x=[[1.0, 2.0, 3.0], [1.0]]), ValueError, "x must be an array of real numbers"),
])
def test_fit_names_bad_arguments_and_changes_nothing(model, kwargs, error, pattern):
    args = {"x": f32(4, 3), "y": f32(4, 2), "verbose": 0, **kwargs}
    before = [w.tobytes() for w in model.get_weights()]
    with pytest.raises(error, match=pattern):
        model.fit(**args)
    assert [w.tobytes() for w in model.get_weights()] == before


def test_evaluate_without_targets_names_y(model):
    with pytest.raises(ValueError, match="y must be an array with one target per sample"):
        model.evaluate(f32(4, 3), None, verbose=0)


def test_keras_loss_functions_name_bad_targets():
    from nnfast.keras import losses
    with pytest.raises(TypeError, match="y_true must be an array of real numbers"):
        losses.mean_squared_error(np.array([["a", "b"]]), f32(1, 2))
    with pytest.raises(TypeError, match="y_pred must be an array of real numbers"):
        losses.mean_squared_error(f32(1, 2), np.array([[1j, 2j]]))
    with pytest.raises(ValueError, match="y_true must broadcast to the shape of y_pred"):
        losses.mean_squared_error(f32(3, 2), f32(1, 2))
    with pytest.raises(ValueError, match="y_true must hold one class index per row"):
        losses.sparse_categorical_crossentropy(np.array([0, 1, 1]), f32(2, 3))


def test_number_and_truth_checks():
    from nnfast.utils import checks
    assert checks.number("x", np.float32(0.5)) == 0.5 and math.isnan(checks.number("x", math.nan))
    for bad in (True, "1", None, np.array(0.5)):
        with pytest.raises(TypeError, match="x must be a real number"):
            checks.number("x", bad)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checks.truth("f", 1) is True and checks.truth("f", np.array([0])) is False
    with pytest.raises(TypeError, match="f must be True or False"):
        checks.truth("f", np.ones(2))


@pytest.mark.parametrize("shape, error, pattern", [
    ("relu", ValueError, "input_shape must have the batch axis first"),
    (1j, ValueError, "input_shape must have the batch axis first"),
    ((None, 4.5), TypeError, "input_shape must be a tuple of ints"),
    ((None, 0), ValueError, "input_shape must have sizes >= 1"),
    ((None, 2 ** 70), MemoryError, "too large to allocate"),
])
def test_build_names_a_bad_input_shape_and_stays_unbuilt(shape, error, pattern):
    m = nnfast.Sequential([nnfast.layers.Dense(2)])
    with pytest.raises(error, match=pattern):
        m.build(shape)
    assert not m.built
    if error is not MemoryError:  # refused before any layer was called: still buildable
        m.build((None, 3))
        assert m.built


def test_an_optimizer_convention_that_is_an_array_is_named():
    with pytest.raises(ValueError, match="convention must be one of"):
        optimizers.Adam(convention=np.ones(3))


def test_a_zero_stride_parameter_is_refused_before_the_state_is_allocated():
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), shape=(1 << 40,), strides=(0,))
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match=r"params\[0\] must be C-contiguous"):  # was: MemoryError (4 TiB of slots)
        opt.apply([huge], [huge])
    assert opt.iterations == 0 and opt.get_state()["slots"] == {}


def test_dense_use_bias_and_fit_callbacks_are_named(model):
    with pytest.raises(TypeError, match="use_bias must be True or False"):
        nnfast.layers.Dense(2, use_bias=np.ones(3))
    with pytest.raises(TypeError, match="callbacks must be a list"):
        model.fit(f32(4, 3), f32(4, 2), verbose=0, callbacks=object())


def test_torch_face_flags_without_a_truth_value_are_named():
    torch = pytest.importorskip("torch")
    import nnfast.compat.torch as noptim
    p = torch.ones(3, requires_grad=True)
    with pytest.raises(TypeError, match="centered must be True or False"):  # was: the step's `if` failed
        noptim.RMSprop([p], lr=0.01, centered=np.ones(3))
    opt = noptim.RMSprop([p], lr=0.01)
    opt.param_groups[0]["centered"] = np.ones(3)
    p.grad = torch.ones(3)
    with pytest.raises(TypeError, match="centered must be True or False"):
        opt.step()
    assert torch.equal(p.detach(), torch.ones(3))


def test_numpy_bools_are_not_real_numbers_natively_as_in_the_reference():
    p, t = f32(2, 3) / 2, f32(2, 3) / 3
    with pytest.raises(TypeError, match="label_smoothing must be a real number"):  # was: taken as 1.0
        ops.categorical_cross_entropy(p, t, label_smoothing=np.True_)
    w, g = f32(3), f32(3)
    assert_refused(lambda: ops.sgd_update([w], [g], None, step=1, learning_rate=np.True_), TypeError,
                   "learning_rate must be a real number", w)


def test_a_zero_stride_gradient_is_refused_before_clipping_allocates():
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), shape=(1 << 40,), strides=(0,))
    opt = optimizers.SGD(clipnorm=1.0)
    with pytest.raises(ValueError, match=r"grads\[0\] must be C-contiguous"):  # was: MemoryError (4 TiB)
        opt.apply([np.zeros(4, np.float32)], [huge])
    assert opt.iterations == 0


@pytest.mark.parametrize("split", [None, "0.5", 1.0, math.nan])
def test_fit_names_a_bad_validation_split(model, split):
    with pytest.raises((TypeError, ValueError), match="validation_split must be"):
        model.fit(f32(4, 3), f32(4, 2), verbose=0, validation_split=split)


@pytest.mark.parametrize("params", [dict(solver="adam", beta_1=False), dict(solver="sgd", momentum=False)])
def test_sklearn_takes_a_bool_where_scikit_learn_does(params):
    from nnfast.sklearn import MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0, **params).fit(f32(8, 2), f32(8))


def test_to_categorical_and_categorical_hinge_name_bad_inputs():
    from nnfast.keras import losses, utils
    with pytest.raises(ValueError, match="x must hold integer class indices"):  # was: a RuntimeWarning, garbage
        utils.to_categorical(np.array([1e308]), num_classes=3)
    with pytest.raises(ValueError, match="y_pred must have at least one class"):  # was: NumPy's reduction error
        losses.categorical_hinge(np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32))


def misaligned(a):
    """A C-contiguous copy of `a` at an address that is not a multiple of its item size."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf[1:].data, a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def test_predict_copies_a_misaligned_x_instead_of_refusing_it(model):
    x = f32(5, 3)
    np.testing.assert_array_equal(model.predict(misaligned(x), verbose=0), model.predict(x, verbose=0))
    before = [w.tobytes() for w in model.get_weights()]
    model.fit(misaligned(x), misaligned(f32(5, 2)), epochs=1, verbose=0)
    assert [w.tobytes() for w in model.get_weights()] != before


def test_predict_names_x_when_its_copy_cannot_fit_in_memory(model):
    huge = np.lib.stride_tricks.as_strided(f32(1), shape=(1 << 40, 3), strides=(0, 0), writeable=False)
    with pytest.raises(MemoryError, match="x of shape"):
        model.predict(huge, verbose=0)


@pytest.mark.parametrize("clip", [dict(clipvalue=0.5), dict(clipnorm=0.01), dict(global_clipnorm=0.01)])
@pytest.mark.parametrize("cls_name", ["Adam", "AdamW", "SGD"])
def test_clipping_keeps_a_0d_gradient_an_array(cls_name, clip):
    params = [np.array(0.5, np.float32), f32(3)]
    twin = [p.copy() for p in params]
    grads = [np.array(3.0, np.float32), f32(3) * 5]
    getattr(optimizers, cls_name)(**clip).apply(params, grads)
    opt = getattr(optimizers, cls_name)(**clip)
    opt.ops = reference
    opt.apply(twin, [g.copy() for g in grads])
    assert params[0].shape == () and params[0] != np.float32(0.5)
    assert [p.tobytes() for p in params] == [p.tobytes() for p in twin]


@pytest.mark.parametrize("flush", [True, False], ids=["flush", "ieee"])
@pytest.mark.parametrize("cls_name", ["Adam", "AdamW", "Nadam", "RAdam", "Adamax", "SGD"])
def test_the_reference_steps_a_0d_parameter_under_torch_maximize(cls_name, flush):
    # A fuzz finding: -g of a 0-d gradient is a NumPy scalar, which the reference's fused
    # multiply-add (nnfast.utils.fused.fma) did not count as an array ("at least one array or
    # dtype is required").
    params, grads = [np.array(0.125, np.float32)], [np.array(-0.25, np.float32)]
    twin = [p.copy() for p in params]
    kwargs = dict(convention="torch", maximize=True, **({"momentum": 0.9} if cls_name == "SGD" else {}))
    native, reference_twin = getattr(optimizers, cls_name)(**kwargs), getattr(optimizers, cls_name)(**kwargs)
    reference_twin.ops = reference
    with nnfast.flush_denormal(flush):
        for _ in range(2):
            native.apply(params, grads)
            reference_twin.apply(twin, grads)
    assert params[0].shape == () and params[0] != np.float32(0.125)
    assert [p.tobytes() for p in params] == [p.tobytes() for p in twin]


@pytest.mark.parametrize("flush", [True, False], ids=["flush", "ieee"])
@pytest.mark.parametrize("cls_name", ["SGD", "AdamW", "RMSprop", "Lion"])
def test_a_subnormal_weight_decay_is_read_as_the_kernels_read_it(cls_name, flush):
    # A fuzz finding (HYPOTHESIS_PROFILE=long): under flushing the kernels' test of weight_decay
    # != 0 reads the subnormal double 5e-324 as 0 (DAZ), so they skip the decay and an infinite
    # parameter stays infinite; the reference decayed it, lr * wd underflowed to 0, and 0 * inf
    # made it NaN. Without flushing both decay: NaN.
    params = [np.array([np.inf, -np.inf, 1.5, -2.0], np.float32)]
    twin, grads = [p.copy() for p in params], [np.full(4, 0.25, np.float32)]
    native, reference_twin = (getattr(optimizers, cls_name)(weight_decay=5e-324) for _ in range(2))
    reference_twin.ops = reference
    with nnfast.flush_denormal(flush), np.errstate(invalid="ignore"):  # 0 * inf, on purpose
        native.apply(params, grads)
        reference_twin.apply(twin, grads)
    assert np.isnan(params[0][0]) != flush
    assert [p.tobytes() for p in params] == [p.tobytes() for p in twin]


@pytest.mark.parametrize("shape", [(), (1,)])
def test_the_reference_flushes_the_arithmetic_of_a_0d_parameter(shape):
    # A fuzz finding: arithmetic on 0-d arrays gives NumPy scalars, which had left the reference's
    # flush emulation (nnfast.utils.subnormals), so a 0-d parameter was updated as in plain IEEE
    # arithmetic: here lr * g is subnormal, flushed to 0 by the kernels, so the step moves nothing.
    assert nnfast.get_flush_denormal()
    params, twin = [np.full(shape, 1.1754944e-38, np.float32)], [np.full(shape, 1.1754944e-38, np.float32)]
    grads = [np.full(shape, 1.1754944e-38, np.float32)]
    native, reference_twin = optimizers.Adagrad(convention="torch", maximize=True), \
        optimizers.Adagrad(convention="torch", maximize=True)
    reference_twin.ops = reference
    native.apply(params, grads)
    reference_twin.apply(twin, grads)
    assert params[0].shape == shape and params[0].tobytes() == twin[0].tobytes()
    assert params[0].tobytes() == np.full(shape, 1.1754944e-38, np.float32).tobytes()


def test_train_on_batch_checks_return_dict_before_the_step(model):
    before = [w.tobytes() for w in model.get_weights()]
    with pytest.raises(TypeError, match="return_dict must be True or False"):
        model.train_on_batch(f32(4, 3), f32(4, 2), return_dict=np.ones(2))
    assert [w.tobytes() for w in model.get_weights()] == before and model.optimizer.iterations == 0


@pytest.mark.parametrize("class_weight, error, pattern", [
    ({"a": 1.0}, TypeError, "class_weight key must be an int"),
    ({-1: 1.0}, ValueError, "class_weight key must be >= 0"),
    ({0: float("nan")}, ValueError, r"class_weight\[0\]"),
])
def test_class_weight_keys_and_values_are_named(model, class_weight, error, pattern):
    before = [w.tobytes() for w in model.get_weights()]
    with pytest.raises(error, match=pattern):
        model.train_on_batch(f32(4, 3), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]], class_weight=class_weight)
    assert [w.tobytes() for w in model.get_weights()] == before


def test_class_weight_of_a_class_that_never_occurs_is_unused(model):
    y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    weights = model.get_weights()
    loss_far = model.train_on_batch(f32(4, 3), y, class_weight={0: 2.0, 1 << 40: 5.0})
    model.set_weights(weights)
    loss_near = model.train_on_batch(f32(4, 3), y, class_weight={0: 2.0})
    assert loss_far == loss_near
