"""Saving and loading a model: architecture (get_config), weights and optimizer state in one .npz
file; JSON metadata, no pickled objects.

Saving is atomic (npz.write_atomically): an interrupted save leaves the previous file whole, which
ModelCheckpoint relies on. Loading treats the file as hostile: the container is checked entry by
entry (npz.read_arrays), the config must describe exactly the weights the file holds before the
model allocates anything, every optimizer slot must match its parameter, and the model is built
whole before it is returned. A file that fails any check raises BadFileError (a ValueError)."""
import contextlib
import contextvars
import json
import os
import re
import tempfile
import warnings

import numpy as np

from .. import losses, metrics, optimizers
from ..optimizers.native import learning_rate_at
from ..utils import checks
from . import npz
from .serialization import model_from_config

FORMAT = "nnfast.model"
VERSION = 1  # files of nnfast 0.1 have no version: they are version 1
FLOATS = ("float32", "float64")
SLOT_ENTRY = re.compile(r"slot:([A-Za-z_][A-Za-z0-9_]{0,63}):(0|[1-9][0-9]{0,8})")


# While load_model builds a model, the number of weights its file holds: the config must describe
# exactly that many, checked before the arenas are allocated (so a config claiming 10^12 units
# fails without asking for the memory).
EXPECTED_WEIGHTS = contextvars.ContextVar("nnfast_expected_weights", default=None)


@contextlib.contextmanager
def expected_weights(count):
    """Models built in this block must have exactly `count` weights (ValueError otherwise)."""
    token = EXPECTED_WEIGHTS.set(count)
    try:
        yield
    finally:
        EXPECTED_WEIGHTS.reset(token)


def save_model(model, path, overwrite=True, zipped=None, **kwargs):
    """Write `model` to `path`: its config, its weights as one flat array (the parameter arena's
    layout), the optimizer's config, step count and state slots, and the loss and metric names.
    Keras's arguments: with overwrite=False an existing file is a ValueError (Keras asks on the
    terminal); the file is always one zip archive (NumPy's .npz), whatever `zipped`. Keras 3's
    legacy keywords as it takes them: ``include_optimizer=False`` leaves the optimizer out of a
    ``.h5`` / ``.hdf5`` file (Keras's ``.keras`` files always hold it), and ``save_format`` is
    accepted with a warning where the name ends in ``.keras`` or ``.h5``; any other keyword is a
    ValueError."""
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", None)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    if save_format:
        if not str(name).endswith((".h5", ".hdf5", ".keras")):
            raise ValueError("The `save_format` argument is deprecated in Keras 3. Please remove this argument and "
                             "pass a file path with either `.keras` or `.h5` extension. "
                             f"Received: save_format={save_format}")
        warnings.warn("The `save_format` argument is deprecated in Keras 3: the format follows the file name "
                      f"(nnfast writes its own .npz format whatever the name). Received: save_format={save_format}",
                      UserWarning, stacklevel=3)
    if not overwrite and os.path.exists(path):
        raise ValueError(f"path {os.fspath(path)!r} exists and overwrite is False")
    keep_optimizer = bool(include_optimizer) or not str(name).endswith((".h5", ".hdf5"))
    weights = model.weights
    flat = np.concatenate([w.ravel() for w in weights]) if weights else np.empty(0, model.dtype)
    arrays = {"weights": flat} if model.built else {}
    meta = {"format": FORMAT, "version": VERSION, "model": model.get_config(),
            "class_name": "Sequential" if getattr(model, "is_sequential", False) else "Functional",
            "layer_states": [layer.get_state() for layer in model.layers]}
    if model.optimizer is not None and keep_optimizer:
        state = model.optimizer.get_state()
        state["config"] = savable_learning_rate(state["config"], state["iterations"])
        meta["optimizer"] = {"config": state["config"], "iterations": state["iterations"],
                             "names": state.get("names"), "slots": {k: len(v) for k, v in state["slots"].items()}}
        for k, lst in state["slots"].items():
            for i, a in enumerate(lst):
                arrays[f"slot:{k}:{i}"] = a
        meta["loss"] = None if isinstance(model.loss, losses.CustomLoss) else losses.serialize(model.loss)
        meta["metrics"] = saved_metrics(model.metric_names)
    meta_bytes = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    npz.write_atomically(path, {"meta": meta_bytes, **arrays})


def saved_metrics(compiled):
    """compile's metrics as JSON: names as they are, nnfast's Metric objects as their serialize
    configs, its metric functions by name; a function or metric of your own is left out (like a
    custom loss, it cannot be rebuilt from a file)."""
    saved = []
    for metric in compiled:
        if isinstance(metric, str):
            saved.append(metric)
        elif type(metric) in metrics.CLASSES:
            saved.append(metrics.serialize(metric))
        elif getattr(metrics, getattr(metric, "__name__", "_"), None) is metric:  # keras.metrics' own function
            saved.append(metric.__name__)
    return saved


def accepted_dtypes(name):
    """The dtypes an entry of a model file may hold, None for a name it must not have."""
    if name == "meta":
        return ("uint8",)
    return FLOATS if name == "weights" or SLOT_ENTRY.fullmatch(name) else None


def load_model(path, custom_objects=None, compile=True, safe_mode=True, backend=None):
    """A model saved with Model.save: same architecture, weights and optimizer state. Raises
    BadFileError (a ValueError) for a file that is damaged, hostile or of a newer format.
    Keras's arguments: compile=False loads the model uncompiled (no optimizer, loss or metrics);
    custom_objects has nothing to resolve (a model with objects of your own is never saved) and
    safe_mode nothing to guard (the file holds no code), so both are accepted and unused."""
    del custom_objects, safe_mode
    arrays = npz.read_arrays(path, accepted_dtypes)
    if not checks.truth("compile", compile):
        arrays = {name: a for name, a in arrays.items() if not SLOT_ENTRY.fullmatch(name)}
    try:
        return model_from_arrays(arrays, backend, compile)
    except npz.BadFileError as e:
        raise npz.BadFileError(f"{path!r} is not a valid nnfast model file: {e}") from e
    except npz.CORRUPT_FILE_ERRORS as e:
        raise npz.BadFileError(f"{path!r} is not a valid nnfast model file: {type(e).__name__}: {e}") from e


def require(condition, message):
    if not condition:
        raise npz.BadFileError(message)


def read_meta(arrays):
    """The JSON metadata, its format and version checked."""
    require("meta" in arrays and arrays["meta"].ndim == 1, "it has no 'meta' entry of JSON bytes")
    meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    require(isinstance(meta, dict), f"its metadata must be a JSON object, got {type(meta).__name__}")
    require(meta.get("format", FORMAT) == FORMAT, f"its format is {meta.get('format')!r}, not {FORMAT!r}")
    version = meta.get("version", 1)
    require(type(version) is int and version >= 1, f"its format version must be an integer >= 1, got {version!r}")
    require(version <= VERSION, f"it was written in format version {version} by a newer nnfast; this nnfast "
                                f"reads versions up to {VERSION}")
    for key, kind in (("model", dict), ("layer_states", list)):
        require(isinstance(meta.get(key), kind), f"its metadata's {key!r} must be a {kind.__name__}")
    return meta


def model_from_arrays(arrays, backend, compile=True):
    """The model the checked entries describe, built whole (nothing is returned half-loaded);
    compiled with its saved optimizer, loss and metrics when `compile`."""

    meta = read_meta(arrays)
    flat = arrays.get("weights")
    require(flat is None or flat.ndim == 1, "its 'weights' entry must be one flat array")
    with expected_weights(0 if flat is None else flat.size):
        model = model_from_config(meta["model"], meta.get("class_name"), backend=backend)
    if flat is not None:
        require(model.built, "it holds weights but its config describes a model without an input shape")
        require(flat.dtype == model.dtype, f"its weights are {flat.dtype}, its config says {model.dtype}")
        offset = 0
        for w in model.weights:
            w[...] = flat[offset:offset + w.size].reshape(w.shape)
            offset += w.size
    require(len(meta["layer_states"]) == len(model.layers),
            f"it has {len(meta['layer_states'])} layer states for {len(model.layers)} layers")
    for layer, state in zip(model.layers, meta["layer_states"]):
        require(isinstance(state, dict), "each layer state must be a JSON object")
        layer.set_state(state)
    used = {"meta", "weights"}
    if "optimizer" in meta and compile:
        used |= restore_optimizer(model, meta, arrays)
    extra = sorted(set(arrays) - used)
    require(not extra, f"it holds entries its metadata does not describe: {extra[:5]}")
    return model


def restore_optimizer(model, meta, arrays):
    """Compile `model` with the saved optimizer, loss and metrics and restore the optimizer's
    state; returns the entries used. Each slot array must match its parameter."""
    saved = meta["optimizer"]
    ocfg = saved["config"]
    opt = type(optimizers.get(ocfg["name"])).from_config(ocfg)
    if meta.get("loss"):  # a config (a name in files of nnfast 0.1)
        loss = losses.deserialize(meta["loss"]) if isinstance(meta["loss"], dict) else meta["loss"]
        compiled = meta.get("metrics") or []
        require(isinstance(compiled, list) and all(isinstance(m, (str, dict)) for m in compiled),
                "its metrics must be a list of names and metric configs")
        model.compile(optimizer=opt, loss=loss,
                      metrics=[metrics.deserialize(m) if isinstance(m, dict) else m for m in compiled])
    else:
        model.use_optimizer(opt)
    params = model.trainable_weights
    slots, used = {}, set()
    for k, n in dict(saved["slots"]).items():
        require(n == len(params), f"optimizer slot {k!r} has {n} arrays for {len(params)} trained weights")
        names = [f"slot:{k}:{i}" for i in range(n)]
        missing = [name for name in names if name not in arrays]
        require(not missing, f"it lacks the entries {missing[:5]}")
        for name, p in zip(names, params):
            a = arrays[name]
            require(a.shape == p.shape and a.dtype == p.dtype,
                    f"entry {name!r} is {a.dtype} {a.shape}, its weight is {p.dtype} {p.shape}")
        slots[k] = [arrays[name] for name in names]
        used |= set(names)
    opt.set_state({"iterations": saved["iterations"], "config": ocfg, "slots": slots, "names": saved.get("names")})
    return used


def matching_weights(saved, current):
    """load_weights(skip_mismatch=True): each saved weight of its current weight's shape, else the
    current value, with Keras's warning naming the weight."""
    chosen = []
    for i, (new, old) in enumerate(zip(saved, current)):
        if new.shape != old.shape:
            warnings.warn(f"Skipping loading weight {i} due to mismatch in shape: saved {new.shape}, model "
                          f"{old.shape}", UserWarning, stacklevel=3)
            new = old
        chosen.append(new)
    return chosen


def savable_learning_rate(config, iterations):
    """An optimizer config whose learning rate JSON can hold: a Python callable (not a schedule)
    becomes its value at the next step, with a warning, since a file holds no code (Keras writes
    the function's bytecode, which its load_model then refuses in safe mode)."""
    rate = config.get("learning_rate")
    if not callable(rate):
        return config
    value = learning_rate_at(rate, config.get("decay", 0.0), iterations)
    warnings.warn(f"the optimizer's learning rate is a Python callable ({getattr(rate, '__name__', rate)!r}): the "
                  f"file keeps its value at the next step, {value!r}, and a loaded model trains at that rate",
                  UserWarning, stacklevel=5)  # the caller of model.save
    return {**config, "learning_rate": value}


def model_bytes(model):
    """`model` as the bytes of its model file (what pickle and copy.deepcopy carry)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        save_model(model, path)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(data):
    """The model whose file holds `data` (model_bytes' inverse: unpickling)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return load_model(path)
