"""Model files under hostile use (issue #17, item 4): load_model and load_weights on truncated,
bit-flipped, wrong-version and hostile .npz files raise a clear ValueError, never run pickled code,
never allocate more than the file justifies and never leave a half-loaded model; save and
save_weights are atomic, so an interrupted save leaves the previous checkpoint whole."""
import io
import json
import os
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

import nnfast
import nnfast.keras
from nnfast.models import npz

LOADERS = {"nnfast": nnfast.load_model, "keras": nnfast.keras.models.load_model}
UNPICKLED = []  # a hostile file's pickle would call record_unpickling: it must stay empty


def record_unpickling():
    UNPICKLED.append(True)
    return "executed"


class Hostile:
    def __reduce__(self):
        return (record_unpickling, ())


def trained_model(epochs=1):
    model = nnfast.Sequential([nnfast.layers.Dense(6, activation="relu", input_dim=4),
                               nnfast.layers.Dropout(0.25),
                               nnfast.layers.Dense(3, activation="softmax")], seed=3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(40, 4)), rng.integers(0, 3, 40), batch_size=8, epochs=epochs, verbose=0)
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(path, bytes, model_bits of the model) of a trained model's file."""
    path = tmp_path_factory.mktemp("files") / "model.npz"
    model = trained_model()
    model.save(path)
    return path, path.read_bytes(), model_bits(model)


def model_bits(model):
    """Everything a loaded model must restore: config, weights, optimizer state, layer states."""
    state = model.optimizer.get_state() if model.optimizer is not None else None
    return (json.dumps([layer.get_config() for layer in model.layers], sort_keys=True), model.dtype,
            [w.tobytes() for w in model.weights],
            None if state is None else (state["iterations"], json.dumps(state["config"], sort_keys=True),
                                        {k: [a.tobytes() for a in v] for k, v in state["slots"].items()}),
            [layer.get_state() for layer in model.layers])


def entries(data):
    """The entries of a (trusted) model file: {name: array}."""
    with np.load(io.BytesIO(data)) as f:
        return {k: f[k] for k in f.files}


def write_npz(path, arrays, compress=False):
    with open(path, "wb") as f:
        (np.savez_compressed if compress else np.savez)(f, **arrays)
    return path


def with_meta(data, edit):
    """The file's entries with its JSON metadata changed by edit(meta) (in place)."""
    arrays = entries(data)
    meta = json.loads(arrays["meta"].tobytes())
    edit(meta)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    return arrays


def assert_rejected(path, match=None, loader=nnfast.load_model):
    with pytest.raises(ValueError, match=match) as info:
        loader(path)
    assert isinstance(info.value, npz.BadFileError)
    assert repr(str(path)) in str(info.value)  # the message names the file
    return info.value


# ---- the round trip and the version ---------------------------------------------------------------

@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_round_trip_restores_everything(saved, loader):
    assert model_bits(loader(saved[0])) == saved[2]


def test_files_carry_their_format_and_version(saved):
    meta = json.loads(entries(saved[1])["meta"].tobytes())
    assert meta["format"] == "nnfast.model" and meta["version"] == 1


def test_files_without_a_version_are_version_1(tmp_path, saved):
    """nnfast 0.1 wrote no format or version: those files still load."""
    path = write_npz(tmp_path / "old.npz", with_meta(saved[1], lambda m: (m.pop("format"), m.pop("version"))))
    assert model_bits(nnfast.load_model(path)) == saved[2]


@pytest.mark.parametrize("version, match", [(2, "newer nnfast"), (10**6, "newer nnfast"), (0, "integer >= 1"),
                                            ("1", "integer >= 1"), (True, "integer >= 1"), (1.0, "integer >= 1")])
def test_wrong_versions_are_refused(tmp_path, saved, version, match):
    path = write_npz(tmp_path / "v.npz", with_meta(saved[1], lambda m: m.update(version=version)))
    assert_rejected(path, match)


def test_another_format_is_refused(tmp_path, saved):
    path = write_npz(tmp_path / "f.npz", with_meta(saved[1], lambda m: m.update(format="keras.model")))
    assert_rejected(path, "format")


# ---- damaged files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_every_truncation_is_a_value_error(tmp_path, saved, loader):
    data = saved[1]
    cuts = sorted(set(range(0, len(data), max(1, len(data) // 97))) | set(range(len(data) - 64, len(data))))
    path = tmp_path / "cut.npz"
    for cut in cuts:
        path.write_bytes(data[:cut])
        assert_rejected(path, loader=loader)


def test_a_flipped_bit_is_caught_or_harmless(tmp_path, saved):
    """Any single bit flip either raises ValueError or (in bytes the zip format does not use, such
    as timestamps) loads the very same model: the zip CRC covers every entry's data."""
    data = saved[1]
    reference = saved[2]
    rng = np.random.default_rng(17)
    positions = np.concatenate([rng.integers(0, len(data), 300), np.arange(64), np.arange(len(data) - 200, len(data))])
    path = tmp_path / "flip.npz"
    refused = 0
    for pos in positions:
        damaged = bytearray(data)
        damaged[pos] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(damaged))
        try:
            model = nnfast.load_model(path)
        except npz.BadFileError:
            refused += 1
            continue
        assert model_bits(model) == reference, f"a flip at byte {pos} loaded a different model"
    assert refused > len(positions) // 2


@pytest.mark.parametrize("content", [b"", b"PK", b"not a zip file at all", b"\x93NUMPY", json.dumps({}).encode(),
                                     bytes(range(256)) * 8])
def test_files_that_are_not_model_files(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    assert_rejected(path)


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        nnfast.load_model(tmp_path / "nothing.npz")


# ---- hostile contents -----------------------------------------------------------------------------

def peak_allocation(call):
    """Peak bytes traced (NumPy's allocations included) while call() runs."""
    tracemalloc.start()
    try:
        call()
    except ValueError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("units", [10**12, 2**62, 10**6, 7])
def test_a_config_claiming_other_units_allocates_nothing(tmp_path, saved, units):
    def edit(meta):
        meta["model"]["layers"][0]["config"]["units"] = units

    path = write_npz(tmp_path / "units.npz", with_meta(saved[1], edit))
    assert_rejected(path, "describes")
    assert peak_allocation(lambda: nnfast.load_model(path)) < 1_000_000  # 10**6 units would take 16 MB


def test_an_input_shape_claiming_huge_sizes_is_refused(tmp_path, saved):
    path = write_npz(tmp_path / "in.npz", with_meta(saved[1], lambda m: m["model"].update(
        build_input_shape=[None, 10**12])))
    assert_rejected(path, "describes")


def npy_header_claiming(shape, dtype="<f4"):
    """A .npy entry whose header claims `shape` but holds 16 bytes of data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue() + bytes(16)


@pytest.mark.parametrize("shape", [(10**12,), (2**40, 2**40), (-4, -1), (3,), (5,)])
def test_an_array_header_that_does_not_match_its_bytes(tmp_path, saved, shape):
    path = tmp_path / "header.npz"
    arrays = entries(saved[1])
    with zipfile.ZipFile(path, "w") as z:
        for name, a in arrays.items():
            if name == "weights":
                z.writestr("weights.npy", npy_header_claiming(shape))
            else:
                with z.open(name + ".npy", "w") as f:
                    np.lib.format.write_array(f, a)
    assert peak_allocation(lambda: nnfast.load_model(path)) < 1_000_000
    assert_rejected(path)


def test_weights_of_another_size_are_refused(tmp_path, saved):
    arrays = entries(saved[1])
    for weights in (arrays["weights"][:-1], np.append(arrays["weights"], 1.0).astype(np.float32),
                    arrays["weights"].reshape(1, -1), arrays["weights"].astype(np.float64)):
        path = write_npz(tmp_path / "size.npz", dict(arrays, weights=weights))
        assert_rejected(path)


@pytest.mark.parametrize("entry", ["weights", "meta", "slot:momentums:0"])
def test_object_arrays_are_never_unpickled(tmp_path, saved, entry):
    arrays = entries(saved[1])
    arrays[entry] = np.array([Hostile(), 1.0], dtype=object)
    path = write_npz(tmp_path / "pickle.npz", arrays)
    assert_rejected(path, "must hold")
    assert not UNPICKLED


@pytest.mark.parametrize("dtype", [np.int64, np.complex64, np.float16, [("a", "<f4"), ("b", "<f4")], "S4", bool])
def test_arrays_of_other_dtypes_are_refused(tmp_path, saved, dtype):
    arrays = entries(saved[1])
    arrays["weights"] = np.zeros(arrays["weights"].size, dtype)
    assert_rejected(write_npz(tmp_path / "dtype.npz", arrays), "must hold")


def test_a_zip_bomb_is_refused_before_reading(tmp_path, saved):
    """An entry that inflates 1000-fold: refused from its declared size, nothing inflated."""
    arrays = dict(entries(saved[1]), weights=np.zeros(25_000_000, np.float32))  # 100 MB of zeros
    path = write_npz(tmp_path / "bomb.npz", arrays, compress=True)
    assert path.stat().st_size < 1_000_000
    assert peak_allocation(lambda: nnfast.load_model(path)) < 1_000_000
    assert_rejected(path, "compressed")


def central_entry(data, filename):
    """Offset of `filename`'s record in the zip's central directory."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        n = struct.unpack("<H", data[at + 28:at + 30])[0]
        if data[at + 46:at + 46 + n] == filename:
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{filename} not in the central directory")


@pytest.mark.parametrize("declared", [2**32 - 2, 10**9])
def test_declared_sizes_beyond_the_file_are_refused(tmp_path, saved, declared):
    """A stored entry whose central-directory sizes are patched to claim more than the file."""
    data = bytearray(saved[1])
    at = central_entry(data, b"weights.npy")
    data[at + 20:at + 28] = struct.pack("<II", declared, declared)
    path = tmp_path / "size.npz"
    path.write_bytes(bytes(data))
    assert peak_allocation(lambda: nnfast.load_model(path)) < 1_000_000
    assert_rejected(path)


@pytest.mark.parametrize("name", ["../../outside.npy", "/etc/passwd.npy", "sub/weights.npy", "..\\weights.npy",
                                  "extra.npy", "meta", "slot:../x:0.npy", "slot:a:01.npy"])
def test_unexpected_entry_names_are_refused(tmp_path, saved, name):
    """Entries are only ever read into memory, never extracted; still, a name the format does
    not have (a path outside the folder included) makes the file invalid."""
    path = tmp_path / "names.npz"
    with zipfile.ZipFile(path, "w") as z:
        for key, a in entries(saved[1]).items():
            with z.open(key + ".npy", "w") as f:
                np.lib.format.write_array(f, a)
        with z.open(name, "w") as f:
            np.lib.format.write_array(f, np.zeros(2, np.float32))
    assert_rejected(path, "unexpected entry|metadata does not describe")
    assert not (tmp_path.parent / "outside.npy").exists()


def test_a_duplicated_entry_is_refused(tmp_path, saved):
    path = tmp_path / "dup.npz"
    arrays = entries(saved[1])
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as z:
        for key, a in list(arrays.items()) + [("weights", arrays["weights"])]:
            with z.open(key + ".npy", "w") as f:
                np.lib.format.write_array(f, a)
    assert_rejected(path, "twice")


@pytest.mark.parametrize("edit, match", [
    (lambda m: m["optimizer"]["slots"].update(momentums=3), "has 3 arrays"),
    (lambda m: m["optimizer"]["slots"].update(momentums=9), "has 9 arrays"),
    (lambda m: m.update(layer_states=[{}]), "layer states"),
    (lambda m: m.update(layer_states="x"), "layer_states"),
    (lambda m: m["model"]["layers"][0].update(class_name="Conv2D"), "class_name"),
    (lambda m: m["model"].update(layers=None), None),
    (lambda m: m["optimizer"].update(iterations=-1), "iterations"),
    (lambda m: m["optimizer"]["config"].update(name="no_such_optimizer"), None),
    (lambda m: m.update(loss={"class_name": "os.system", "config": {}}), None),
    (lambda m: m.update(model=[]), "'model'"),
    (lambda m: m.clear(), None),
])
def test_inconsistent_metadata_is_refused(tmp_path, saved, edit, match):
    assert_rejected(write_npz(tmp_path / "meta.npz", with_meta(saved[1], edit)), match)


def test_a_slot_of_the_wrong_shape_is_refused(tmp_path, saved):
    arrays = entries(saved[1])
    arrays["slot:velocities:1"] = np.zeros(7, arrays["slot:velocities:1"].dtype)
    assert_rejected(write_npz(tmp_path / "slot.npz", arrays), "slot:velocities:1")


def test_an_undeclared_slot_entry_is_refused(tmp_path, saved):
    arrays = dict(entries(saved[1]), **{"slot:momentums:99": np.zeros(3, np.float32)})
    assert_rejected(write_npz(tmp_path / "more.npz", arrays), "does not describe")


@pytest.mark.parametrize("meta", [b"\xff\xfe not utf-8", b"[" * 100_000 + b"]" * 100_000, b"{\"a\": 1e999999}",
                                  b"null", b"{" + b"\"k\": 1, " * 10 + b"}"])
def test_meta_that_is_not_json_of_an_object(tmp_path, saved, meta):
    arrays = dict(entries(saved[1]), meta=np.frombuffer(meta, np.uint8))
    assert_rejected(write_npz(tmp_path / "json.npz", arrays))


# ---- all or nothing ---------------------------------------------------------------------------------

def test_load_weights_is_all_or_nothing(tmp_path):
    model = trained_model()
    before = [w.copy() for w in model.weights]
    path = tmp_path / "w.npz"
    model.save_weights(path)
    good = entries(path.read_bytes())
    bad_shape = dict(good, **{f"arr_{len(good) - 1}": np.zeros(99, np.float32)})
    cases = [write_npz(tmp_path / "shape.npz", bad_shape),
             write_npz(tmp_path / "fewer.npz", {k: good[k] for k in list(good)[:-1]})]
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x10  # inside the weights' data: the CRC fails
    (tmp_path / "flip.npz").write_bytes(bytes(damaged))
    cases.append(tmp_path / "flip.npz")
    for case in cases:
        with pytest.raises(ValueError):
            model.load_weights(case)
        for w, b in zip(model.weights, before):
            assert np.array_equal(w, b)
    for w in model.weights:
        w[...] = 0
    model.load_weights(path)
    assert all(np.array_equal(w, b) for w, b in zip(model.weights, before))


# ---- atomic saves -----------------------------------------------------------------------------------

def fail_after(calls, error):
    """A stand-in for numpy's write_array that writes `calls` arrays, then raises `error`."""
    real = np.lib.format.write_array
    count = [0]

    def write_array(fp, array, *args, **kwargs):
        if count[0] == calls:
            fp.write(b"partial data")
            raise error
        count[0] += 1
        return real(fp, array, *args, **kwargs)
    return write_array


FAILURES = {
    "write midway": lambda mp: mp.setattr(np.lib.format, "write_array", fail_after(2, OSError("disk full"))),
    "interrupted": lambda mp: mp.setattr(np.lib.format, "write_array", fail_after(1, KeyboardInterrupt())),
    "fsync": lambda mp: mp.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("I/O error"))),
    "rename": lambda mp: mp.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("busy"))),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "ckpt.npz"
    first = trained_model(epochs=1)
    first.save(path)
    before = path.read_bytes()
    second = trained_model(epochs=2)
    with monkeypatch.context() as mp:
        failure(mp)
        with pytest.raises((OSError, KeyboardInterrupt)):
            second.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]  # no temporary file left behind
    assert model_bits(nnfast.load_model(path)) == model_bits(first)
    second.save(path)
    assert model_bits(nnfast.load_model(path)) == model_bits(second)


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_a_failed_save_weights_keeps_the_previous_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "w.npz"
    model = trained_model()
    model.save_weights(path)
    before = path.read_bytes()
    for w in model.weights:
        w += 1
    with monkeypatch.context() as mp:
        failure(mp)
        with pytest.raises((OSError, KeyboardInterrupt)):
            model.save_weights(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["w.npz"]


def test_saved_files_get_the_usual_permissions(tmp_path):
    path = tmp_path / "m.npz"
    trained_model().save(path)
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert path.stat().st_mode == plain.stat().st_mode


def test_model_checkpoint_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    """A save failing at the end of epoch 3 stops fit, and the file still holds epoch 2's model."""
    path = tmp_path / "ckpt.npz"
    real = npz.write_atomically
    saves = []

    class Recorder(nnfast.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saves.append(model_bits(self.model))

    def failing(target, arrays):
        if len(saves) == 3:
            with monkeypatch.context() as mp:
                mp.setattr(np.lib.format, "write_array", fail_after(1, OSError("disk full")))
                return real(target, arrays)
        return real(target, arrays)

    monkeypatch.setattr(npz, "write_atomically", failing)
    model = nnfast.Sequential([nnfast.layers.Dense(3, activation="softmax", input_dim=4)], seed=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    with pytest.raises(OSError, match="disk full"):
        model.fit(rng.normal(size=(32, 4)), rng.integers(0, 3, 32), batch_size=8, epochs=5, verbose=0,
                  callbacks=[Recorder(), nnfast.callbacks.ModelCheckpoint(str(path), save_best_only=False)])
    assert len(saves) == 3
    assert model_bits(nnfast.load_model(path)) == saves[1]
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]


def test_compiled_metric_objects_are_saved_and_restored(tmp_path):
    # Keras programs compile with metric objects (AUC(), Precision()) and then save or checkpoint
    keras = nnfast.keras
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 5)).astype(np.float32), (rng.random(40) > 0.5).astype(np.float32)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile("adam", "binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc"), "accuracy",
                           keras.metrics.Precision(thresholds=0.4, name="precision"),
                           keras.metrics.binary_accuracy, lambda t, p: np.abs(t - p).mean(-1)])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"))])
    model.save(tmp_path / "m.keras")
    for path in (tmp_path / "m.keras", tmp_path / "best.keras"):
        restored = keras.models.load_model(path).evaluate(x, y, verbose=0, return_dict=True)
        expected = model.evaluate(x, y, verbose=0, return_dict=True)
        assert list(restored) == ["accuracy", "auc", "binary_accuracy", "loss", "precision"]  # not the lambda
        assert restored == {k: expected[k] for k in restored}


def test_keras_save_and_load_arguments(tmp_path):
    keras = nnfast.keras
    x = np.random.default_rng(1).normal(size=(8, 5)).astype(np.float32)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)], seed=0)
    model.compile("adam", "mse")
    model.fit(x, x[:, :2], verbose=0)
    path = tmp_path / "m.keras"
    model.save(path, overwrite=True, zipped=True)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="exists and overwrite is False"):
        model.save(path, overwrite=False)
    assert path.read_bytes() == before
    loose = keras.models.load_model(path, compile=False, custom_objects={"unused": object}, safe_mode=True)
    assert loose.optimizer is None and np.array_equal(loose.predict(x), model.predict(x))
    with pytest.raises(ValueError, match="compile the model first"):  # an uncompiled model does not train
        loose.fit(x, x[:, :2], verbose=0)
    assert keras.models.load_model(path, compile=True).optimizer.iterations == model.optimizer.iterations


def test_keras_legacy_save_keywords_as_keras_3_takes_them(tmp_path):
    """include_optimizer=False leaves the optimizer out of an .h5 file only (as Keras, whose .keras
    files always hold it), save_format warns where the name says the format and is refused
    elsewhere, another keyword is refused, and load_weights(skip_mismatch=True) keeps the weights
    whose saved shape differs."""
    keras = nnfast.keras
    x = np.random.default_rng(1).normal(size=(8, 5)).astype(np.float32)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)], seed=0)
    model.compile("adam", "mse")
    model.fit(x, x[:, :2], verbose=0)
    model.save(tmp_path / "lean.h5", include_optimizer=False)
    model.save(tmp_path / "full.keras", include_optimizer=False)
    keras.models.save_model(model, tmp_path / "lean2.hdf5", include_optimizer=False)
    assert keras.models.load_model(tmp_path / "lean.h5").optimizer is None
    assert keras.models.load_model(tmp_path / "lean2.hdf5").optimizer is None
    assert keras.models.load_model(tmp_path / "full.keras").optimizer.iterations == model.optimizer.iterations
    with pytest.warns(UserWarning, match="save_format.*deprecated"):
        model.save(tmp_path / "m.h5", save_format="h5")
    with pytest.raises(ValueError, match="Please remove this argument"):
        model.save(tmp_path / "saved_model", save_format="tf")
    with pytest.raises(ValueError, match=r"not supported: \['signatures'\]"):
        model.save(tmp_path / "m.keras", signatures=None)
    assert not (tmp_path / "saved_model").exists() and not (tmp_path / "m.keras").exists()

    model.save_weights(tmp_path / "w.weights.h5")
    wider = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)], seed=1)
    kept = wider.get_weights()
    with pytest.raises(ValueError):
        wider.load_weights(tmp_path / "w.weights.h5")
    with pytest.warns(UserWarning, match="Skipping loading weight [01] due to mismatch in shape"):
        wider.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    assert all(np.array_equal(a, b) for a, b in zip(wider.get_weights(), kept))
    same = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)], seed=2)
    same.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    assert all(np.array_equal(a, b) for a, b in zip(same.get_weights(), model.get_weights()))


def test_saving_into_a_missing_folder_names_the_file_asked_for(tmp_path):
    model = nnfast.keras.Sequential([nnfast.keras.Input((3,)), nnfast.keras.layers.Dense(1)])
    target = tmp_path / "no_such_folder" / "w.weights.h5"
    for save in (model.save_weights, model.save):
        with pytest.raises(FileNotFoundError, match="No such directory for .*no_such_folder/w.weights.h5") as err:
            save(target)
        assert ".tmp" not in str(err.value)


def test_export_is_refused_naming_what_to_do_instead(tmp_path):
    model = nnfast.keras.Sequential([nnfast.keras.Input((3,)), nnfast.keras.layers.Dense(1)])
    with pytest.raises(NotImplementedError, match=r"model.export\(format='onnx'\) is not supported by nnfast"):
        model.export(tmp_path / "served", format="onnx")
    assert not (tmp_path / "served").exists()


def test_a_callable_learning_rate_is_saved_as_its_value_with_a_warning(tmp_path):
    keras = nnfast.keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(learning_rate=lambda: 0.02), "mse")
    model.fit(np.ones((4, 3), np.float32), np.ones((4, 1), np.float32), verbose=0)
    with pytest.warns(UserWarning, match="learning rate is a Python callable.*keeps its value at the next step, 0.02"):
        model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert float(loaded.optimizer.learning_rate) == 0.02 and loaded.optimizer.iterations == 1
