"""Reading the pickled parts of Keras's dataset files (CIFAR's batches, the object arrays of ragged
sequences in imdb.npz) without letting a tampered file run code: the unpickler resolves NumPy's
array reconstruction and nothing else, as Keras 3's own loaders do."""
import io
import pickle
import zipfile

import numpy as np

# What a dataset pickle may reference: NumPy's array reconstruction (under NumPy 1 and 2 names).
PICKLE_GLOBALS = frozenset({("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                            ("numpy._core.multiarray", "_reconstruct")})


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that refuses any global but NumPy's array reconstruction."""

    def find_class(self, module, name):
        if (module, name) in PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file: the file is corrupt "
                                     "or was tampered with")


def read_npy(stream):
    """One .npy member: numeric arrays with pickling off, object arrays through ArrayUnpickler."""
    try:
        return np.lib.format.read_array(stream, allow_pickle=False)
    except ValueError:  # an object array: its data is a pickle after the header
        stream.seek(0)
        version = np.lib.format.read_magic(stream)
        if version[0] == 1:
            np.lib.format.read_array_header_1_0(stream)
        elif version[0] in (2, 3):  # 3.0 differs from 2.0 only in the header's encoding
            np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version}") from None
        return ArrayUnpickler(stream).load()


def load_npz(path):
    """{name: array} of the .npz archive at `path`, object arrays included (ArrayUnpickler)."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[:-len(".npy")]] = read_npy(io.BytesIO(raw.read()))
    return arrays
