"""The .npz container of saved models and weights: written atomically, read defensively.

Writing goes to a temporary file in the target's folder, which is flushed, fsync'ed and then
renamed over the target (``os.replace``), so an interrupted or failed save leaves the previous
file whole. Reading trusts nothing in the file: every entry must be stored uncompressed (what
``np.savez`` writes) with a declared size the file can hold, be named as the caller expects, and
hold a plain numeric array whose header (dtype, shape) accounts for exactly its bytes; the data
must pass the zip CRC. No pickle is ever loaded and nothing larger than the file is allocated.
Any violation is a BadFileError (a ValueError) naming the file and the entry."""
import errno
import math
import os
import uuid
import zipfile

import numpy as np
from numpy.lib import format as npy_format

__all__ = ["BadFileError", "write_atomically", "read_arrays", "CORRUPT_FILE_ERRORS"]


class BadFileError(ValueError):
    """A file that is not what it should be (damaged, hostile, or of another format or version)."""

# What parsing a damaged or hostile file may raise, besides our own ValueErrors: zipfile's and
# numpy's errors on bad structure, short reads, bad numbers. Callers turn them into ValueError.
CORRUPT_FILE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
                       RecursionError, EOFError, OSError, NotImplementedError, zipfile.BadZipFile)


def write_atomically(path, arrays):
    """Write `arrays` (name -> array) to the .npz file `path` through a temporary file in the same
    folder, fsync'ed, then renamed over `path`. On any error (or KeyboardInterrupt) the temporary
    file is removed and `path` is untouched."""
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{base}.{uuid.uuid4().hex}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
    except FileNotFoundError:  # name the file asked for, not the temporary one
        raise FileNotFoundError(errno.ENOENT, f"No such directory for {path!r}", folder) from None
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    sync_folder(folder)


def sync_folder(folder):
    """Make the rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_arrays(path, accept):
    """{name: array} of the .npz file `path`, checked entry by entry before anything is read.

    `accept(name)` returns the dtypes an entry called `name` (without ``.npy``) may hold, or None
    for a name the file must not contain. Raises ValueError for anything else than such a file;
    OSError only when `path` cannot be opened."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            with zipfile.ZipFile(f) as archive:
                entries = checked_entries(archive, size, accept, path)
                return {name: read_entry(archive, info, dtypes, path) for name, (info, dtypes) in entries.items()}
        except BadFileError:
            raise
        except CORRUPT_FILE_ERRORS as e:
            raise BadFileError(f"{path!r} is not a readable .npz file: {type(e).__name__}: {e}") from e


def checked_entries(archive, size, accept, path):
    """{name: (ZipInfo, dtypes)}: unique expected names, stored uncompressed, within the file."""
    entries, total = {}, 0
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else None
        dtypes = accept(name) if name is not None else None
        if dtypes is None:
            raise BadFileError(f"{path!r} holds an unexpected entry {info.filename!r}")
        if name in entries:
            raise BadFileError(f"{path!r} holds the entry {info.filename!r} twice")
        if info.compress_type != zipfile.ZIP_STORED:
            raise BadFileError(f"{path!r}: entry {info.filename!r} is compressed; nnfast writes and reads "
                             "only uncompressed entries (np.savez)")
        total += info.file_size
        if info.file_size != info.compress_size or info.header_offset + info.compress_size > size or total > size:
            raise BadFileError(f"{path!r}: entry {info.filename!r} declares {info.file_size} bytes, more than "
                             f"the file ({size} bytes) holds")
        entries[name] = (info, dtypes)
    return entries


def read_entry(archive, info, dtypes, path):
    """The array of one entry, after checking that its header describes exactly its bytes."""
    where = f"{path!r}: entry {info.filename!r}"
    with archive.open(info) as f:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(f)
        else:
            raise BadFileError(f"{where} has the unknown .npy version {version}")
        if dtype.hasobject or dtype.kind not in "uif" or dtype.fields is not None or dtype.newbyteorder("=") not in [
                np.dtype(d) for d in dtypes]:
            raise BadFileError(f"{where} must hold {' or '.join(np.dtype(d).name for d in dtypes)}, got {dtype}")
        if fortran_order or any(d < 0 for d in shape):
            raise BadFileError(f"{where} must be a C-order array, got shape {shape}")
        count = math.prod(shape)
        data = info.file_size - f.tell()
        if count * dtype.itemsize != data:
            raise BadFileError(f"{where} claims shape {shape} ({count * dtype.itemsize} bytes), but holds {data} bytes")
        out = np.empty(count, dtype)
        view = memoryview(out).cast("B")
        got = 0
        while got < data:
            n = f.readinto(view[got:])
            if not n:
                raise BadFileError(f"{where} ends after {got} of its {data} bytes")
            got += n
        if f.read(1):  # also makes zipfile check the CRC
            raise BadFileError(f"{where} holds more than its {data} bytes")
    return out.reshape(shape).astype(dtype.newbyteorder("="), copy=False)
