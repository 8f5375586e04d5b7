"""The functional API's graph: symbolic tensors (what keras.Input and a layer call return), the
nodes that record each layer call, the topological order of a model's layers, and running a batch
forward and backward through them.

A Sequential model is the same graph as a chain, so both kinds of model train with one executor.
Each layer is called once per graph (no shared layers): its buffers hold one call's values."""
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..layers.reshaping import InputLayer


@dataclass(eq=False)
class SymbolicTensor:
    """A placeholder for a layer's output: its per-sample shape and the call that makes it.
    ``shape`` has the batch axis first, as None (as a KerasTensor's)."""
    shape: tuple
    node: "Node" = field(repr=False)

    @property
    def sample_shape(self):
        return tuple(self.shape[1:])


@dataclass(eq=False)
class Node:
    """One layer call: the layer, the tensors it was called on, and its output."""
    layer: object
    inputs: list  # of SymbolicTensor
    output: Optional[SymbolicTensor] = None


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          optional=False):
    """A symbolic input of per-sample `shape` (keras.Input): ``x = Input(shape=(784,))``."""
    return input_of(InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                               batch_shape=batch_shape, name=name, input_tensor=tensor, optional=optional))


def input_of(layer):
    """The symbolic tensor an InputLayer feeds (made once per layer)."""
    if layer.node is None:
        node = Node(layer, [])
        node.output = SymbolicTensor((None,) + layer.output_shape, node)
        layer.node = node
    return layer.node.output


def call_layer(layer, inputs):
    """layer(inputs) on symbolic tensors: builds the layer for their shapes and records the call."""
    many = isinstance(inputs, (list, tuple))
    tensors = list(inputs) if many else [inputs]
    if not tensors or not all(isinstance(t, SymbolicTensor) for t in tensors):
        raise NotImplementedError(f"calling {type(layer).__name__} on {type(inputs).__name__} is not supported by "
                                  "nnfast: call layers on keras.Input tensors to build a model, then use "
                                  "model.predict(x)")
    if many != layer.multiple_inputs:
        wanted = "a list of tensors" if layer.multiple_inputs else "one tensor"
        raise ValueError(f"{type(layer).__name__} takes {wanted}, got {'a list' if many else 'one tensor'}")
    if layer.node is not None:
        raise NotImplementedError(f"layer {layer.name or type(layer).__name__} is already called once: calling a "
                                  "layer twice (shared weights) is not supported by nnfast")
    shapes = [t.sample_shape for t in tensors]
    out_shape = layer.build(shapes if many else shapes[0])
    node = Node(layer, tensors)
    node.output = SymbolicTensor((None,) + tuple(out_shape), node)
    layer.node = node
    return node.output


def topological_nodes(inputs, output):
    """The nodes from `inputs` to `output` in Keras's order (keras/src/ops/function.py map_graph):
    by depth (the longest path to the output), deepest first, and within one depth in the order a
    depth-first walk from the output first reaches them. Each node comes after those it reads, and
    the layers (so get_weights/set_weights) line up with a Keras model's."""
    first_seen, finished, state = {}, [], {}

    def visit(node):
        mark = state.get(id(node))
        if mark == "done":
            return
        if mark == "active":
            raise ValueError("the model's graph has a cycle")
        state[id(node)] = "active"
        first_seen.setdefault(id(node), len(first_seen))
        for t in node.inputs:
            visit(t.node)
        state[id(node)] = "done"
        finished.append(node)

    visit(output.node)
    depth = {}
    for node in reversed(finished):  # consumers before the nodes they read
        d = depth.setdefault(id(node), 0)
        for t in node.inputs:
            depth[id(t.node)] = max(depth.get(id(t.node), 0), d + 1)
    order = sorted(finished, key=lambda n: (-depth[id(n)], first_seen[id(n)]))
    given = {id(t.node) for t in inputs}
    for node in order:
        if not node.inputs and id(node) not in given:
            raise ValueError(f"the output depends on the input {node.layer.name!r}, which is not among the "
                             "model's inputs")
    reached = {id(n) for n in order}
    for t in inputs:
        if id(t.node) not in reached:
            raise ValueError(f"the input {t.node.layer.name!r} does not lead to the model's output")
    return order


class GraphRun:
    """Forward and backward of a batch through nodes in topological order. Backward visits only
    the nodes with trained weights at or before them, and asks a layer for its input's gradient
    only where something before it is trained (so the first trained layer computes no dx)."""

    def __init__(self, nodes, input_nodes, trained_layers):
        self.nodes = nodes
        position = {id(n): i for i, n in enumerate(nodes)}
        self.input_positions = [position[id(n)] for n in input_nodes]
        self.sources = [[position[id(t.node)] for t in n.inputs] for n in nodes]
        # needs_grad[i]: node i's output leads back to a trained weight
        needs = []
        for i, n in enumerate(nodes):
            needs.append(n.layer in trained_layers or any(needs[j] for j in self.sources[i]))
        self.needs_grad = needs
        consumers = [0] * len(nodes)
        for src in self.sources:
            for j in src:
                consumers[j] += 1
        self.shared = [c > 1 for c in consumers]  # gradients from several consumers are summed
        # layers whose input gradient training would need but that cannot form it (a Lambda after a trained layer)
        self.blocking = [n.layer for i, n in enumerate(nodes)
                         if not n.layer.differentiable and any(needs[j] for j in self.sources[i])]
        self.activity_penalty = 0.0  # of the last forward

    @property
    def layers(self):
        return [n.layer for n in self.nodes]

    def require_gradients(self):
        """NotImplementedError before any training step when a layer on the way back to a trained
        weight cannot form its input's gradient."""
        if self.blocking:
            raise NotImplementedError(self.blocking[0].no_gradient_message())

    def forward(self, backend, inputs, training):
        """The output for a batch; `activity_penalty` is then the sum of the layers' activity
        regularizers on their outputs, each divided by the batch size (Keras 3's added losses)."""
        values = [None] * len(self.nodes)
        for i, x in zip(self.input_positions, inputs):
            values[i] = x
        self.activity_penalty = 0.0
        for i, node in enumerate(self.nodes):
            src = self.sources[i]
            if not src:
                continue
            args = [values[j] for j in src] if node.layer.multiple_inputs else values[src[0]]
            values[i] = node.layer.forward(backend, args, training)
            regularizer = node.layer.activity_regularizer
            if regularizer is not None and len(values[i]):
                self.activity_penalty += regularizer(values[i]) / len(values[i])
        self.values = values
        return values[-1]

    def backward(self, backend, grad):
        grads = [None] * len(self.nodes)
        grads[-1] = grad
        for i in range(len(self.nodes) - 1, -1, -1):
            src = self.sources[i]
            if not src or not self.needs_grad[i] or grads[i] is None:
                continue
            layer = self.nodes[i].layer
            if layer.activity_regularizer is not None:  # its penalty's gradient joins the output's
                y = self.values[i]
                grads[i] = grads[i] + layer.activity_regularizer.gradient(y) / y.dtype.type(len(y))
            if layer.multiple_inputs:
                results = layer.backward(backend, grads[i], any(self.needs_grad[j] for j in src))
            else:
                results = [layer.backward(backend, grads[i], self.needs_grad[src[0]])]
            for j, g in zip(src, results):
                if g is None or not self.needs_grad[j]:
                    continue
                if grads[j] is None:
                    grads[j] = g.copy() if self.shared[j] else g  # a shared gradient is summed in place
                else:
                    np.add(grads[j], g, out=grads[j])


def uniquely_named(layers):
    """`layers`, once their names are checked unique, with Keras's ValueError otherwise (a model file
    and a dict of inputs find layers by name)."""
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the model. All operation '
                             "names should be unique.")
    return layers


def of_dtype(layers, dtype):
    """`layers`, once none declares a float dtype other than the model's `dtype`: nnfast runs one
    dtype per model, where Keras gives each layer its own (NotImplementedError, not a silent cast)."""
    for layer in layers:  # an Input's dtype only says how the data arrive: Keras casts them at the first layer
        if layer.dtype is not None and layer.dtype != dtype and not isinstance(layer, InputLayer):
            raise NotImplementedError(
                f"layer {layer.name!r} has dtype {layer.dtype.name!r} in a {np.dtype(dtype).name} model: a dtype "
                f"per layer is not supported by nnfast, which runs one dtype per model; build the model with "
                f"dtype={layer.dtype.name!r} (Sequential(..., dtype=...), Model(..., dtype=...)) instead")
    return layers
