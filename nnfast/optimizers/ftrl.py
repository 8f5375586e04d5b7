"""Ftrl (Keras 3 Ftrl; torch.optim has no Ftrl, so only the keras convention exists)."""
import math

from ..utils import checks
from .base import Optimizer, arguments


class Ftrl(Optimizer):
    """Follow-the-regularized-leader, as keras.optimizers.Ftrl. Calls ``ops.ftrl_update``.

    With ``p = -learning_rate_power``: ``acc1 = acc + g^2``; ``lin += g + 2*l2_shrinkage*w -
    (acc1^p - acc^p)/lr*w``; ``w = (clip(lin, -l1, l1) - lin)/(acc1^p/lr + 2*(l2 + beta/(2*lr)))``;
    the accumulators start at ``initial_accumulator_value``, weight decay is decoupled.
    ``convention`` must be "keras".
    """

    UPDATE_KERNEL = "ftrl_update"
    USES_STEP = False
    HYPERPARAMETERS = {"learning_rate": (1e-3, 1e-3), "learning_rate_power": (-0.5, -0.5),
                       "initial_accumulator_value": (0.1, 0.1), "l1_regularization_strength": (0.0, 0.0),
                       "l2_regularization_strength": (0.0, 0.0), "l2_shrinkage_regularization_strength": (0.0, 0.0),
                       "beta": (0.0, 0.0), "weight_decay": (0.0, 0.0)}
    DEFAULT_NAME = "ftrl"
    SLOT_INIT = {"accumulators": "initial_accumulator_value"}

    def __init__(self, learning_rate=None, learning_rate_power=None, initial_accumulator_value=None,
                 l1_regularization_strength=None, l2_regularization_strength=None,
                 l2_shrinkage_regularization_strength=None, beta=None, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, convention="keras", name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        if convention != "keras":
            raise ValueError(f"convention must be 'keras' (torch.optim has no Ftrl), got {convention!r}")
        hp["learning_rate_power"] = checks.real("learning_rate_power", hp["learning_rate_power"], -math.inf, 0.0)
        for key in ("initial_accumulator_value", "l1_regularization_strength", "l2_regularization_strength",
                    "l2_shrinkage_regularization_strength", "beta"):
            hp[key] = checks.real(key, hp[key])

    def layout(self, hp):
        return ("accumulators", "linears")

    def call_kwargs(self, hp, convention):
        return dict(learning_rate_power=hp["learning_rate_power"],
                    l1_regularization_strength=hp["l1_regularization_strength"],
                    l2_regularization_strength=hp["l2_regularization_strength"],
                    l2_shrinkage_regularization_strength=hp["l2_shrinkage_regularization_strength"],
                    beta=hp["beta"], weight_decay=hp["weight_decay"], convention=convention)

    learning_rate_power = property(lambda self: self._hyper["learning_rate_power"])
    initial_accumulator_value = property(lambda self: self._hyper["initial_accumulator_value"])
    l1_regularization_strength = property(lambda self: self._hyper["l1_regularization_strength"])
    l2_regularization_strength = property(lambda self: self._hyper["l2_regularization_strength"])
    l2_shrinkage_regularization_strength = property(lambda self: self._hyper["l2_shrinkage_regularization_strength"])
    beta = property(lambda self: self._hyper["beta"])
