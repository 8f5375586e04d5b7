"""Layers with Keras 3's names and arguments: Dense, Activation, ReLU, LeakyReLU, ELU, PReLU,
Softmax, Dropout, GaussianNoise, GaussianDropout, AlphaDropout, InputLayer, Flatten, Reshape,
Rescaling, the merges Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot (and
their functional forms add, subtract, ..., dot), BatchNormalization, LayerNormalization, Normalization,
ActivityRegularization, Embedding, UnitNormalization, GlobalAveragePooling1D/2D/3D and
GlobalMaxPooling1D/2D/3D (with Keras's aliases GlobalAvgPool1D, GlobalMaxPool1D, ...), and Lambda
(its function on NumPy arrays, with no gradient through it).

A layer declares its weights (WeightSpec); the model allocates them in its arenas and binds views
(see base.py). ``LAYERS`` maps class names to classes (for configs and saved models)."""
from .base import Layer, WeightSpec, reset_names
from .activation_layers import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax
from .core import Dense, Dropout
from .embedding import Embedding
from .lambda_layer import Lambda
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
                      concatenate, dot, maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization, Normalization
from .pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalAvgPool1D,
                      GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D)
from .regularization import ActivityRegularization
from .noise import AlphaDropout, GaussianDropout, GaussianNoise
from .rescaling import Rescaling
from .unit_normalization import UnitNormalization
from .reshaping import Flatten, InputLayer, Reshape

__all__ = ["Layer", "WeightSpec", "Dense", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout",
           "GaussianNoise", "GaussianDropout", "AlphaDropout", "InputLayer", "Flatten", "Reshape", "Rescaling", "Add",
           "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate", "dot", "BatchNormalization", "LayerNormalization",
           "Normalization", "ActivityRegularization", "Embedding", "UnitNormalization", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
           "GlobalMaxPooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
           "GlobalMaxPool2D", "GlobalMaxPool3D", "Lambda", "LAYERS", "reset_names"]

LAYERS = {cls.__name__: cls for cls in (Dense, Activation, ReLU, LeakyReLU, ELU, PReLU, Softmax, Dropout,
                                        GaussianNoise, GaussianDropout, AlphaDropout, InputLayer, Flatten, Reshape,
                                        Rescaling, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate,
                                        Dot, BatchNormalization, LayerNormalization, Normalization,
                                        ActivityRegularization, Embedding, UnitNormalization, GlobalAveragePooling1D,
                                        GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalMaxPooling1D,
                                        GlobalMaxPooling2D, GlobalMaxPooling3D, Lambda)}
