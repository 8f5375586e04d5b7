"""keras.metrics on nnfast: Keras 3's metric classes (update_state / result / reset_state), the
accuracy functions, ``Metric``, ``Mean``, ``MeanMetricWrapper``, ``get``, ``serialize`` and
``deserialize`` from ``nnfast.metrics``, and the loss functions Keras also exports here
(``keras.metrics.mean_squared_error`` and friends) from ``nnfast.losses.functions``, by the
namespace rule. nnfast.losses' classes are not taken: a keras.metrics class is a metric."""
from .namespace import mirror

mirror(globals(), "keras.metrics", ("nnfast.metrics", "nnfast.losses.functions"))
