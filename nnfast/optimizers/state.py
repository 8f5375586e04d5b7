"""Optimizer state ("slots"): one contiguous arena per slot, and the checks of a restored state."""
import numbers

import numpy as np

from ..utils import aligned


def _slot_views(arrays, value, offsets):
    """Arrays of `arrays`' shapes filled with `value`, one after another in one buffer per dtype
    (nnfast.utils.aligned.full): each at the cache-line offset `offsets` gives for it, or right
    after the one before (None)."""
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1:
        return [_slot_views([a], value, [o])[0] for a, o in zip(arrays, offsets)]
    arena, starts = aligned.full(sum(a.size for a in arrays), value, dtypes.pop() if dtypes else np.float64,
                                 [(a.size, o) for a, o in zip(arrays, offsets)])
    return [arena[start:start + a.size].reshape(a.shape) for start, a in zip(starts, arrays)]


def slot_arrays(params, value):
    """One state array per parameter, filled with `value`: views into a single buffer when the
    parameters share a dtype (so a model's whole optimizer state is one arena per slot). Each
    starts at its parameter's offset within a cache line (nnfast.utils.aligned): the update kernels
    then store whole lines to both; for a model's parameters, views of one line-aligned arena, the
    slot views follow each other with no gap."""
    return _slot_views(params, value, [aligned.line_offset(p) for p in params])


def slot_copies(arrays):
    """C-contiguous copies of a slot's arrays, one after another in a single arena that starts a
    cache line (per dtype): restored in the order of a model's weights, which are views of one
    line-aligned arena, each copy sits at its weight's offset in a cache line again."""
    copies = _slot_views(arrays, 0, [None] * len(arrays))
    for copy, a in zip(copies, arrays):
        copy[...] = a
    return copies


def checked_state(state, slot_names, owner):
    """(iterations, slots, count, names) from a ``get_state()`` dict, with copies of its arrays.

    Validates the whole structure first (`owner` names the optimizer class in messages), so a
    caller that commits only after this returns changes nothing on error. ``count`` is the number
    of tensors (None when the state holds no arrays)."""
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict as returned by get_state(), got {type(state).__name__}")
    missing = [k for k in ("iterations", "slots") if k not in state]
    if missing:
        raise ValueError(f"state is missing {missing}")
    it = state["iterations"]
    if isinstance(it, (bool, np.bool_)) or not isinstance(it, numbers.Integral) or it < 0:
        raise ValueError(f"state['iterations'] must be an integer >= 0, got {it!r}")
    slots = state["slots"]
    if not isinstance(slots, dict):
        raise TypeError(f"state['slots'] must be a dict, got {type(slots).__name__}")
    names = state.get("names")
    if slots and set(slots) != set(slot_names):
        raise ValueError(f"state['slots'] has slots {sorted(slots)}, but {owner} "
                         f"with this configuration keeps {list(slot_names)}")
    n = None
    copies = {}
    first = None
    for s in slot_names if slots else ():
        arrays = slots[s]
        if not isinstance(arrays, (list, tuple)):
            raise TypeError(f"state['slots'][{s!r}] must be a list of arrays, got {type(arrays).__name__}")
        if n is None:
            n, first = len(arrays), arrays
        elif len(arrays) != n:
            raise ValueError(f"state['slots'][{s!r}] has {len(arrays)} arrays, "
                             f"state['slots'][{slot_names[0]!r}] has {n}")
        for i, a in enumerate(arrays):
            where = f"state['slots'][{s!r}][{i}]"
            if not isinstance(a, np.ndarray):
                raise TypeError(f"{where} must be a numpy.ndarray, got {type(a).__name__}")
            if a.dtype not in (np.float32, np.float64):
                raise TypeError(f"{where} must be float32 or float64, got {a.dtype}")
            ref = first[i]
            if a.shape != ref.shape or a.dtype != ref.dtype:
                raise ValueError(f"{where} has shape {a.shape} and dtype {a.dtype}, but "
                                 f"state['slots'][{slot_names[0]!r}][{i}] has shape "
                                 f"{ref.shape} and dtype {ref.dtype}")
        copies[s] = slot_copies(arrays)
    if names is not None:
        if not isinstance(names, (list, tuple)) or len(set(names)) != len(names):
            raise ValueError(f"state['names'] must be a list of distinct keys or None, got {names!r}")
        if n is not None and len(names) != n:
            raise ValueError(f"state['names'] has {len(names)} keys but the slots have {n} arrays")
    return int(it), copies, n, names
