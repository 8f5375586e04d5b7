"""Lion (Keras 3 Lion; torch.optim has no Lion, so only the keras convention exists)."""
from ..utils import checks
from .base import Optimizer, arguments


class Lion(Optimizer):
    """Lion, as keras.optimizers.Lion. Calls ``ops.lion_update``.

    ``w -= lr*wd*w; w -= lr*sign(b1*m + (1-b1)*g); m = b2*m + (1-b2)*g``. beta_1 in (0, 1] as
    Keras requires; ``convention`` must be "keras".
    """

    UPDATE_KERNEL = "lion_update"
    USES_STEP = False
    HYPERPARAMETERS = {"learning_rate": (1e-3, 1e-3), "beta_1": (0.9, 0.9), "beta_2": (0.99, 0.99),
                       "weight_decay": (0.0, 0.0)}
    DEFAULT_NAME = "lion"

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, convention="keras", name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        if convention != "keras":
            raise ValueError(f"convention must be 'keras' (torch.optim has no Lion), got {convention!r}")
        hp["beta_1"] = checks.real("beta_1", hp["beta_1"], 0.0, 1.0, lo_open=True)
        hp["beta_2"] = checks.real("beta_2", hp["beta_2"], 0.0, 1.0)

    def layout(self, hp):
        return ("momentums",)

    def call_kwargs(self, hp, convention):
        return dict(beta_1=hp["beta_1"], beta_2=hp["beta_2"], weight_decay=hp["weight_decay"],
                    convention=convention)

    beta_1 = property(lambda self: self._hyper["beta_1"])
    beta_2 = property(lambda self: self._hyper["beta_2"])
