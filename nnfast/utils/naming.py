"""Keras's default object names: the class name in snake_case, numbered per process ("dense",
"dense_1", "precision_1"), and the numbering of equal names in one set of logs ("accuracy_1")."""
import re

__all__ = ["auto_name", "reset_names", "snake_case", "unique_names"]

_name_counts = {}  # prefix -> objects named so far in this process, as Keras's uid counter


def snake_case(name):
    """Keras's to_snake_case of a class name: "TopKCategoricalAccuracy" -> "top_k_categorical_accuracy",
    "GlobalAveragePooling1D" -> "global_average_pooling1d"."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(cls_name):
    """Keras's default name of an object of class `cls_name`: the class name in snake_case, then
    _1, _2, ... ("dense", "dense_1", "batch_normalization")."""
    prefix = snake_case(cls_name)
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names():
    """Forget the default names given so far (Keras's ``clear_session``): the next Dense built is
    named "dense" again."""
    _name_counts.clear()


def unique_names(names):
    """`names` with each repeat numbered, as Keras names a model's results: a second "accuracy"
    becomes "accuracy_1", a third "accuracy_2"."""
    seen, out = {}, []
    for name in names:
        if name in seen:
            out.append(f"{name}_{seen[name]}")
            seen[name] += 1
        else:
            out.append(name)
            seen[name] = 1
    return out
