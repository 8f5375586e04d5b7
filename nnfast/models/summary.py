"""model.summary() in Keras 3's layout: a boxed table of layers (name and type, output shape,
parameter count, and for functional models the inputs each layer is connected to), then the total,
trainable and non-trainable parameter counts with their memory size."""
import re
import shutil
import textwrap

import numpy as np


def readable_size(nbytes):
    """Bytes as Keras writes them: "592.00 B", "18.79 KB", "1.20 MB"."""
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024


def column_widths(line_length, positions):
    """Each column's text width, as Keras's table (rich) lays it out: the widths the positions
    ask for, plus one space of padding on each side, must fit in the line less its borders; the
    excess is taken from the columns evenly (rich's ratio_reduce, Python's rounding included)."""
    asked, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        asked.append(width + 2)
        current += width
    excess = sum(asked) - (line_length - len(positions) - 1)
    widths, left = [], len(asked)
    for width in asked:
        taken = min(width, round(excess / left)) if excess > 0 else 0
        widths.append(width - taken - 2)
        excess, left = excess - taken, left - 1
    return widths


def cell_lines(text, width):
    """A cell's lines, as rich wraps them: at spaces, a word too long for the line cut to end in
    an ellipsis."""
    lines = textwrap.wrap(str(text), width, break_long_words=False, break_on_hyphens=False) or [""]
    return [line if len(line) <= width else line[:width - 1] + "…" for line in lines]


def aligned(text, width, how):
    """`text` in a cell of `width`: "left", "right", or "center" as rich centres (the odd space on
    the right)."""
    if how == "right":
        return text.rjust(width)
    if how == "center":
        left = (width - len(text)) // 2
        return " " * left + text + " " * (width - len(text) - left)
    return text.ljust(width)


def boxed_rows(header, rows, inner, alignment):
    """The table's lines: box-drawing borders, cells wrapped to their column's text width `inner`
    (one space of padding on each side) and aligned as `alignment` says per column."""

    def rule(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in inner) + right

    def cells(row, edge, sep):
        wrapped = [cell_lines(c, w) for c, w in zip(row, inner)]
        lines = []
        for k in range(max(len(c) for c in wrapped)):
            parts = [" " + aligned(c[k] if k < len(c) else "", w, how) + " "
                     for c, w, how in zip(wrapped, inner, alignment)]
            lines.append(edge + sep.join(parts) + edge)
        return lines

    out = [rule("┏", "┳", "┓", "━")] + cells(header, "┃", "┃") + [rule("┡", "╇", "┩", "━")]
    for i, row in enumerate(rows):
        if i:
            out.append(rule("├", "┼", "┤", "─"))
        out += cells(row, "│", "│")
    out.append(rule("└", "┴", "┘", "─"))
    return out


def connections(layer):
    node = layer.node
    if node is None or not node.inputs:
        return "-"
    return ", ".join(f"{t.node.layer.name}[0][0]" for t in node.inputs)


def layer_bounds(layers, layer_range):
    """Keras's layer_range: the layers from the first whose name matches layer_range[0] (a regular
    expression, at the name's start) to the last matching layer_range[1], as a slice."""
    if layer_range is None:
        return slice(0, len(layers))
    if not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2:
        raise ValueError(f"layer_range must be a list or tuple of length 2. Received: layer_range = {layer_range!r}")
    if not all(isinstance(name, str) for name in layer_range):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return slice(min(upper), max(lower) + 1)
    return slice(min(lower), max(upper) + 1)


def sequential_like(model):
    """Whether Keras lays the summary out as a Sequential's (no "Connected to" column): a Sequential,
    or a functional model whose layers form one chain (one input each, none feeding two)."""
    if getattr(model, "is_sequential", False):
        return True
    parents = []
    for layer in model.layers:
        inputs = [] if layer.node is None else layer.node.inputs
        if len(inputs) > 1:
            return False
        parents += [id(t.node.layer) for t in inputs]
    return len(parents) == len(set(parents))


def summary_lines(model, line_length=None, positions=None, show_trainable=False, layer_range=None):
    functional = not sequential_like(model)
    default, default_positions = (108, [0.3, 0.56, 0.74, 1.0]) if functional else (88, [0.45, 0.80, 1.0])
    positions = list(positions or default_positions)
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    alignment = ["left", "left", "right"] + (["left"] if functional else [])
    if show_trainable:  # as Keras: a column of Y / N / - for each layer, the others narrowed
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")
    line_length = line_length or min(default, shutil.get_terminal_size().columns - 4)
    rows = []
    for layer in model.layers[layer_bounds(model.layers, layer_range)]:
        # a model without an input shape yet: Keras's "?" and "0 (unbuilt)"
        shape = "?" if layer.output_shape is None else str((None,) + tuple(layer.output_shape))
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        row = [f"{layer.name} ({type(layer).__name__})", shape, params]
        row += [connections(layer)] if functional else []
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.built and layer.weights else "-")
        rows.append(row)
    itemsize = np.dtype(model.dtype).itemsize
    built = model.built
    total = model.count_params() if built else 0
    trained = int(sum(w.size for w in model.trainable_weights)) if built else 0
    lines = [f'Model: "{model.name}"'] + boxed_rows(header, rows, column_widths(line_length, positions), alignment)
    # after the optimizer's first step, Keras 3 counts its variables too
    optimizer = model.optimizer_variables() if getattr(model, "compiled", False) else None
    extra, extra_bytes = optimizer or (0, 0)
    counts = [("Total", total + extra, total * itemsize + extra_bytes),
              ("Trainable", trained, trained * itemsize),
              ("Non-trainable", total - trained, (total - trained) * itemsize)]
    if optimizer is not None:
        counts.append(("Optimizer", extra, extra_bytes))
    for label, count, size in counts:
        lines.append(f" {label} params: {count:,} ({readable_size(size)})")
    return lines
