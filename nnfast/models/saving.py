"""Saving and loading a model: architecture (get_config), weights and optimizer state in one .npz
file; JSON metadata, no pickled objects."""
import json

import numpy as np

from .. import losses, optimizers
from .serialization import model_from_config


def save_model(model, path):
    """Write `model` to `path`: its config, its weights as one flat array (the parameter arena's
    layout), the optimizer's config, step count and state slots, and the loss and metric names."""
    arrays = {"weights": np.concatenate([w.ravel() for w in model.weights])} if model.built else {}
    meta = {"model": model.get_config(), "class_name": "Sequential" if getattr(model, "is_sequential", False)
            else "Functional", "layer_states": [layer.get_state() for layer in model.layers]}
    if model.optimizer is not None:
        state = model.optimizer.get_state()
        meta["optimizer"] = {"config": state["config"], "iterations": state["iterations"],
                             "names": state.get("names"), "slots": {k: len(v) for k, v in state["slots"].items()}}
        for k, lst in state["slots"].items():
            for i, a in enumerate(lst):
                arrays[f"slot:{k}:{i}"] = a
        meta["loss"] = None if isinstance(model.loss, losses.CustomLoss) else losses.serialize(model.loss)
        meta["metrics"] = model.metric_names
    with open(path, "wb") as f:
        np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)


def load_model(path, backend=None):
    """A model saved with Model.save: same architecture, weights and optimizer state."""
    with np.load(path) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        arrays = {k: data[k] for k in data.files if k != "meta"}
    model = model_from_config(meta["model"], meta["class_name"], backend=backend)
    if "weights" in arrays:
        flat, offset = arrays["weights"], 0
        for w in model.weights:
            w[...] = flat[offset:offset + w.size].reshape(w.shape)
            offset += w.size
    for layer, state in zip(model.layers, meta["layer_states"]):
        layer.set_state(state)
    if "optimizer" in meta:
        ocfg = meta["optimizer"]["config"]
        opt = type(optimizers.get(ocfg["name"])).from_config(ocfg)
        if meta["loss"]:  # a config (a name in files of nnfast 0.1)
            loss = losses.deserialize(meta["loss"]) if isinstance(meta["loss"], dict) else meta["loss"]
            model.compile(optimizer=opt, loss=loss, metrics=meta["metrics"])
        else:
            model.use_optimizer(opt)
        slots = {k: [arrays[f"slot:{k}:{i}"] for i in range(n)] for k, n in meta["optimizer"]["slots"].items()}
        opt.set_state({"iterations": meta["optimizer"]["iterations"], "config": ocfg, "slots": slots,
                       "names": meta["optimizer"]["names"]})
    return model
