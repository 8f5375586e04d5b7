"""keras.utils on nnfast: to_categorical and normalize (nnfast.preprocessing) against Keras 3 itself,
set_random_seed, and their bad input."""
import os
import random

import numpy as np
import pytest

from nnfast.keras import utils
from nnfast.preprocessing import normalize, to_categorical

os.environ.setdefault("KERAS_BACKEND", "torch")  # for the comparison with Keras itself


@pytest.fixture(scope="module")
def keras_utils():
    keras = pytest.importorskip("keras")
    return keras.utils


CATEGORICAL_CASES = [
    ([0, 2, 1], None), ([0, 2, 1], 5), (np.array([[1], [2], [0]]), None), (np.array([[1, 2], [0, 3]]), 4),
    (np.array([[[1], [0]]]), None), (3, 5), ([[1]], None), (np.array([1.0, 2.0]), None),
    (np.array([1, 0], dtype=np.uint8), 3), (np.zeros((0,), dtype=int), 3), (np.arange(24).reshape(2, 3, 4) % 5, None),
    (np.array([0.3, -1.0, 2.0]) > 0, None), (np.array(["0", "2", "1"]), None), (np.array([b"1", b"0"]), 3),
]


@pytest.mark.parametrize(("x", "num_classes"), CATEGORICAL_CASES)
def test_to_categorical_is_keras(keras_utils, x, num_classes):
    expected = keras_utils.to_categorical(x, num_classes)
    got = to_categorical(x, num_classes)
    assert got.dtype == expected.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


NORMALIZE_CASES = [
    (np.arange(6.0).reshape(2, 3), -1, 2), (np.arange(6.0).reshape(2, 3), 1, 1), (np.zeros((2, 3)), -1, 2),
    (np.arange(24.0).reshape(2, 3, 4) - 7, 1, 2), (np.arange(12, dtype=np.float32).reshape(3, 4), -1, np.inf),
    (np.arange(8, dtype=np.int32).reshape(2, 4), -1, 2), (np.arange(9.0).reshape(3, 3), -2, 2),
]


@pytest.mark.parametrize(("x", "axis", "order"), NORMALIZE_CASES)
def test_normalize_is_keras(keras_utils, x, axis, order):
    expected = keras_utils.normalize(x, axis=axis, order=order)
    got = normalize(x, axis=axis, order=order)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_normalize_keeps_the_shape_where_keras_does_not():
    # Keras 3 expands the norm on the last axis whatever the axis: axis=0 fails, 1-D gains an axis
    x = np.array([[3.0, 0.0, 1.0], [4.0, 0.0, 1.0]])
    np.testing.assert_array_equal(normalize(x, axis=0), x / np.array([5.0, 1.0, np.sqrt(2)]))
    got = normalize([3, 4])
    assert got.shape == (2,)
    np.testing.assert_allclose(got, [0.6, 0.8])


@pytest.mark.parametrize(("x", "num_classes", "error", "message"), [
    ([-1, 2], None, ValueError, r"x must hold class indices in \[0, 2\], got \[-1\]"),
    ([3, 1], 2, ValueError, r"x must hold class indices in \[0, 1\], got \[3\]"),
    ([0.5, 1], None, ValueError, r"x must hold integer class indices, got \[0.5\]"),
    ([np.nan], None, ValueError, "x must hold integer class indices"),
    ([], None, ValueError, "x must hold at least one class index when num_classes is None"),
    (["a"], None, TypeError, r"x must be an array of integer class indices, got strings \[a\]"),
    (["1", "1.5"], None, TypeError, "x must be an array of integer class indices, got strings"),
    ([1 + 2j], None, TypeError, "x must be an array of integer class indices, got dtype complex128"),
    ([1], 0, ValueError, "num_classes must be >= 1, got 0"),
    ([1], 2.0, TypeError, "num_classes must be an int, got 2.0"),
])
def test_to_categorical_refuses_bad_input_naming_it(x, num_classes, error, message):
    with pytest.raises(error, match=message):
        to_categorical(x, num_classes)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"x": np.ones((2, 3)), "axis": 2}, ValueError, "axis must be <= 1, got 2"),
    ({"x": np.ones((2, 3)), "axis": -3}, ValueError, "axis must be >= -2, got -3"),
    ({"x": np.ones((2, 3)), "axis": None}, TypeError, "axis must be an int, got None"),
    ({"x": np.ones((2, 3)), "order": "fro"}, TypeError, "order must be a real number"),
    ({"x": np.array(["a"])}, TypeError, "x must be a numeric array, got dtype <U1"),
    ({"x": 3.0}, ValueError, "x must have at least one dimension"),
])
def test_normalize_refuses_bad_input_naming_it(kwargs, error, message):
    with pytest.raises(error, match=message):
        normalize(**kwargs)


def test_set_random_seed_seeds_python_and_numpy():
    utils.set_random_seed(123)
    first = (random.random(), np.random.rand(3))
    utils.set_random_seed(123)
    second = (random.random(), np.random.rand(3))
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])
    random.seed(123)
    np.random.seed(123)
    assert random.random() == first[0]
    np.testing.assert_array_equal(np.random.rand(3), first[1])


@pytest.mark.parametrize(("seed", "error"), [(1.5, TypeError), (True, TypeError), ("1", TypeError),
                                              (-1, ValueError), (2**32, ValueError)])
def test_set_random_seed_refuses_what_numpy_cannot_take(seed, error):
    state = np.random.get_state()
    with pytest.raises(error, match="seed must be"):
        utils.set_random_seed(seed)
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])


def test_the_keras_utils_namespace():
    from nnfast.keras.datasets import cache
    from nnfast.utils.progbar import Progbar

    assert utils.to_categorical is to_categorical and utils.normalize is normalize
    assert utils.Progbar is Progbar and utils.get_file is cache.get_file
    with pytest.raises(NotImplementedError, match=r"keras\.utils\.plot_model is not supported by nnfast"):
        utils.plot_model  # noqa: B018


def test_progbar_writes_keras_3s_bytes(keras_utils, monkeypatch):
    # the same updates on both bars, each on a clock that advances 12.3 ms a reading: the same text,
    # terminal codes, backspaces and throttling included
    import contextlib
    import io
    import itertools

    import nnfast.utils.progbar as ours_module
    theirs_module = pytest.importorskip("keras.src.utils.progbar")

    def script(Progbar):
        for verbose, target, stateless in ((1, 12, set()), (2, 12, set()), (1, None, set()), (1, 1500, set()),
                                           (1, 20, None), (2, 30, None)):
            bar = Progbar(target, verbose=verbose, stateless_metrics=stateless)
            steps = target or 7
            for i in range(1, steps + 1, 3 if stateless is None else 1):
                bar.update(i, [("loss", 1.0 / i), ("acc", 0.0001 * i), ("delta", -0.0005 * i)],
                           finalize=(i == steps) if target is None else None)
            bar.update(steps, [("loss", -0.5)])

    texts = []
    for Progbar, module in ((ours_module.Progbar, ours_module), (keras_utils.Progbar, theirs_module)):
        clock = itertools.count(1000.0, 0.0123)
        monkeypatch.setattr(module.time, "time", lambda clock=clock: next(clock))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            script(Progbar)
        monkeypatch.undo()
        texts.append(out.getvalue())
    assert texts[0] == texts[1]
    assert "━" in texts[0] and "\b" in texts[0] and "e-04" in texts[0]
