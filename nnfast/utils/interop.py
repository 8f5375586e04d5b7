"""Arrays of other libraries in nnfast.ops, zero copy: an argument that is not a NumPy array but
exports DLPack (``__dlpack__``: torch, JAX, CuPy, ...) or the buffer protocol (``memoryview``:
array.array, bytearray, ...) is viewed as one, without a copy, when it is a C-contiguous CPU array;
anything else keeps the TypeError the native call raised, with the reason added.

nnfast.ops calls the native function first and converts only when it raised TypeError (the native
checks come before any memory is touched, so nothing was written): plain ndarrays pay nothing.
The ops function is then called again with the views; an argument that could not be viewed fails
there, named by the native check, with the reason it was refused.
"""
import numpy as np

__all__ = ["call_with_views"]

_PLAIN = (np.ndarray, str, int, float, bool, type(None), np.generic)


def _view(obj, reasons):
    """A zero-copy ndarray of obj, or obj itself (not array-like, or refused: reason appended)."""
    if isinstance(obj, _PLAIN):
        return obj
    if hasattr(obj, "__dlpack__"):
        kind = "__dlpack__"
    else:
        try:
            buffer = memoryview(obj)
        except TypeError:
            return obj  # not an array of any kind: the native error stands as it is
        kind = "the buffer protocol"
    try:
        if kind == "__dlpack__":
            device = obj.__dlpack_device__()
            if int(device[0]) != 1:  # kDLCPU
                raise BufferError(f"it is on DLPack device {tuple(int(d) for d in device)}, not the CPU")
            array = np.from_dlpack(obj, copy=False)
        else:
            array = np.asarray(buffer)
    except Exception as err:  # noqa: BLE001 - each library refuses an export in its own way
        reasons.append(f"a {type(obj).__name__} exporting {kind} is taken only as a C-contiguous CPU array "
                       f"({err})")
        return obj
    if not array.flags.c_contiguous:
        reasons.append(f"a {type(obj).__name__} exporting {kind} is taken only as a C-contiguous CPU array "
                       f"(this one has strides {array.strides})")
        return obj
    return array


def _views(arg, reasons):
    if isinstance(arg, (list, tuple)):
        items = [_view(a, reasons) for a in arg]
        return arg if all(a is b for a, b in zip(items, arg)) else type(arg)(items)
    return _view(arg, reasons)


def call_with_views(error, fn, arguments):
    """fn(**arguments) again (an nnfast.ops function and its arguments, as its ``locals()`` in the
    handler of the native call's TypeError `error`) with every DLPack / buffer-protocol argument
    (or list item) replaced by a zero-copy ndarray. When nothing converts, `error` stands, with the
    reasons why an array-like argument was refused."""
    reasons = []
    given = {name: value for name, value in arguments.items() if value is not error}
    views = {name: _views(value, reasons) for name, value in given.items()}
    if all(views[name] is value for name, value in given.items()):
        if reasons:
            raise TypeError(f"{error}; {'; '.join(reasons)}") from None
        raise error
    return fn(**views)  # a refused argument still fails there, named, with its reason
