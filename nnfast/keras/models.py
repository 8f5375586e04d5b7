"""keras.models on nnfast: the model classes and functions nnfast.models exports under Keras names
(Sequential, load_model, save_model; Model and model_from_json once the library has them)."""
from .namespace import mirror

mirror(globals(), "keras.models", ("nnfast.models",))
