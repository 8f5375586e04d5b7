"""ActivityRegularization: the identity, adding l1 * sum(|y|) + l2 * sum(y^2), divided by the batch
size, to the loss (Keras 3's layer: an activity_regularizer L1L2(l1, l2) on an identity)."""
from .. import regularizers
from ..utils import checks
from .base import IdentityLayer


class ActivityRegularization(IdentityLayer):
    """The identity with an L1L2(l1, l2) activity regularizer."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        self.l1 = checks.real("l1", l1)
        self.l2 = checks.real("l2", l2)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=self.l1, l2=self.l2), **kwargs)

    def get_config(self):
        config = self.base_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
