"""Data sets: the seed notes' study-hours data and make_samples, the IDX reader on small files
written here (raw, gzip, every type code, corrupt files), Fashion-MNIST folders, and digits."""
import gzip
import re
import sys
import types

import numpy as np
import pytest

from nnfast import datasets

pytestmark = pytest.mark.filterwarnings("error")


# --------------------------------------------------------------------------------------------------
# the seed notes' data
# --------------------------------------------------------------------------------------------------

def test_study_hours_matches_the_seed_notes():
    x, y = datasets.study_hours()
    assert x.dtype == y.dtype == np.float64 and x.shape == (3, 2) and y.shape == (3, 1)
    np.testing.assert_array_equal(x, [[1.0, 1.0], [0.25, 0.625], [0.875, 0.75]])
    np.testing.assert_array_equal(y, [[1.0], [20 / 56], [47 / 56]])  # 5*study + 2*sleep = 56, 20, 47
    np.testing.assert_allclose(y, [[1.0], [0.35714286], [0.83928571]], atol=5e-9)


def test_study_hours_float32():
    x, y = datasets.study_hours("float32")
    assert x.dtype == y.dtype == np.float32
    np.testing.assert_array_equal(y, np.array([[1.0], [20 / 56], [47 / 56]], np.float32))


def test_make_samples_shapes_ranges_and_formula():
    x, y = datasets.make_samples(500, seed=3)
    assert x.shape == (500, 2) and y.shape == (500, 1) and x.dtype == y.dtype == np.float64
    np.testing.assert_array_equal(x.max(axis=0), [1.0, 1.0])
    assert x.min() > 1 / 8
    assert y.min() >= (5 + 2 + 40) / 100 and y.max() <= (40 + 16 + 40) / 100
    # y is exactly linear in x with intercept 0.40
    design = np.hstack([x, np.ones((500, 1))])
    coef, residual, *_ = np.linalg.lstsq(design, y, rcond=None)
    assert coef[2, 0] == pytest.approx(0.40, abs=1e-12) and residual[0] < 1e-24


def test_make_samples_draws_study_then_sleep_from_the_seeded_generator():
    rng = np.random.default_rng(11)
    study, sleep = rng.uniform(1, 8, (50, 1)), rng.uniform(1, 8, (50, 1))
    x, y = datasets.make_samples(50, seed=11)
    np.testing.assert_array_equal(y, (5 * study + 2 * sleep + 40) / 100)
    np.testing.assert_array_equal(x, np.hstack([study / study.max(), sleep / sleep.max()]))


def test_make_samples_is_reproducible():
    a, b, c = (datasets.make_samples(100, seed=s) for s in (5, 5, 6))
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    x32, y32 = datasets.make_samples(100, seed=5, dtype="float32")
    assert x32.dtype == y32.dtype == np.float32
    np.testing.assert_array_equal(x32, a[0].astype(np.float32))


def test_make_samples_default_size():
    x, y = datasets.make_samples()
    assert x.shape == (1000, 2) and y.shape == (1000, 1)


@pytest.mark.parametrize("call,error,name", [
    (lambda: datasets.make_samples(0), ValueError, "n"),
    (lambda: datasets.make_samples(2.5), TypeError, "n"),
    (lambda: datasets.make_samples(10, dtype="int32"), TypeError, "dtype"),
    (lambda: datasets.study_hours("float16"), TypeError, "dtype"),
])
def test_bad_arguments(call, error, name):
    with pytest.raises(error, match=name):
        call()


# --------------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------------

TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
              np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array, code=None):
    """The IDX encoding of an array: 0, 0, type code, ndim, big-endian uint32 dims, big-endian data."""
    code = TYPE_CODES[array.dtype.type] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data, gz=False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    return rng.normal(size=shape).astype(dtype) * 1e3


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("dtype", list(TYPE_CODES))
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (0, 28, 28), (1, 1, 1, 2)])
def test_load_idx_round_trip(tmp_path, dtype, shape, gz):
    expected = sample(dtype, shape)
    path = write(tmp_path / "data.idx", idx_bytes(expected), gz)
    got = datasets.load_idx(path)
    assert got.dtype == expected.dtype and got.dtype.isnative and got.shape == shape
    np.testing.assert_array_equal(got, expected)
    assert got.flags.writeable and got.flags.c_contiguous
    got[...] = 0  # owns its memory


def test_load_idx_detects_gzip_by_content_not_name(tmp_path):
    expected = sample(np.uint8, (4, 4))
    plain_named_gz = write(tmp_path / "plain.gz", idx_bytes(expected))
    packed_unnamed = write(tmp_path / "packed", idx_bytes(expected), gz=True)
    np.testing.assert_array_equal(datasets.load_idx(plain_named_gz), expected)
    np.testing.assert_array_equal(datasets.load_idx(packed_unnamed), expected)
    np.testing.assert_array_equal(datasets.load_idx(str(tmp_path / "packed")), expected)


def test_load_idx_zero_dimensions_is_one_scalar(tmp_path):
    got = datasets.load_idx(write(tmp_path / "scalar", bytes([0, 0, 0x0C, 0]) + np.array(7, ">i4").tobytes()))
    assert got.shape == () and got == 7


GOOD = idx_bytes(np.arange(12, dtype=np.int16).reshape(3, 4))


@pytest.mark.parametrize("data,problem", [
    (b"", "not an IDX file"),
    (b"\x00\x00", "not an IDX file"),
    (b"\x01" + GOOD[1:], "not an IDX file"),
    (GOOD[:2] + b"\x07" + GOOD[3:], "not an IDX file"),
    (GOOD[:4] + GOOD[4:10], "truncated IDX header"),
    (GOOD[:-1], "truncated"),
    (GOOD[:12], "truncated"),
    (GOOD + b"\x00", "trailing bytes"),
    (b"\x1f\x8b" + b"not really gzip", "corrupt gzip"),
    (gzip.compress(GOOD)[:-12], "corrupt gzip"),
], ids=["empty", "short-magic", "bad-zero", "bad-type", "short-header", "one-byte-short", "no-data",
        "trailing", "not-gzip", "cut-gzip"])
def test_load_idx_rejects_corrupt_files_naming_the_path(tmp_path, data, problem):
    path = write(tmp_path / "broken-file.idx", data)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + problem):
        datasets.load_idx(path)


def test_load_idx_missing_file():
    with pytest.raises(FileNotFoundError):
        datasets.load_idx("/nonexistent/train-images-idx3-ubyte")


# --------------------------------------------------------------------------------------------------
# Fashion-MNIST folders
# --------------------------------------------------------------------------------------------------

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def write_mnist(folder, n_train=5, n_test=3, gz=(True, False, False, True), labels_test=None):
    arrays = [sample(np.uint8, (n_train, 4, 3), 1), sample(np.uint8, (n_train,), 2) % 10,
              sample(np.uint8, (n_test, 4, 3), 3),
              sample(np.uint8, (n_test,), 4) % 10 if labels_test is None else labels_test]
    for name, array, packed in zip(NAMES, arrays, gz):
        write(folder / (name + ".gz" if packed else name), idx_bytes(array), packed)
    return arrays


def test_load_fashion_mnist_reads_the_four_files(tmp_path):
    x_train, y_train, x_test, y_test = write_mnist(tmp_path)
    (a, b), (c, d) = datasets.load_fashion_mnist(tmp_path)
    for got, expected in zip((a, b, c, d), (x_train, y_train, x_test, y_test)):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)
    assert datasets.load_mnist is datasets.load_fashion_mnist


def test_load_fashion_mnist_prefers_the_plain_file(tmp_path):
    write_mnist(tmp_path, gz=(True,) * 4)
    x_train, *_ = write_mnist(tmp_path, n_train=2, gz=(False,) * 4)
    (a, _), _ = datasets.load_fashion_mnist(str(tmp_path))
    np.testing.assert_array_equal(a, x_train)


def test_load_fashion_mnist_lists_missing_files(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="missing t10k-labels-idx1-ubyte;.*train-images-idx3-ubyte"):
        datasets.load_fashion_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match=", ".join(NAMES[:2])):
        datasets.load_fashion_mnist(tmp_path / "empty")


@pytest.mark.parametrize("labels", [np.zeros(4, np.uint8), np.zeros(3, np.int16), np.zeros((3, 1), np.uint8)],
                         ids=["count", "dtype", "ndim"])
def test_load_fashion_mnist_rejects_mismatched_files(tmp_path, labels):
    write_mnist(tmp_path, labels_test=labels)
    with pytest.raises(ValueError, match="test files"):
        datasets.load_fashion_mnist(tmp_path)


# --------------------------------------------------------------------------------------------------
# digits
# --------------------------------------------------------------------------------------------------

@pytest.fixture
def fake_sklearn(monkeypatch):
    """A stand-in sklearn.datasets.load_digits with 50 samples of known pixels and labels."""
    data = np.arange(50 * 64).reshape(50, 64) % 17
    target = np.arange(50) % 10
    package, module = types.ModuleType("sklearn"), types.ModuleType("sklearn.datasets")
    module.load_digits = lambda: types.SimpleNamespace(data=data, target=target)
    package.datasets = module
    monkeypatch.setitem(sys.modules, "sklearn", package)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", module)
    return data, target


def test_load_digits_scales_and_splits_with_a_seeded_shuffle(fake_sklearn):
    data, target = fake_sklearn
    (x_train, y_train), (x_test, y_test) = datasets.load_digits(test_size=0.2, seed=4)
    assert x_train.shape == (40, 64) and x_test.shape == (10, 64)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    order = np.random.default_rng(4).permutation(50)
    np.testing.assert_array_equal(x_test, (data[order[40:]] / 16).astype(np.float32))
    np.testing.assert_array_equal(y_train, target[order[:40]])
    (x2, _), _ = datasets.load_digits(test_size=0.2, seed=4)
    np.testing.assert_array_equal(x2, x_train)
    (x3, _), (x3_test, _) = datasets.load_digits(test_size=0.25, seed=5, dtype="float64")
    assert x3.dtype == np.float64 and len(x3_test) == 13  # ceil(0.25 * 50)


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1])
def test_load_digits_rejects_bad_test_size(fake_sklearn, test_size):
    with pytest.raises(ValueError, match="test_size"):
        datasets.load_digits(test_size=test_size)


def test_load_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    message = "load_digits needs scikit-learn: pip install 'nnfast[datasets]'"
    with pytest.raises(ImportError, match=re.escape(message)):
        datasets.load_digits()


def test_load_digits_with_scikit_learn():
    pytest.importorskip("sklearn")
    (x_train, y_train), (x_test, y_test) = datasets.load_digits()
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(10))
