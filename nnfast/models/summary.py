"""model.summary() in Keras 3's layout: a boxed table of layers (name and type, output shape,
parameter count, and for functional models the inputs each layer is connected to), then the total,
trainable and non-trainable parameter counts with their memory size."""
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
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        widths.append(width)
        current += width
    return widths


def boxed_rows(header, rows, widths):
    """The table's lines: box-drawing borders, cells wrapped to their column (content width is the
    column width less the border and one space of padding on each side)."""
    inner = [w - 3 for w in widths[:-1]] + [widths[-1] - 4]

    def rule(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in inner) + right

    def cells(row, edge, sep, right_aligned):
        wrapped = [textwrap.wrap(str(c), w) or [""] for c, w in zip(row, inner)]
        lines = []
        for k in range(max(len(c) for c in wrapped)):
            parts = []
            for col, (c, w) in enumerate(zip(wrapped, inner)):
                text = c[k] if k < len(c) else ""
                parts.append(" " + (text.rjust(w) if col in right_aligned else text.ljust(w)) + " ")
            lines.append(edge + sep.join(parts) + edge)
        return lines

    numbers = {2}
    out = [rule("┏", "┳", "┓", "━")] + cells(header, "┃", "┃", numbers) + [rule("┡", "╇", "┩", "━")]
    for i, row in enumerate(rows):
        if i:
            out.append(rule("├", "┼", "┤", "─"))
        out += cells(row, "│", "│", numbers)
    out.append(rule("└", "┴", "┘", "─"))
    return out


def connections(layer):
    node = layer.node
    if node is None or not node.inputs:
        return "-"
    return ", ".join(f"{t.node.layer.name}[0][0]" for t in node.inputs)


def summary_lines(model, line_length=None):
    functional = not getattr(model, "is_sequential", False)
    default, positions = (108, [0.3, 0.56, 0.74, 1.0]) if functional else (88, [0.45, 0.80, 1.0])
    line_length = line_length or min(default, shutil.get_terminal_size().columns - 4)
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    rows = []
    for layer in model.layers:  # a model without an input shape yet: Keras's "?" and "0 (unbuilt)"
        shape = "?" if layer.output_shape is None else str((None,) + tuple(layer.output_shape))
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        row = [f"{layer.name} ({type(layer).__name__})", shape, params]
        rows.append(row + ([connections(layer)] if functional else []))
    itemsize = np.dtype(model.dtype).itemsize
    built = model.built
    total = model.count_params() if built else 0
    trained = int(sum(w.size for w in model.trainable_weights)) if built else 0
    lines = [f'Model: "{model.name}"'] + boxed_rows(header, rows, column_widths(line_length, positions))
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
