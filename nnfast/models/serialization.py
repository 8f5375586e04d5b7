"""A model's configuration in Keras's shape (``get_config``/``from_config``, ``to_json``/
``model_from_json``): its layers' configs in order, each with the names of the layers it is
connected to, and the model's input and output layers. JSON only, no pickled objects."""
import json

from ..layers import LAYERS, InputLayer
from . import graph


def layer_entry(layer):
    entry = {"module": "keras.layers", "class_name": type(layer).__name__, "config": layer.get_config(),
             "name": layer.name}
    if layer.node is not None and layer.node.inputs:
        entry["inbound_nodes"] = [t.node.layer.name for t in layer.node.inputs]
    return entry


def model_config(model):
    config = {"name": model.name, "trainable": model.trainable, "dtype": model.dtype.name, "seed": model.seed,
              "backend": model.backend, "layers": [layer_entry(layer) for layer in model.layers]}
    if getattr(model, "is_sequential", False):
        shape = model.input_shape[1:] if model.built else model.declared_input_shape  # a keras.Input not built on yet
        if shape is not None:
            config["build_input_shape"] = [None] + list(shape)
    else:
        config["input_layers"] = [t.node.layer.name for t in model.inputs]
        config["output_layers"] = [t.node.layer.name for t in model.outputs]
    return config


def layer_from_entry(entry):
    cls = LAYERS.get(entry["class_name"])
    if cls is None:
        raise ValueError(f"layer class_name must be one of {', '.join(sorted(LAYERS))}, got {entry['class_name']!r}")
    return cls.from_config(entry["config"])


def model_from_config(config, class_name=None, backend=None):
    """The model a config describes (Sequential when it has no input_layers), with fresh weights."""
    from .model import Model
    from .sequential import Sequential

    options = dict(name=config.get("name"), dtype=config.get("dtype", "float32"), seed=config.get("seed"),
                   backend=backend or config.get("backend", "native"))
    if class_name == "Sequential" or (class_name is None and "input_layers" not in config):
        model = Sequential([layer_from_entry(e) for e in config["layers"]], **options)
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model
    tensors = {}
    for entry in config["layers"]:
        layer = layer_from_entry(entry)
        if isinstance(layer, InputLayer):
            tensors[layer.name] = graph.input_of(layer)
            continue
        inbound = [tensors[name] for name in entry.get("inbound_nodes", [])]
        tensors[layer.name] = layer(inbound if layer.multiple_inputs else inbound[0])
    inputs = [tensors[name] for name in config["input_layers"]]
    outputs = [tensors[name] for name in config["output_layers"]]
    return Model(inputs if len(inputs) > 1 else inputs[0], outputs[0], **options)


def model_to_json(model, **kwargs):
    """The model's architecture as JSON text (json.dumps keyword arguments pass through)."""
    class_name = "Sequential" if getattr(model, "is_sequential", False) else "Functional"
    return json.dumps({"module": "keras", "class_name": class_name, "config": model_config(model)}, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """The model to_json described, with fresh weights."""
    if custom_objects:
        raise NotImplementedError("model_from_json(custom_objects=...) is not supported by nnfast")
    data = json.loads(json_string)
    return model_from_config(data["config"], "Sequential" if data.get("class_name") == "Sequential" else None)
