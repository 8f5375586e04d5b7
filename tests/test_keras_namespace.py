"""nnfast.keras: Keras 3's layout over the library by one rule, the errors for what nnfast lacks,
and ``python -m nnfast.keras SCRIPT.py`` running unmodified Keras programs."""
import importlib
import os
import re
import subprocess
import sys
import textwrap
import types

import pytest

import nnfast.keras as keras
from nnfast.keras.keras_names import KERAS_NAMES
from nnfast.keras.namespace import exported_names, mirror

os.environ.setdefault("KERAS_BACKEND", "torch")  # for the comparison with the installed Keras

MIRRORS = {  # nnfast.keras module -> the library modules it re-exports from
    "layers": ("nnfast.layers", "nnfast.models"), "models": ("nnfast.models",), "optimizers": ("nnfast.optimizers",),
    "callbacks": ("nnfast.callbacks",), "activations": ("nnfast.activations",),
    "initializers": ("nnfast.initializers.keras_defaults", "nnfast.initializers"),
    "regularizers": ("nnfast.regularizers",), "constraints": ("nnfast.constraints",),
}
SUBMODULES = ["layers", "models", "optimizers", "optimizers.schedules", "losses", "metrics", "callbacks", "backend",
              "activations", "initializers", "regularizers", "constraints", "utils", "datasets", "datasets.mnist",
              "datasets.fashion_mnist", "datasets.boston_housing", "datasets.cifar10", "datasets.cifar100",
              "datasets.california_housing", "datasets.imdb", "datasets.reuters"]


def namespace(name):
    return importlib.import_module(f"nnfast.keras.{name}")


@pytest.mark.parametrize("name", SUBMODULES)
def test_every_submodule_mirrors_its_keras_module(name):
    module = namespace(name)
    assert set(module.__all__) <= set(KERAS_NAMES[f"keras.{name}"])
    assert getattr(keras, name.split(".")[0]) is importlib.import_module(f"nnfast.keras.{name.split('.')[0]}")
    for exported in module.__all__:
        assert getattr(module, exported) is not None


@pytest.mark.parametrize("name", sorted(MIRRORS))
def test_a_namespace_exports_every_library_object_with_a_keras_name(name):
    module = namespace(name)
    expected = {}
    for source in MIRRORS[name]:
        library = pytest.importorskip(source)
        for exported in exported_names(library):
            if exported in KERAS_NAMES[f"keras.{name}"]:
                expected.setdefault(exported, getattr(library, exported))
    for exported, obj in expected.items():
        assert getattr(module, exported) is obj, exported
    assert set(expected) <= set(module.__all__)


def test_backend_answers_as_keras_and_clear_session_restarts_the_layer_names():
    real = pytest.importorskip("keras")
    for name in ("floatx", "epsilon", "image_data_format"):
        assert getattr(keras.backend, name)() == getattr(real.backend, name)()
    names = {}
    for K in (keras, real):
        K.backend.clear_session()
        first = K.Sequential([K.Input(shape=(3,)), K.layers.Dense(2), K.layers.Dense(1)])
        second = K.Sequential([K.Input(shape=(3,)), K.layers.Dense(2)])
        K.backend.clear_session()
        third = K.Sequential([K.Input(shape=(3,)), K.layers.Dense(2)])
        names[K] = [[layer.name for layer in m.layers] for m in (first, second, third)]
    assert names[keras] == names[real] == [["dense", "dense_1"], ["dense_2"], ["dense"]]
    with pytest.raises(NotImplementedError, match="keras.backend.set_epsilon"):
        keras.backend.set_epsilon(1e-3)


def test_the_top_level_and_the_imports_keras_programs_use():
    import nnfast
    from nnfast.keras.layers import Dense
    from nnfast.keras.models import Sequential

    assert keras.Sequential is Sequential is nnfast.Sequential
    assert Dense is nnfast.layers.Dense
    assert keras.models.load_model is nnfast.models.load_model
    assert keras.optimizers.Adam is nnfast.optimizers.Adam
    assert keras.utils.to_categorical is nnfast.preprocessing.to_categorical
    for name in ("Model", "Input"):  # the functional API appears here as soon as the library has it
        if name in exported_names(nnfast.models) + exported_names(nnfast.layers):
            assert name in keras.__all__
    assert isinstance(keras.optimizers.schedules, types.ModuleType)
    assert set(keras.__all__) <= set(KERAS_NAMES["keras"]) and "layers" in keras.__all__


def test_a_keras_name_nnfast_lacks_says_so_and_points_to_the_guide():
    with pytest.raises(keras.UnsupportedFeatureError, match=r"keras\.layers\.Conv2D is not supported by nnfast "
                       r"\(nnfast\.keras\.layers has: .*Dense.*\); see docs/keras\.md"):
        keras.layers.Conv2D  # noqa: B018
    # a NotImplementedError, so that `from ... import` keeps it instead of a generic ImportError
    with pytest.raises(NotImplementedError, match="keras.layers.Conv2D"):
        from nnfast.keras.layers import Conv2D  # noqa: F401
    with pytest.raises(keras.UnsupportedFeatureError, match=r"keras\.applications is not supported"):
        keras.applications  # noqa: B018
    with pytest.raises(keras.UnsupportedFeatureError, match=r"keras\.ops is not supported"):
        from nnfast.keras import ops  # noqa: F401
    with pytest.raises(keras.UnsupportedFeatureError, match=r"keras\.optimizers\.Lamb"):
        keras.optimizers.Lamb  # noqa: B018


@pytest.mark.parametrize("name", ["NoSuchLayer", "_private", "__wrapped__", "__path__"])
def test_names_keras_lacks_too_and_underscore_names_are_attribute_errors(name):
    with pytest.raises(AttributeError, match=f"module 'nnfast.keras.layers' has no attribute '{name}'"):
        getattr(keras.layers, name)
    assert not hasattr(keras.layers, name)


def test_mirror_follows_the_library_by_rule():
    # a stand-in library module: what it exports with a Keras name appears, the rest does not
    library = types.ModuleType("nnfast_fake_layers")
    library.Dense, library.Helper, library.Conv2D = object(), object(), object()
    library.__all__ = ["Dense", "Helper", "Conv2D"]
    sys.modules[library.__name__] = library
    try:
        space = {"__name__": "fake.layers"}
        supported = mirror(space, "keras.layers", (library.__name__, "nnfast_module_not_written_yet"))
    finally:
        del sys.modules[library.__name__]
    assert supported == ["Conv2D", "Dense"] and space["Dense"] is library.Dense and "Helper" not in space
    assert space["__dir__"]() == sorted(space)
    with pytest.raises(keras.UnsupportedFeatureError, match=r"keras\.layers\.Flatten is not supported by nnfast "
                       r"\(fake\.layers has: Conv2D, Dense\)"):
        space["__getattr__"]("Flatten")


def test_exported_names_without_all_are_the_modules_own_objects():
    module = types.ModuleType("nnfast_fake")
    exec("import os\nfrom math import sqrt\nclass Own: pass\ndef own(): pass\n_hidden = 1", module.__dict__)
    assert sorted(exported_names(module)) == ["Own", "own"]


def test_keras_names_is_data_about_keras_3_public_api():
    assert {"keras", "keras.layers", "keras.optimizers.schedules", "keras.datasets.cifar10"} <= set(KERAS_NAMES)
    for names in KERAS_NAMES.values():
        assert list(names) == sorted(names) and not any(n.startswith("_") for n in names)


def test_nnfast_keras_never_imports_keras():
    done = subprocess.run([sys.executable, "-c", "import sys, nnfast.keras; print('keras' in sys.modules)"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout == "False\n", done.stderr


def test_the_names_match_the_installed_keras():
    real = pytest.importorskip("keras")
    from nnfast.keras.keras_names import KERAS_VERSION

    if real.__version__ != KERAS_VERSION:
        pytest.skip(f"keras_names.py describes Keras {KERAS_VERSION}, {real.__version__} is installed")
    for module, names in KERAS_NAMES.items():
        assert set(names) <= set(dir(importlib.import_module(module))), module


# --------------------------------------------------------------------------------------------------
# python -m nnfast.keras SCRIPT.py
# --------------------------------------------------------------------------------------------------

def run_script(tmp_path, code, *args):
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run([sys.executable, "-m", "nnfast.keras", str(script), *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)


def test_an_unmodified_keras_program_runs_on_nnfast(tmp_path):
    done = run_script(tmp_path, """
        import sys

        import numpy as np
        import keras
        import keras.utils
        import tensorflow as tf
        from keras import layers
        from tensorflow.keras.layers import Dense
        from tensorflow.keras.utils import to_categorical

        print("argv", sys.argv[1:], __name__)
        print("same", keras is tf.keras, layers is keras.layers, keras.utils is tf.keras.utils)
        print("nnfast", type(keras.Sequential).__module__, Dense.__module__.startswith("nnfast."))
        keras.utils.set_random_seed(0)
        x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
        y = to_categorical((x[:, 0] > 0).astype(int), 2)
        model = keras.Sequential([Dense(8, activation="relu", input_dim=4), layers.Dense(2, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        print("epochs", len(history.history["loss"]))
        sys.exit(int(sys.argv[2]))
    """, "hello", "7")
    assert done.returncode == 7, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "argv ['hello', '7'] __main__"
    assert lines[1] == "same False True True"  # tf.keras is the tf_keras flavour, as TensorFlow 2.16+'s
    assert lines[2].endswith("True") and lines[3] == "epochs 3"


@pytest.mark.parametrize(("code", "message"), [
    ("from tensorflow.keras.layers import Conv2D", r"keras\.layers\.Conv2D is not supported by nnfast"),
    ("import keras.applications", r"keras\.applications is not supported by nnfast"),
    ("from keras.applications.resnet50 import ResNet50", r"keras\.applications is not supported by nnfast"),
    ("import tensorflow as tf\ntf.random.set_seed(0)", r"tensorflow\.random is not supported by nnfast "
                                                         r"\(nnfast stands in for tensorflow\.keras only\)"),
    ("import tensorflow.compat.v1", r"tensorflow\.compat is not supported by nnfast"),
])
def test_an_unsupported_feature_stops_the_program_with_the_message(tmp_path, code, message):
    done = run_script(tmp_path, "print('started')\n" + code)
    assert done.returncode == 1 and done.stdout == "started\n"
    last = done.stderr.strip().splitlines()[-1]
    assert re.match(r"nnfast\.keras\.Unsupported(Feature|Attribute)Error: ", last)
    assert re.search(message, last) and "docs/keras.md" in last


def test_a_module_keras_lacks_too_is_a_plain_module_not_found_error(tmp_path):
    done = run_script(tmp_path, "import keras.no_such_module")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == "ModuleNotFoundError: No module named 'keras.no_such_module'"


def test_the_runner_usage(tmp_path):
    done = subprocess.run([sys.executable, "-m", "nnfast.keras"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "usage: python -m nnfast.keras SCRIPT.py" in done.stderr
    done = subprocess.run([sys.executable, "-m", "nnfast.keras", str(tmp_path / "missing.py")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "can't open file" in done.stderr


def test_tf_keras_keeps_tensorflows_keras_2_aliases(tmp_path):
    """TensorFlow 2.16+ maps tf.keras to Keras 3's keras._tf_keras.keras, which keeps Keras 2's loss
    and metric aliases (tf.keras.losses.mse, tf.keras.metrics.MAE, ...): under the runner they name
    nnfast.keras's own functions and train as those; plain keras has none of them, as Keras 3."""
    done = run_script(tmp_path, """
        import numpy as np
        import keras
        import tensorflow as tf
        from tensorflow.keras.losses import MSE
        from tensorflow.keras.optimizers.schedules import ExponentialDecay
        import tensorflow.keras.metrics as tm
        x = np.random.default_rng(0).random((64, 4)).astype("float32")
        y = x.sum(1, keepdims=True)
        for loss in (tf.keras.losses.mse, "mse"):
            keras.utils.set_random_seed(0)
            model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
            model.compile(optimizer=tf.keras.optimizers.SGD(ExponentialDecay(0.05, 10, 0.9)), loss=loss,
                          metrics=[tm.mae, tf.keras.metrics.MAPE])
            history = model.fit(x, y, epochs=2, verbose=0).history
            print(sorted(history), history["loss"])
        print(MSE is keras.losses.mean_squared_error, tm.logcosh is keras.metrics.log_cosh,
              hasattr(keras.losses, "mse"), tf.keras.layers is keras.layers)
    """)
    assert done.returncode == 0, done.stderr
    first, second, same = done.stdout.splitlines()
    assert first == second  # the alias trains as the name
    assert first.startswith("['loss', 'mean_absolute_error', 'mean_absolute_percentage_error']")
    assert same == "True True False True"
    from nnfast.keras.tf_keras import legacy
    tf_keras = pytest.importorskip("keras._tf_keras.keras")
    import keras as real
    for module in ("losses", "metrics"):  # every function alias TensorFlow's tf.keras adds to Keras 3's
        theirs = {n for n in set(dir(getattr(tf_keras, module))) - set(dir(getattr(real, module)))
                  if callable(getattr(getattr(tf_keras, module), n)) and not isinstance(
                      getattr(getattr(tf_keras, module), n), type)}
        assert theirs == set(legacy.LOSS_ALIASES)


def test_version_checks_and_feature_tests_see_keras_3_on_tensorflow(tmp_path):
    """keras.__version__ is the Keras API nnfast.keras follows, tf.__version__ the first TensorFlow
    whose tf.keras is Keras 3; hasattr / getattr with a default on tensorflow answer as for an absent
    name, while touching it still says what is unsupported."""
    done = run_script(tmp_path, """
        import keras
        import tensorflow as tf
        print(keras.__version__, tf.__version__, tf.keras.__version__)
        print(int(keras.__version__.split(".")[0]) >= 3, hasattr(tf, "random"), getattr(tf, "config", None))
        tf.random.set_seed(0)
    """)
    from nnfast.keras.keras_names import KERAS_VERSION
    assert done.stdout.splitlines() == [f"{KERAS_VERSION} 2.16.1 {KERAS_VERSION}", "True False None"]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("nnfast.keras.UnsupportedAttributeError: tensorflow.random is not supported by nnfast")
    assert issubclass(keras.UnsupportedAttributeError, keras.UnsupportedFeatureError)
