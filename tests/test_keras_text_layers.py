"""The layers and helpers of small text and pooled models against Keras 3 (torch backend):
GlobalAveragePooling1D/2D/3D, GlobalMaxPooling1D/2D/3D and UnitNormalization (outputs and
gradients against torch's autograd of Keras's own layers, ties and zero vectors included; training
parity of an embedding-bag text classifier: equal initial weights, shuffle=False, 5 epochs), and
keras.utils.pad_sequences (equal to Keras's)."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
import nnfast.keras as nk  # noqa: E402
from nnfast import backends  # noqa: E402

from test_keras_parity_models import OPTIMIZERS, assert_same_training  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def assert_layer_matches_torch(ours, theirs, x, rtol=1e-5):
    """Our layer's output and input gradient equal Keras's layer's under torch's autograd."""
    t = torch.tensor(x, requires_grad=True)
    out = theirs(t)
    dy = np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(x.dtype)
    out.backward(torch.tensor(dy))
    assert (None,) + ours.build(x.shape[1:]) == tuple(theirs.compute_output_shape((None,) + x.shape[1:]))
    native = backends.get("native")
    np.testing.assert_allclose(ours.forward(native, x, True), out.detach().numpy(), rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(ours.backward(native, dy, True), t.grad.numpy(), rtol=rtol, atol=1e-6,
                               equal_nan=True)


@pytest.mark.parametrize("kind", ["GlobalAveragePooling", "GlobalMaxPooling"])
@pytest.mark.parametrize("dimensions", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_keras(kind, dimensions, data_format, keepdims):
    rng = np.random.default_rng(dimensions)
    shape = (4,) + (3, 5, 2)[:dimensions] + (6,)
    x = rng.integers(-2, 3, shape).astype(np.float32)  # few distinct values: the maximum ties often
    name = f"{kind}{dimensions}D"
    assert_layer_matches_torch(getattr(nk.layers, name)(data_format=data_format, keepdims=keepdims),
                               getattr(keras.layers, name)(data_format=data_format, keepdims=keepdims), x)


def test_pooling_aliases_names_and_refusals():
    nk.backend.clear_session()
    keras.backend.clear_session()
    for name in ("GlobalAveragePooling1D", "GlobalMaxPool2D", "UnitNormalization", "GlobalAveragePooling1D"):
        assert getattr(nk.layers, name)().name == getattr(keras.layers, name)().name  # "global_average_pooling1d"
    assert nk.layers.GlobalAvgPool1D is nk.layers.GlobalAveragePooling1D
    assert nk.layers.GlobalMaxPool2D is nk.layers.GlobalMaxPooling2D
    with pytest.raises(ValueError, match="3 axes"):
        nk.layers.GlobalAveragePooling2D()(nk.Input(shape=(4, 5)))
    with pytest.raises(ValueError, match="data_format"):
        nk.layers.GlobalMaxPooling1D(data_format="channels_middle")


@pytest.mark.parametrize("axis", [-1, 1, 2, [1, 2]])
def test_unit_normalization_matches_keras(axis):
    x = np.random.default_rng(2).standard_normal((5, 3, 4)).astype(np.float32)
    x[0] = 0.0  # zero vectors: the bound 1/epsilon takes over in the output, NaN in the gradient (torch's)
    assert_layer_matches_torch(nk.layers.UnitNormalization(axis=axis), keras.layers.UnitNormalization(axis=axis), x,
                               rtol=1e-4)
    with pytest.raises(ValueError, match="out of bounds"):
        nk.layers.UnitNormalization(axis=3)(nk.Input(shape=(3, 4)))
    with pytest.raises(TypeError, match="axis"):
        nk.layers.UnitNormalization(axis="last")


def text_classifier(pooling):
    def build(K):
        return K.Sequential([K.Input(shape=(10,)), K.layers.Embedding(40, 8), getattr(K.layers, pooling)(),
                             K.layers.Dense(8, activation="relu"), K.layers.UnitNormalization(),
                             K.layers.Dense(1, activation="sigmoid")])
    return build


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("pooling", ["GlobalAveragePooling1D", "GlobalMaxPooling1D"])
def test_an_embedding_bag_text_classifier_trains_as_keras(pooling, optimizer):
    rng = np.random.default_rng(3)
    words = rng.integers(1, 40, (96, 10))
    label = (words < 12).sum(axis=1) > 2
    ours, theirs = text_classifier(pooling)(nk), text_classifier(pooling)(keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for model, K in ((ours, nk), (theirs, keras)):
        model.compile(optimizer=OPTIMIZERS[optimizer](K), loss="binary_crossentropy", metrics=["accuracy"])
        histories.append(model.fit(words, label.astype(np.float32), batch_size=16, epochs=5, shuffle=False,
                                   verbose=0).history)
    assert_same_training(ours, theirs, histories)


@pytest.mark.parametrize("arguments", [
    {}, {"maxlen": 3}, {"maxlen": 3, "truncating": "post"}, {"padding": "post"}, {"maxlen": 6, "padding": "post"},
    {"value": -1}, {"dtype": "float32", "value": 0.5}, {"maxlen": 0}])
def test_pad_sequences_equals_keras(arguments):
    sequences = [[1, 2, 3, 4], [], [5], [6, 7, 8, 9, 10], np.array([11, 12])]
    ours = nk.utils.pad_sequences(sequences, **arguments)
    theirs = keras.utils.pad_sequences(sequences, **arguments) if arguments.get("maxlen") != 0 else \
        np.zeros((5, 0), np.int32)  # Keras fails on maxlen=0 (it keeps a whole sequence)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_of_vectors_and_strings_and_bad_arguments():
    vectors = [np.ones((2, 3)), np.zeros((4, 3))]
    np.testing.assert_array_equal(nk.utils.pad_sequences(vectors, maxlen=3, dtype="float32"),
                                  keras.utils.pad_sequences(vectors, maxlen=3, dtype="float32"))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(nk.utils.pad_sequences(words, dtype=object, value=""),
                                  keras.utils.pad_sequences(words, dtype=object, value=""))
    assert nk.utils.pad_sequences([]).shape == (0, 0)
    for bad, match in [({"padding": "middle"}, "padding"), ({"truncating": "both"}, "truncating"),
                       ({"maxlen": -1}, "maxlen"), ({"value": "x"}, "dtype")]:
        with pytest.raises(ValueError, match=match):
            nk.utils.pad_sequences([[1, 2]], **bad)
    with pytest.raises(ValueError, match="shape"):
        nk.utils.pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
