"""keras.datasets on nnfast: the eight loaders on a pre-filled Keras cache of small synthetic files in
the real formats (compared with Keras 3's own loaders where they can read them), and the shared
cache: its location, the file:// download into it, the checksum check and the error when a file
is missing and cannot be downloaded. Nothing here touches the network."""
import gzip
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from nnfast.keras.datasets import (boston_housing, cache, california_housing, cifar10, cifar100, fashion_mnist, imdb,
                                   mnist, reuters)

os.environ.setdefault("KERAS_BACKEND", "torch")  # for the comparison with Keras itself


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def keras_dataset(name):
    """Keras 3's loader module `name`, or a skip when Keras is not installed."""
    pytest.importorskip("keras")
    import importlib

    return importlib.import_module(f"keras.src.datasets.{name}")


def write_mnist(path, n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fashion_mnist(folder):
    rng = np.random.default_rng(1)
    arrays = {"x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 2, dtype=np.uint8)}
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in fashion_mnist.FILES.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(arrays[key])))
    return arrays


def write_boston(path, n=50):
    rng = np.random.default_rng(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=rng.normal(size=(n, 13)) * 10, y=rng.uniform(5, 50, n))


def cifar_batch(rng, n):
    # as the real files: a dict with bytes keys (they were written by Python 2), data uint8 (n, 3072)
    return {b"batch_label": b"synthetic", b"labels": rng.integers(0, 10, n).tolist(),
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * n}


def write_pickles_archive(path, folder, parts):
    """A .tar.gz at `path` of each part pickled as folder/name (CIFAR's archives), returning parts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, contents in parts.items():
            data = pickle.dumps(contents, protocol=3)
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return parts


def write_cifar_archive(path, n=4):
    rng = np.random.default_rng(3)
    return write_pickles_archive(path, "cifar-10-batches-py",
                                 {name: cifar_batch(rng, n) for name in (*cifar10.TRAIN_BATCHES, "test_batch")})


# --------------------------------------------------------------------------------------------------
# the loaders on a pre-filled cache
# --------------------------------------------------------------------------------------------------

def test_mnist_reads_the_cached_npz_as_keras_does(keras_home, monkeypatch):
    path = keras_home / "datasets" / "mnist.npz"
    arrays = write_mnist(path)
    monkeypatch.setattr(mnist, "FILE_HASH", sha256(path))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for key, got in zip(("x_train", "y_train", "x_test", "y_test"), (x_train, y_train, x_test, y_test)):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])
    assert x_train.shape == (5, 28, 28) and y_train.shape == (5,)

    keras_mnist = keras_dataset("mnist")
    monkeypatch.setattr(keras_mnist, "get_file", lambda *args, **kwargs: str(path))
    for ours, theirs in zip(mnist.load_data(), keras_mnist.load_data()):
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_fashion_mnist_reads_the_four_gz_idx_files_as_keras_does(keras_home, monkeypatch):
    folder = keras_home / "datasets" / "fashion-mnist"
    arrays = write_fashion_mnist(folder)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert x_train.dtype == y_train.dtype == np.uint8 and x_test.shape == (2, 28, 28)

    keras_fashion = keras_dataset("fashion_mnist")
    monkeypatch.setattr(keras_fashion, "get_file", lambda fname, **kwargs: str(folder / fname))
    for ours, theirs in zip(fashion_mnist.load_data(), keras_fashion.load_data()):
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("test_split", "seed"), [(0.2, 113), (0.0, 113), (0.5, 7)])
def test_boston_housing_splits_as_keras_does(keras_home, monkeypatch, test_split, seed):
    path = keras_home / "datasets" / "boston_housing.npz"
    write_boston(path)
    monkeypatch.setattr(boston_housing, "FILE_HASH", sha256(path))
    ours = boston_housing.load_data(test_split=test_split, seed=seed)
    assert ours[0][0].dtype == np.float64 and ours[0][0].shape == (int(50 * (1 - test_split)), 13)

    keras_boston = keras_dataset("boston_housing")
    monkeypatch.setattr(keras_boston, "get_file", lambda *args, **kwargs: str(path))
    theirs = keras_boston.load_data(test_split=test_split, seed=seed)
    for ours_split, theirs_split in zip(ours, theirs):
        for a, b in zip(ours_split, theirs_split):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("test_split", [1.0, -0.1, "0.2"])
def test_boston_housing_refuses_a_bad_test_split(keras_home, test_split):
    with pytest.raises((TypeError, ValueError), match="test_split must be"):
        boston_housing.load_data(test_split=test_split)
    assert not (keras_home / "datasets" / "boston_housing.npz").exists()


def test_cifar10_extracts_the_archive_and_returns_channels_last(keras_home, monkeypatch):
    archive = keras_home / "datasets" / "cifar-10-batches-py-target_archive"  # Keras's name for it
    batches = write_cifar_archive(archive)
    monkeypatch.setattr(cifar10, "FILE_HASH", sha256(archive))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert (keras_home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "test_batch").is_file()
    assert x_train.shape == (20, 32, 32, 3) and y_train.shape == (20, 1) and x_test.shape == (4, 32, 32, 3)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    train = [batches[name] for name in cifar10.TRAIN_BATCHES]
    expected = np.concatenate([b[b"data"] for b in train]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(x_train, expected)
    np.testing.assert_array_equal(y_train[:, 0], np.concatenate([b[b"labels"] for b in train]))
    np.testing.assert_array_equal(y_test[:, 0], batches["test_batch"][b"labels"])

    # Keras's own batch reader reads the synthetic batches as nnfast does
    keras_cifar = keras_dataset("cifar")
    folder = keras_home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    theirs_data, theirs_labels = keras_cifar.load_batch(str(folder / "test_batch"))
    ours_data, ours_labels = cifar10.load_batch(str(folder / "test_batch"))
    np.testing.assert_array_equal(ours_data, theirs_data)
    assert list(ours_labels) == list(theirs_labels)


def test_cifar10_refuses_a_batch_that_would_run_code(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": os.getcwd}))  # any global outside NumPy's array rebuild
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        cifar10.load_batch(str(path))


def ragged_sequences(rng, n, vocabulary=60):
    """An object array of n Python int lists of 2 to 13 word indices (ragged, as Keras's files)."""
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = [int(w) for w in rng.integers(1, vocabulary, int(rng.integers(2, 14)))]
    return out


def assert_same_sequence_sets(ours, theirs):
    for (x, y), (kx, ky) in zip(ours, theirs):
        assert x.dtype == kx.dtype == object and x.shape == kx.shape
        assert [list(r) for r in x] == [list(r) for r in kx]
        assert y.dtype == ky.dtype
        np.testing.assert_array_equal(y, ky)


def cached_word_index(module, folder, name, contents):
    """module.get_word_index() of a cached `name` holding `contents` (JSON), its md5 as expected."""
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / name
    index.write_text(contents)
    module.WORD_INDEX_HASH = hashlib.md5(index.read_bytes()).hexdigest()
    return module.get_word_index()


def write_imdb(folder):
    """imdb.npz as Keras's file is: object arrays of Python int lists (ragged), int64 labels."""
    rng = np.random.default_rng(4)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "imdb.npz"
    np.savez(path, x_train=ragged_sequences(rng, 30), y_train=rng.integers(0, 2, 30), x_test=ragged_sequences(rng, 12),
             y_test=rng.integers(0, 2, 12))
    return path


@pytest.mark.parametrize("arguments", [{}, {"num_words": 20}, {"num_words": 20, "skip_top": 5},
                                       {"maxlen": 10}, {"start_char": None}, {"oov_char": None, "num_words": 30},
                                       {"index_from": 0, "start_char": None, "seed": 7}])
def test_imdb_reads_the_cached_npz_as_keras_does(keras_home, monkeypatch, arguments):
    path = write_imdb(keras_home / "datasets")
    monkeypatch.setattr(imdb, "FILE_HASH", sha256(path))
    ours = imdb.load_data(**arguments)
    keras_imdb = keras_dataset("imdb")
    monkeypatch.setattr(keras_imdb, "get_file", lambda *args, **kwargs: str(path))
    assert_same_sequence_sets(ours, keras_imdb.load_data(**arguments))
    with pytest.raises(ValueError, match="maxlen"):
        imdb.load_data(maxlen=1)


def test_imdb_word_index_and_a_tampered_file(keras_home, monkeypatch):
    folder = keras_home / "datasets"
    monkeypatch.setattr(imdb, "WORD_INDEX_HASH", None)  # restored after the test
    assert cached_word_index(imdb, folder, "imdb_word_index.json", '{"the": 1, "movie": 17}') == {"the": 1, "movie": 17}
    hostile = folder / "imdb.npz"
    np.savez(hostile, x_train=np.array([os.getcwd], dtype=object), y_train=np.zeros(1),
             x_test=np.array([os.getcwd], dtype=object), y_test=np.zeros(1))
    monkeypatch.setattr(imdb, "FILE_HASH", sha256(hostile))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        imdb.load_data()


@pytest.mark.parametrize("arguments", [{}, {"num_words": 20}, {"num_words": 20, "skip_top": 5}, {"maxlen": 10},
                                       {"maxlen": 3, "num_words": 30}, {"start_char": None}, {"oov_char": None, "num_words": 30},
                                       {"index_from": 0, "start_char": None, "seed": 7}, {"test_split": 0.5},
                                       {"test_split": 0.0}, {"test_split": 1.0, "maxlen": 9}])
def test_reuters_reads_the_cached_npz_as_keras_does(keras_home, monkeypatch, arguments):
    rng = np.random.default_rng(5)
    folder = keras_home / "datasets"
    folder.mkdir(parents=True)
    path = folder / "reuters.npz"
    np.savez(path, x=ragged_sequences(rng, 40), y=rng.integers(0, 46, 40))
    monkeypatch.setattr(reuters, "FILE_HASH", sha256(path))
    ours = reuters.load_data(**arguments)
    keras_reuters = keras_dataset("reuters")
    monkeypatch.setattr(keras_reuters, "get_file", lambda *args, **kwargs: str(path))
    assert_same_sequence_sets(ours, keras_reuters.load_data(**arguments))
    assert len(ours[0][0]) + len(ours[1][0]) <= 40
    with pytest.raises(ValueError, match="maxlen=3"):  # no newswire is shorter: nothing to size the vocabulary by
        reuters.load_data(maxlen=3)


def test_reuters_word_index_label_names_and_bad_arguments(keras_home, monkeypatch):
    folder = keras_home / "datasets"
    monkeypatch.setattr(reuters, "WORD_INDEX_HASH", None)  # restored after the test
    assert cached_word_index(reuters, folder, "reuters_word_index.json", '{"the": 1, "said": 4}') == {"the": 1, "said": 4}
    names = reuters.get_label_names()
    assert len(names) == 46 and names[3] == "earn"
    assert names == keras_dataset("reuters").get_label_names()
    for bad, error in [({"test_split": 1.5}, ValueError), ({"num_words": -1}, ValueError),
                       ({"maxlen": "10"}, TypeError), ({"nb_words": 10}, TypeError)]:  # Keras 3 has no **kwargs here
        with pytest.raises(error, match=next(iter(bad))):
            reuters.load_data(**bad)
    assert not (folder / "reuters.npz").exists()  # refused before anything was looked for


@pytest.mark.parametrize(("version", "test_split", "seed"),
                         [("large", 0.2, 113), ("small", 0.2, 113), ("large", 0.0, 113), ("small", 0.5, 7)])
def test_california_housing_splits_as_keras_does(keras_home, monkeypatch, version, test_split, seed):
    rng = np.random.default_rng(6)
    path = keras_home / "datasets" / "california_housing.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x=rng.normal(size=(700, 8)).astype(np.float32), y=rng.uniform(2e4, 5e5, 700).astype(np.float32))
    monkeypatch.setattr(california_housing, "FILE_HASH", sha256(path))
    ours = california_housing.load_data(version=version, test_split=test_split, seed=seed)
    n = 600 if version == "small" else 700
    assert ours[0][0].shape == (int(n * (1 - test_split)), 8) and ours[1][1].shape == (n - int(n * (1 - test_split)),)

    keras_california = keras_dataset("california_housing")
    monkeypatch.setattr(keras_california, "get_file", lambda *args, **kwargs: str(path))
    theirs = keras_california.load_data(version=version, test_split=test_split, seed=seed)
    for ours_split, theirs_split in zip(ours, theirs):
        for a, b in zip(ours_split, theirs_split):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("arguments", "error", "match"),
                         [({"version": "medium"}, ValueError, "version"), ({"test_split": 1.0}, ValueError, "test_split"),
                          ({"test_split": "0.2"}, TypeError, "test_split")])
def test_california_housing_refuses_bad_arguments_before_looking_for_the_file(keras_home, arguments, error, match):
    with pytest.raises(error, match=match):
        california_housing.load_data(**arguments)
    assert not (keras_home / "datasets").exists() or not any((keras_home / "datasets").iterdir())


def write_cifar100_archive(path, n_train=6, n_test=3):
    rng = np.random.default_rng(7)

    def part(n):  # as the real files: bytes keys, fine (100) and coarse (20) labels
        return {b"filenames": [b"x.png"] * n, b"batch_label": b"synthetic",
                b"fine_labels": rng.integers(0, 100, n).tolist(), b"coarse_labels": rng.integers(0, 20, n).tolist(),
                b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}

    return write_pickles_archive(path, "cifar-100-python", {"train": part(n_train), "test": part(n_test)})


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_extracts_the_archive_as_keras_does(keras_home, monkeypatch, label_mode):
    archive = keras_home / "datasets" / "cifar-100-python-target_archive"  # Keras's name for it
    parts = write_cifar100_archive(archive)
    monkeypatch.setattr(cifar100, "FILE_HASH", sha256(archive))
    ours = cifar100.load_data(label_mode=label_mode)
    (x_train, y_train), (x_test, y_test) = ours
    assert x_train.shape == (6, 32, 32, 3) and y_train.shape == (6, 1) and x_test.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(y_test[:, 0], parts["test"][f"{label_mode}_labels".encode()])
    np.testing.assert_array_equal(x_train, parts["train"][b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))

    keras_cifar100 = keras_dataset("cifar100")
    folder = keras_home / "datasets" / "cifar-100-python-target"
    monkeypatch.setattr(keras_cifar100, "get_file", lambda *args, **kwargs: str(folder))
    for ours_split, theirs_split in zip(ours, keras_cifar100.load_data(label_mode=label_mode)):
        for a, b in zip(ours_split, theirs_split):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


# --------------------------------------------------------------------------------------------------
# the cache: location, download, checksum, errors
# --------------------------------------------------------------------------------------------------

def test_the_cache_is_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert cache.keras_home() == str(tmp_path / "kh")
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.keras_home() == str(tmp_path / ".keras")


@pytest.fixture
def remote(tmp_path):
    """A folder served by file:// URLs, standing in for the dataset server."""
    folder = tmp_path / "remote"
    folder.mkdir()
    return folder


def test_a_missing_file_is_downloaded_checked_and_renamed_into_place(keras_home, remote, monkeypatch, capsys):
    arrays = write_mnist(remote / "mnist.npz")
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", remote.as_uri() + "/")
    monkeypatch.setattr(mnist, "FILE_HASH", sha256(remote / "mnist.npz"))
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert f"Downloading data from {remote.as_uri()}/mnist.npz" in capsys.readouterr().out
    assert sorted(os.listdir(keras_home / "datasets")) == ["mnist.npz"]  # no temporary file left
    # cached now: the server may go away
    (remote / "mnist.npz").unlink()
    mnist.load_data()


def test_a_corrupt_download_is_refused_and_not_kept(keras_home, remote, monkeypatch):
    write_mnist(remote / "mnist.npz")
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", remote.as_uri() + "/")  # the real hash does not match
    with pytest.raises(ValueError, match=f"the file downloaded from {remote.as_uri()}/mnist.npz is incomplete or "
                                         f"corrupt: its sha256 is {sha256(remote / 'mnist.npz')}, expected "
                                         f"{mnist.FILE_HASH}; it was not kept"):
        mnist.load_data()
    assert os.listdir(keras_home / "datasets") == []


def test_a_cached_file_with_the_wrong_checksum_is_downloaded_again(keras_home, remote, monkeypatch):
    arrays = write_mnist(remote / "mnist.npz")
    write_mnist(keras_home / "datasets" / "mnist.npz", n_train=2)  # outdated
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", remote.as_uri() + "/")
    monkeypatch.setattr(mnist, "FILE_HASH", sha256(remote / "mnist.npz"))
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])


def test_a_missing_file_that_cannot_be_downloaded_says_where_to_put_it(keras_home, remote, monkeypatch):
    monkeypatch.setattr(boston_housing, "ORIGIN_FOLDER", remote.as_uri() + "/")  # the server lacks the file
    target = keras_home / "datasets" / "boston_housing.npz"
    with pytest.raises(FileNotFoundError, match=f"boston_housing.npz is not in the Keras cache and could not be "
                                                f"downloaded from {remote.as_uri()}/boston_housing.npz "
                                                fr"\(.*\); put the file at {target}$"):
        boston_housing.load_data()
    assert os.listdir(keras_home / "datasets") == []


def test_fashion_mnist_and_cifar10_download_into_keras_layout(keras_home, remote, monkeypatch):
    write_fashion_mnist(remote)
    write_cifar_archive(remote / "cifar-10-python.tar.gz")
    monkeypatch.setattr(fashion_mnist, "BASE", remote.as_uri() + "/")
    monkeypatch.setattr(cifar10, "ORIGIN", (remote / "cifar-10-python.tar.gz").as_uri())
    monkeypatch.setattr(cifar10, "FILE_HASH", sha256(remote / "cifar-10-python.tar.gz"))
    assert fashion_mnist.load_data()[0][0].shape == (6, 28, 28)
    assert cifar10.load_data()[0][0].shape == (20, 32, 32, 3)
    assert sorted(os.listdir(keras_home / "datasets")) == ["cifar-10-batches-py-target",
                                                            "cifar-10-batches-py-target_archive", "fashion-mnist"]
    assert sorted(os.listdir(keras_home / "datasets" / "fashion-mnist")) == sorted(fashion_mnist.FILES.values())


def test_get_file_puts_files_where_keras_does(tmp_path, remote):
    keras = pytest.importorskip("keras")
    write_cifar_archive(remote / "archive.tar.gz")
    (remote / "notes.txt").write_text("hello")
    cases = [dict(origin=(remote / "notes.txt").as_uri()),
             dict(fname="renamed.txt", origin=(remote / "notes.txt").as_uri(), cache_subdir="sub"),
             dict(fname="folder", origin=(remote / "archive.tar.gz").as_uri(), extract=True),
             dict(fname="with.dot.tar.gz", origin=(remote / "archive.tar.gz").as_uri(), extract=True),
             dict(origin=(remote / "notes.txt").as_uri(), md5_hash=hashlib.md5(b"hello").hexdigest())]
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()  # Keras falls back to /tmp/.keras for a cache_dir that does not exist
    for kwargs in cases:
        ours = cache.get_file(cache_dir=str(tmp_path / "ours"), **kwargs)
        theirs = keras.utils.get_file(cache_dir=str(tmp_path / "theirs"), **kwargs)
        assert os.path.relpath(ours, tmp_path / "ours") == os.path.relpath(theirs, tmp_path / "theirs")
        assert os.path.isdir(ours) == os.path.isdir(theirs)
        if os.path.isdir(ours):
            assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs))


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"fname": "x.npz"}, ValueError, "origin must be the URL of the file to download, got None"),
    ({"fname": "x.npz", "origin": 3}, TypeError, "origin must be a str, got 3"),
    ({"origin": "file:///"}, ValueError, "fname must be given when origin names no file"),
    ({"fname": os.path.join("a", "b.npz"), "origin": "file:///b.npz"}, ValueError, "fname must be a file name"),
    ({"fname": "b", "origin": "file:///b", "hash_algorithm": "sha1"}, ValueError, "hash_algorithm must be one of"),
])
def test_get_file_refuses_bad_arguments(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        cache.get_file(cache_dir=str(tmp_path), **kwargs)


def test_a_tar_member_outside_the_folder_is_refused(tmp_path, remote):
    with tarfile.open(remote / "evil.tar", "w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    with pytest.raises((tarfile.TarError, ValueError)):
        cache.get_file("evil", origin=(remote / "evil.tar").as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert not (tmp_path / "c" / "datasets" / "escaped.txt").exists()
