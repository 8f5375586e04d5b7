"""Keras programs written as users write them (tests/keras_programs/prog_*.py), run unmodified
through ``python -m nnfast.keras``: each must exit 0 and print the results it reaches (accuracy
above a bar, files written, round trips equal). Where a program prints what must not depend on
the framework - the summary's totals, parameter counts, evaluate() and predict() on fixed weights
set with set_weights - it also runs on Keras 3 (torch backend) and those lines must agree.

Each program runs in a child process in its own temporary folder, with KERAS_HOME inside it."""
import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import TESTS_DIR

PROGRAMS = TESTS_DIR / "keras_programs"
NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?")


def environment(tmp_path, **extra):
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras_home"), **extra)
    env.pop("PYTHONSTARTUP", None)
    return env


def run_on_nnfast(tmp_path, name, prelude=None):
    """``python -m nnfast.keras PROGRAM`` in tmp_path; `prelude` is code run first in the child
    (then the runner is started as ``-m`` starts it)."""
    program = str(PROGRAMS / name)
    if prelude is None:
        args = ["-m", "nnfast.keras", program]
    else:
        args = ["-c", f"{prelude}\nimport runpy\nrunpy.run_module('nnfast.keras', run_name='__main__')", program]
    return subprocess.run([sys.executable, *args], env=environment(tmp_path), capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)


def start_on_keras(tmp_path, name, *args, prelude=None):
    """Start ``python PROGRAM ARGS`` with Keras 3 on torch, in its own folder under tmp_path (it runs
    while the test runs the program on nnfast); finish it with keras_output(). `prelude` is code
    run first in the child, the program then run as its __main__."""
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("the comparison needs Keras 3 and torch")
    folder = tmp_path / "keras"
    folder.mkdir(exist_ok=True)  # a test may have filled its Keras cache first
    program = str(PROGRAMS / name)
    start = [program] if prelude is None else [
        "-c", f"{prelude}\nimport runpy, sys\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')",
        program]
    return subprocess.Popen([sys.executable, *start, *args],
                            env=environment(folder, KERAS_BACKEND="torch"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=folder)


def keras_output(process):
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return out


def succeeded(done):
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def value(out, label):
    """The first number after `label` on the line that starts with it."""
    for line in out.splitlines():
        if line.startswith(label):
            return float(NUMBER.search(line[len(label):]).group().replace(",", ""))
    raise AssertionError(f"no line starts with {label!r} in:\n{out}")


def lines(out, prefixes):
    return [line.strip() for line in out.splitlines() if line.strip().startswith(prefixes)]


def assert_agree(ours, theirs, prefixes, rtol=1e-4, atol=2e-5):
    """The lines starting with `prefixes` are the same text with the same numbers (within
    tolerances: the frameworks round float32 differently)."""
    a, b = lines(ours, prefixes), lines(theirs, prefixes)
    assert len(a) == len(b) and a, f"nnfast:\n{a}\nKeras:\n{b}"
    for x, y in zip(a, b):
        assert NUMBER.sub("#", x) == NUMBER.sub("#", y), f"nnfast: {x}\nKeras:  {y}"
        nx = [float(n.replace(",", "")) for n in NUMBER.findall(x)]
        ny = [float(n.replace(",", "")) for n in NUMBER.findall(y)]
        np.testing.assert_allclose(nx, ny, rtol=rtol, atol=atol, err_msg=f"nnfast: {x}\nKeras:  {y}")


# --------------------------------------------------------------------------------------------------
# programs on nnfast
# --------------------------------------------------------------------------------------------------

def write_learnable_mnist(path, n_train=2000, n_test=500):
    """A small mnist.npz in the real format whose digits can be told apart: digit d lights a 6x6
    block at its own place, over noise."""
    rng = np.random.default_rng(0)
    arrays = {}
    for part, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 90, (n, 28, 28)).astype(np.uint8)
        for i, d in enumerate(y):
            r, c = 2 + 8 * (d // 4), 2 + 6 * (d % 4)
            x[i, r:r + 6, c:c + 6] = rng.integers(160, 256, (6, 6))
        arrays[f"x_{part}"], arrays[f"y_{part}"] = x, y
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def test_mnist_mlp_reads_the_cached_dataset_and_learns(tmp_path):
    cached = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    write_learnable_mnist(cached)
    # the file is not Keras's, so the loader must accept its checksum instead of downloading
    digest = __import__("hashlib").sha256(cached.read_bytes()).hexdigest()
    out = succeeded(run_on_nnfast(tmp_path, "prog_mnist_mlp.py",
                                  prelude=f"import nnfast.keras.datasets.mnist as m\nm.FILE_HASH = {digest!r}"))
    assert "x_train shape: (2000, 28, 28) uint8" in out
    assert "2000 train samples" in out and "500 test samples" in out
    assert "Total params: 109,386" in out  # 784*128+128 + 128*64+64 + 64*10+10
    assert value(out, "Test accuracy:") > 0.9
    assert value(out, "final val_accuracy:") > 0.9
    assert "predictions shape: (10, 10)" in out
    assert "Epoch 5/5" in out  # verbose=2 prints each epoch


def test_binary_classifier_with_class_weights_and_early_stopping(tmp_path):
    out = succeeded(run_on_nnfast(tmp_path, "prog_binary_classifier.py"))
    assert "positives: 20.0%" in out
    assert value(out, "epochs run:") <= 40
    assert value(out, "auc:") > 0.9
    assert value(out, "accuracy:") > 0.85
    assert value(out, "precision:") > 0.6 and value(out, "recall:") > 0.5
    assert value(out, "loss:") < 0.4


def test_pandas_program_adapts_normalization_and_reloads_the_best_checkpoint(tmp_path):
    pytest.importorskip("pandas")
    out = succeeded(run_on_nnfast(tmp_path, "prog_pandas_tabular.py"))
    assert (tmp_path / "best_model.npz").is_file()
    assert lines(out, "adapted mean:")[0].split(":")[1] == lines(out, "column means:")[0].split(":")[1]
    assert "feature columns: ['area', 'rooms', 'age', 'city_east', 'city_north', 'city_south']" in out
    assert "ReduceLROnPlateau reducing learning rate" in out
    assert value(out, "test mae (best model):") < 0.3  # prices in hundreds: within 30 of ~330 on average


def test_save_load_json_and_seeded_runs_round_trip(tmp_path):
    out = succeeded(run_on_nnfast(tmp_path, "prog_save_load.py"))
    for check in ("same seed, same history", "load_model predictions equal", "load_model evaluate equal",
                  "continued training equal", "model_from_json predictions equal"):
        assert f"{check}: True" in out
    assert "json architecture layers: ['Dense', 'Dropout', 'Dense']" in out
    assert (tmp_path / "model.npz").is_file() and (tmp_path / "model.json").is_file()
    assert value(out, "accuracy:") > 0.6


def test_callbacks_program_stops_early_and_schedules_the_learning_rate(tmp_path):
    out = succeeded(run_on_nnfast(tmp_path, "prog_callbacks.py"))
    assert "history keys: ['accuracy', 'learning_rate', 'loss', 'val_accuracy', 'val_loss']" in out
    epochs = int(value(out, "epochs run:"))
    assert f"epochs run: {epochs} recorded: {epochs}" in out
    assert "stopped early: True" in out
    assert value(out, "final learning rate:") == pytest.approx(0.01 * 0.9 ** (epochs - 5), rel=1e-3)
    assert value(out, "val accuracy:") > 0.85
    assert value(out, "train_on_batch last loss:") < 0.3


# --------------------------------------------------------------------------------------------------
# programs on nnfast and on Keras 3: what does not depend on the framework must agree
# --------------------------------------------------------------------------------------------------

SUMMARY_TOTALS = ("Model:", "Total params:", "Trainable params:", "Non-trainable params:")
# the compared lines come before training: Keras trains one epoch only, to save time
KERAS_ARGS = ("--epochs", "1")


def test_two_input_functional_model_agrees_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_two_inputs.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_two_inputs.py"))
    assert "frozen layer unchanged: True" in out
    assert value(out, "trained acc:") > 0.9
    assert_agree(out, keras_output(keras),
                 SUMMARY_TOTALS + ("params", "weight shapes:", "fixed-weights"))


def test_wide_and_deep_with_newer_layers_agrees_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_wide_and_deep.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_wide_and_deep.py"))
    assert value(out, "trained acc:") > 0.9
    assert_agree(out, keras_output(keras), SUMMARY_TOTALS + ("params", "layer types:", "fixed-weights"))


def test_churn_table_of_dummies_program_agrees_with_keras(tmp_path):
    pytest.importorskip("pandas")
    keras = start_on_keras(tmp_path, "prog_churn_dummies.py")
    out = succeeded(run_on_nnfast(tmp_path, "prog_churn_dummies.py"))
    assert "final accuracy above 0.8: True" in out
    assert_agree(out, keras_output(keras), ("dtypes:", "│", "┃", "Total params", "history keys:", "final accuracy",
                                             "fixed test_on_batch", "fixed predict_on_batch", "fixed evaluate"))


def test_tensorflow_style_imbalanced_program_agrees_with_keras(tmp_path):
    pytest.importorskip("sklearn")
    keras = start_on_keras(tmp_path, "prog_tf_imbalanced.py")
    out = succeeded(run_on_nnfast(tmp_path, "prog_tf_imbalanced.py"))
    assert "versions: 2 3" in out
    # val_precision rises: EarlyStopping (mode "auto", maximizing precision) lets all six epochs run
    assert len(next(line for line in out.splitlines() if line.startswith("fixed losses:")).split()) == 2 + 6
    assert_agree(out, keras_output(keras), ("versions:", "│", "┃", "Total params", "Trainable params", "fixed",
                                             "history keys:", "Epoch "))


def test_embeddings_and_dot_programs_agree_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_embeddings.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_embeddings.py"))
    assert value(out, "recommender mse / variance:") < 0.2
    assert value(out, "tabular acc:") > 0.9
    assert_agree(out, keras_output(keras), SUMMARY_TOTALS + ("recommender params:", "fixed-weights"))


def test_text_classifier_program_agrees_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_text_classifier.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_text_classifier.py"))
    assert value(out, "average-pooled acc:") > 0.85 and value(out, "max-pooled acc:") > 0.8
    assert_agree(out, keras_output(keras), SUMMARY_TOTALS + ("padded:", "post-padded:", "fixed-weights"))


def write_learnable_reuters(folder, n=4000, vocabulary=1200):
    """reuters.npz in the real format (ragged word-index lists, int64 topics) whose topic can be read
    from the words: topic t's newswires use words from its own band of 20 most of the time, and its
    word index (JSON) naming word i "w<i>". Returns the npz's sha256 and the index's md5."""
    rng = np.random.default_rng(8)
    x, y = np.empty(n, dtype=object), rng.integers(0, 46, n)
    for i, t in enumerate(y):
        length = int(rng.integers(8, 40))
        own = rng.integers(20 + 20 * t, 40 + 20 * t, length)
        x[i] = [int(w) for w in np.where(rng.random(length) < 0.7, own, rng.integers(1, vocabulary, length))]
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "reuters.npz", x=x, y=y)
    (folder / "reuters_word_index.json").write_text(
        "{" + ", ".join(f'"w{i}": {i}' for i in range(1, vocabulary)) + "}")
    digest = __import__("hashlib")
    return (digest.sha256((folder / "reuters.npz").read_bytes()).hexdigest(),
            digest.md5((folder / "reuters_word_index.json").read_bytes()).hexdigest())


def test_reuters_mlp_program_agrees_with_keras(tmp_path):
    npz_hash, index_hash = write_learnable_reuters(tmp_path / "keras" / "keras_home" / "datasets")
    # Keras checks its own hashes inside load_data: its loader is pointed at the synthetic files
    keras = start_on_keras(tmp_path, "prog_reuters_mlp.py", *KERAS_ARGS, prelude=(
        "import os\nimport keras.src.datasets.reuters as r\n"
        "r.get_file = lambda fname, **kw: os.path.join(os.environ['KERAS_HOME'], 'datasets', fname)"))
    write_learnable_reuters(tmp_path / "keras_home" / "datasets")
    out = succeeded(run_on_nnfast(tmp_path, "prog_reuters_mlp.py", prelude=(
        f"import nnfast.keras.datasets.reuters as r\nr.FILE_HASH = {npz_hash!r}\nr.WORD_INDEX_HASH = {index_hash!r}")))
    assert "newswires: 3200 800 topics: 46" in out
    assert "vectorized: (3200, 1000) float64 (3200, 46)" in out
    assert "history keys: ['accuracy', 'loss', 'val_accuracy', 'val_loss']" in out
    assert value(out, "test accuracy:") > 0.8
    assert "prediction sums to one: True (800, 46)" in out
    assert_agree(out, keras_output(keras), SUMMARY_TOTALS + ("newswires:", "decoded:", "first topic:", "vectorized:",
                                                             "fixed-weights"))


def test_fine_tuning_program_agrees_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_fine_tuning.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_fine_tuning.py"))
    assert "base unchanged: True" in out and "base moved: True" in out
    assert "head only: Trainable params: 68 " in out  # the head's 16x4 kernel and bias
    assert value(out, "fine-tuned accuracy:") > 0.9
    assert_agree(out, keras_output(keras), ("fixed-weights", "trained:", "head only:", "recompiled:", "fine-tuned:",
                                            "base "))


def test_regression_with_layer_normalization_agrees_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_regression.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_regression.py"))
    assert value(out, "test mse:") < 0.6
    assert "scalar evaluate: float" in out
    assert_agree(out, keras_output(keras), SUMMARY_TOTALS + ("fixed-weights",))


def test_activation_layers_program_agrees_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_activation_layers.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_activation_layers.py"))
    assert value(out, "trained acc:") > 0.85
    assert_agree(out, keras_output(keras),
                 SUMMARY_TOTALS + ("params total:", "layer names:", "fixed-weights"))


def test_batchnorm_mlp_agrees_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_batchnorm_mlp.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_batchnorm_mlp.py"))
    assert value(out, "test accuracy:") > 0.9
    assert_agree(out, keras_output(keras),
                 SUMMARY_TOTALS + ("params", "fixed-weights"))


def test_logging_and_checkpoint_callbacks_agree_with_keras(tmp_path):
    keras = start_on_keras(tmp_path, "prog_logging_callbacks.py", *KERAS_ARGS)
    out = succeeded(run_on_nnfast(tmp_path, "prog_logging_callbacks.py"))
    assert "csv rows: 8" in out and "batches counted: 64" in out  # 8 epochs of 8 batches
    assert "epochs seen by the lambda: [0, 1, 2, 3, 4, 5, 6, 7]" in out
    assert "reloaded best val_loss matches the log: True" in out
    assert value(out, "val accuracy:") > 0.85
    assert_agree(out, keras_output(keras), ("csv header:", "reloaded best", "layer names:"))


# --------------------------------------------------------------------------------------------------
# Keras 2 arguments (issue #13): they work, or the error names the argument
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "argument"), [("prog_keras2_sgd.py", "lr"), ("prog_keras2_adam_decay.py", "decay")])
def test_keras2_optimizer_arguments_work_or_fail_naming_the_argument(tmp_path, name, argument):
    done = run_on_nnfast(tmp_path, name)
    if done.returncode == 0:
        assert value(done.stdout, "accuracy:") > 0.8
        return
    assert done.returncode == 1 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert re.match(r"(TypeError|ValueError|NotImplementedError|nnfast\.keras\.UnsupportedFeatureError): ", last), last
    assert re.search(rf"\b{argument}\b", last), last
