"""Checks of the data a model is given: inputs x as (samples, features) and targets y as the loss
expects them. Each returns the array in the model's layout (C-contiguous, the model's dtype;
class indices as int64) or raises a ValueError naming the argument, before any step runs."""
import numpy as np

from .. import _core
from ..utils import checks


def batch_size(value):
    """The batch size: 32 for None (Keras), else an int >= 1."""
    return 32 if value is None else checks.integer("batch_size", value, lo=1)


def verbosity(value):
    """fit's, evaluate's and predict's verbose: "auto" is 1 (the progress bar), as Keras's
    ProgbarLogger takes it."""
    return 1 if value == "auto" else checks.integer("verbose", int(value) if isinstance(value, bool) else value,
                                                   lo=0, hi=2)


def array(value, name, dtype=None):
    """np.asarray(value) (lists, pandas objects, ...), or a ValueError naming the argument when it is
    none (ragged lists, strings that are not numbers, ...). A pandas DataFrame whose columns are
    numbers and bools of different dtypes (pd.get_dummies' output beside float columns), which
    np.asarray makes an object array, becomes float64, as Keras trains on it. A SciPy sparse matrix
    or array (OneHotEncoder's and ColumnTransformer's output) is made dense, as Keras does."""
    if is_scipy_sparse(value):
        value = value.toarray()
    try:
        a = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"{name} must be an array of real numbers, got {type(value).__name__} ({err})") from None
    if a.dtype == object and dtype is None:
        kinds = frame_column_kinds(value)
        if kinds and all(kind in "fiub" for kind in kinds.values()):
            return value.to_numpy(dtype=np.float64)
    return a


def is_scipy_sparse(value):
    """Whether `value` is a SciPy sparse matrix or array (without importing SciPy)."""
    return type(value).__module__.startswith("scipy.sparse") and hasattr(value, "toarray")


def frame_column_kinds(value):
    """{column: its dtype's kind} of a pandas DataFrame (duck-typed: pandas is not a dependency),
    or {} for anything else."""
    dtypes = getattr(value, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items") or not hasattr(value, "to_numpy"):
        return {}
    return {column: getattr(dtype, "kind", "O") for column, dtype in dtypes.items()}


def not_numbers_message(value, a, name):
    """The ValueError message for `a` (np.asarray of `value`), which does not hold real numbers:
    a DataFrame's message names the columns that are not numbers."""
    others = [f"{column!r} ({value.dtypes[column]})" for column, kind in frame_column_kinds(value).items()
              if kind not in "fiub"]
    if others:
        return (f"{name} must hold real numbers, but the DataFrame's columns {', '.join(others)} do not: encode "
                "them as numbers first (for example with pd.get_dummies)")
    return f"{name} must hold real numbers, got dtype {a.dtype}"


def features(x, name="x"):
    """x as an array of real numbers with a batch axis and at least one feature axis (not yet
    converted; lists, pandas DataFrames and Series become arrays)."""
    a = array(x, name)
    if a.dtype.kind not in "fiub":
        raise ValueError(not_numbers_message(x, a, name))
    x = a
    if x.ndim < 2:
        raise ValueError(f"{name} must be 2-D (samples, features), got shape {x.shape}")
    return x


def require_finite(a, name):
    if not _core.all_finite(a):
        raise ValueError(f"{name} contains NaN or Inf")


def adjusted_rank(x, sample_shape):
    """Keras's rank adjustment of a model's input: an array one axis short of (n, *sample_shape)
    whose missing last axis is 1 (labels-like ids, (n,), for an Input of shape (1,)) gains it, and
    one with an extra last axis of 1 loses it; any other array is returned as it is."""
    if x.ndim == len(sample_shape) and sample_shape[-1] == 1:
        return x.reshape(x.shape + (1,))
    if x.ndim == len(sample_shape) + 2 and x.shape[-1] == 1:
        return x.reshape(x.shape[:-1])
    return x


def inputs(x, dtype, sample_shape, name="x"):
    """x as a C-contiguous (n, *sample_shape) array of `dtype`, checked (NaN/Inf included). The
    model skips this for an x already in its layout (see Model._inputs)."""
    a = array(x, name)
    if a.dtype.kind not in "fiub":
        raise ValueError(not_numbers_message(x, a, name))
    x = features(adjusted_rank(a, tuple(sample_shape)), name)
    if len(sample_shape) == 1 and x.ndim == 2 and x.shape[1] != sample_shape[0]:
        raise ValueError(f"{name} has {x.shape[1]} features but the model's input size is {sample_shape[0]}")
    if x.shape[1:] != tuple(sample_shape):
        raise ValueError(f"{name} must have samples of shape {tuple(sample_shape)}, got shape {x.shape}")
    x = in_layout(x, dtype, name)
    require_finite(x, name)
    return x


def in_layout(a, dtype, name):
    """`a` as an aligned C-contiguous array of `dtype` (a copy when it is not one already; an
    unaligned view would be refused by the kernels). A copy too large for memory is NumPy's
    MemoryError, naming the argument (a zero-stride view can claim terabytes)."""
    try:
        return np.require(a, dtype=dtype, requirements=["C", "A"])
    except MemoryError as err:
        raise MemoryError(f"{name} of shape {a.shape} needs a copy as {np.dtype(dtype).name} that does not fit in "
                          f"memory ({err})") from None


def one_input_forms(x, input_names, listed):
    """x as a model of one input takes it, from the forms Keras also takes: a dict of one array
    keyed by the input's name, or a list of one array, for a model built on keras.Input; a bare
    array for one built on a list of one keras.Input (`listed`). input_names: the model's (None
    for a Sequential not built yet, which has one). Anything else is returned as it is."""
    if input_names is not None and len(input_names) != 1:
        return x
    if listed:
        return x if isinstance(x, (list, tuple, dict)) else [x]
    if isinstance(x, dict) and input_names is not None and list(x) == input_names:
        return next(iter(x.values()))
    if isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape"):  # not a list of rows
        return x[0]
    return x


def input_list(x, dtype, sample_shapes, input_names, name="x"):
    """The inputs of a model with several: a list or tuple in the model's input order, or a dict
    keyed by input name; each checked by inputs(), all with one number of samples."""
    if isinstance(x, dict):
        missing = [k for k in input_names if k not in x]
        if missing or len(x) != len(input_names):
            raise ValueError(f"{name} must be a dict with the input names {input_names}, got keys {sorted(x)}")
        x = [x[k] for k in input_names]
    if not isinstance(x, (list, tuple)) or len(x) != len(sample_shapes):
        raise ValueError(f"{name} must be a list of {len(sample_shapes)} arrays, one per model input, "
                         f"got {type(x).__name__}")
    arrays = [inputs(a, dtype, shape, f"{name}[{i}]") for i, (a, shape) in enumerate(zip(x, sample_shapes))]
    if len({len(a) for a in arrays}) > 1:
        raise ValueError(f"{name} must have one number of samples in every input, got {[len(a) for a in arrays]}")
    return arrays


def targets(y, n, loss, output_dim, dtype, name="y"):
    """y checked against the loss: class indices (n,) as int64 for sparse losses, else rows
    (n, output_dim) of `dtype` (NaN/Inf checked). The model skips this for rows already in its
    layout (see Sequential._targets)."""
    given, y = y, array(y, name)
    if y.ndim == 0:
        raise ValueError(f"{name} must be an array with one target per sample, got {type(y.item()).__name__}")
    if len(y) != n:
        raise ValueError(f"{name} has {len(y)} samples but x has {n}")
    if loss.sparse:
        return class_indices(y, loss.name, output_dim, name)
    if y.dtype.kind not in "fiub":
        raise ValueError(not_numbers_message(given, y, name))
    if y.ndim == 1:
        y = y[:, None]
    if y.shape != (n, output_dim):
        raise ValueError(f"{name} must have shape ({n}, {output_dim}) for a model with "
                         f"{output_dim} outputs, got {y.shape}")
    y = in_layout(y, dtype, name)
    require_finite(y, name)
    return y


def class_indices(y, loss_name, classes, name="y"):
    """y as int64 class indices in [0, classes), one per sample (a (n, 1) column is accepted)."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must hold one class index per sample for {loss_name}, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.array_equal(y, np.round(y)):
            raise ValueError(f"{name} must hold integer class indices for {loss_name}")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integer class indices, got dtype {y.dtype}")
    y = in_layout(y, np.int64, name)
    if len(y) and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"{name} has class indices in [{y.min()}, {y.max()}] but the model has "
                         f"{classes} outputs")
    return y


def sample_weights(sample_weight, class_weight, y, n, outputs):
    """One float64 weight per sample (None when neither is given): sample_weight (n,) or (n, 1), or
    class_weight[class of the sample] (the class is y's index, a one-hot row's argmax, or a single
    output's rounded value, as Keras reads it; classes the dict leaves out weigh 1). Keras refuses
    both at once, and so does nnfast."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError("class_weight and sample_weight cannot be given together (as in Keras): fold the class "
                         "weights into sample_weight")
    weights = None
    if sample_weight is not None:
        weights = array(sample_weight, "sample_weight", np.float64)
        if weights.ndim == 2 and weights.shape[1] == 1:
            weights = weights[:, 0]
        if weights.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), one weight per sample, got {weights.shape}")
        if not np.isfinite(weights).all():
            raise ValueError("sample_weight must be finite")
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise TypeError(f"class_weight must be a dict of class index -> weight, got {type(class_weight).__name__}")
        if y.ndim == 1:
            classes = y.astype(np.int64)
        elif y.shape[1] == 1:
            classes = np.round(y[:, 0]).astype(np.int64)
        else:
            classes = np.argmax(y, axis=1)
        given = {checks.integer("class_weight key", class_key(k), lo=0): checks.real(f"class_weight[{k!r}]", w)
                 for k, w in class_weight.items()}
        # one weight per class that occurs (keys of classes that never occur are unused, however large)
        table = np.ones(max(outputs, 2, int(classes.max()) + 1 if len(classes) else 0), np.float64)
        for k, w in given.items():
            if k < len(table):
                table[k] = w
        weights = table[classes]
    return weights


def class_key(key):
    """A class_weight key as a class index: a float of an integer value (dict(zip(np.unique(y), w))
    with float labels) is that integer, as Keras looks the weights up by int(label)."""
    if isinstance(key, (float, np.floating)) and float(key).is_integer():
        return int(key)
    return key


def frequency(validation_freq):
    """fit's validation_freq as a test of the 0-based epoch: an int n validates every n-th epoch,
    a list the (1-based) epochs it holds, as Keras."""
    if isinstance(validation_freq, list):
        epochs = {checks.integer("validation_freq item", e, lo=1) for e in validation_freq}
        return lambda epoch: epoch + 1 in epochs
    every = checks.integer("validation_freq", validation_freq, lo=1)
    return lambda epoch: (epoch + 1) % every == 0
