"""The Keras 2 names that TensorFlow's ``tf.keras`` keeps beside Keras 3's (``keras._tf_keras.keras``),
and the rule that makes a module of this package nnfast.keras's module plus those names."""
import importlib

__all__ = ["LOSS_ALIASES", "follow"]

# alias -> the Keras 3 function it names, in tf.keras.losses and tf.keras.metrics alike
LOSS_ALIASES = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "KLD": "kl_divergence", "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh",
}


def follow(namespace, source, aliases=None):
    """Make the module whose globals are `namespace` stand for the module `source` plus `aliases`
    (alias -> the source's name): every other attribute is the source's own, so that a name nnfast
    lacks raises the source's error, and the objects are the very same."""
    module = importlib.import_module(source)
    aliases = aliases or {}
    for alias, name in aliases.items():
        namespace[alias] = getattr(module, name)

    def __getattr__(name):
        return getattr(module, name)

    def __dir__():
        return sorted(set(dir(module)) | set(namespace))

    exported = set(getattr(module, "__all__", ())) | set(aliases)
    namespace.update(__all__=sorted(exported), __getattr__=__getattr__, __dir__=__dir__)
