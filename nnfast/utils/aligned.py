"""Arrays placed on cache lines, for the update kernels' sake.

A fused optimizer step walks a parameter with its gradient and state side by side, in whole
vectors from the first element where the parameter starts a cache line. A state array whose
address sits at another offset within its cache line than its parameter's makes every vector
store to it straddle two lines: momentum SGD at 1e5 float32 took 17.2 us with its three arrays at
three offsets and 15.8 us with all three starting lines, 1 thread, this Xeon. So the arenas a
model and an optimizer allocate start cache lines, and an optimizer's state array takes its
parameter's offset."""
import numpy as np

LINE = 64  # bytes: the cache line, and an AVX-512 vector


def line_offset(a):
    """Where `a` starts within its cache line, in bytes."""
    return a.ctypes.data % LINE


def full(n, value, dtype, offsets=()):
    """(arena, starts): a 1-D array of at least `n` elements of `dtype` filled with `value`, and,
    for each consecutive piece whose size and wanted line offset (bytes) `offsets` lists as
    (size, offset) pairs, the index where that piece starts in the arena. Pieces follow each other
    in order, each moved up by the fewest elements that give it its offset (an offset of None, or
    one the dtype's size does not divide, leaves the piece right after the one before); the arena
    starts a cache line."""
    item = np.dtype(dtype).itemsize
    buffer = np.full(n + (len(offsets) + 1) * (LINE // item), value, dtype)
    shift = (-line_offset(buffer) % LINE) // item  # NumPy aligns a new array to its item size
    starts, position = [], shift  # position: elements from the buffer's start
    for size, offset in offsets:
        if offset is not None and offset % item == 0:
            here = (buffer.ctypes.data + position * item) % LINE
            position += ((offset - here) % LINE) // item
        starts.append(position - shift)
        position += size
    return buffer[shift:], starts


def zeros(n, dtype):
    """A 1-D array of `n` zeros of `dtype` that starts a cache line."""
    arena, _ = full(n, 0, dtype)
    return arena[:n]


def zeros_shaped(shape, dtype):
    """C-contiguous zeros of `shape` and `dtype` that start a cache line: a layer's reusable buffer.
    NumPy places a large array 16 bytes into a line, so every AVX-512 row load or store of the
    kernels split two lines (256 x 256 float32, 1 thread, Zen 5: batch-norm backward 1.1x the
    time, forward 1.06x, GEMM 1.03x when 16 or 32 bytes off a line)."""
    return zeros(int(np.prod(shape, dtype=np.int64)), dtype).reshape(shape)


def zeros_like(a):
    """C-contiguous zeros of `a`'s shape and dtype that start at `a`'s offset in a cache line: an
    optimizer's state for the parameter `a`."""
    arena, (start,) = full(a.size, 0, a.dtype, [(a.size, line_offset(a))])
    return arena[start:start + a.size].reshape(a.shape)
