"""``keras.activations`` on nnfast: Keras 3's activation functions and get/serialize/deserialize,
re-exported from ``nnfast.activations`` (NumPy arrays in, arrays of the input dtype out), by the
namespace rule: every name nnfast.activations exports that keras.activations has."""
from .namespace import mirror

mirror(globals(), "keras.activations", ("nnfast.activations",))
