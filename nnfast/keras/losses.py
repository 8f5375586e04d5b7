"""keras.losses on nnfast: Keras 3's loss classes (``MeanSquaredError(reduction=..., name=...)``,
``loss(y_true, y_pred, sample_weight=None)``), the loss functions by name (per-sample values),
``Loss``, ``get``, ``serialize`` and ``deserialize``, re-exported from ``nnfast.losses`` by the
namespace rule. ``get("mse")`` gives a Loss object (Keras gives the function); compile takes either."""
from .namespace import mirror

mirror(globals(), "keras.losses", ("nnfast.losses",))
