"""Adadelta, in the Keras and the torch convention."""
from ..utils import checks
from .base import Optimizer, arguments


class Adadelta(Optimizer):
    """Adadelta. Calls ``ops.adadelta_update``.

    ``a = rho*a + (1-rho)*g^2; d = sqrt(ad + eps)*g/sqrt(a + eps); ad = rho*ad + (1-rho)*d^2;
    w -= lr*d``; keras: weight decay decoupled (lr 1e-3, rho 0.95, eps 1e-7); torch: ``maximize``,
    L2 weight decay (lr 1.0, rho 0.9, eps 1e-6). ``maximize`` exists only in torch.
    """

    UPDATE_KERNEL = "adadelta_update"
    USES_STEP = False
    HYPERPARAMETERS = {"learning_rate": (1e-3, 1.0), "rho": (0.95, 0.9), "epsilon": (1e-7, 1e-6),
                       "weight_decay": (0.0, 0.0), "maximize": (False, False)}
    TORCH_ONLY = ("maximize",)
    DEFAULT_NAME = "adadelta"

    def __init__(self, learning_rate=None, rho=None, epsilon=None, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, convention="keras", maximize=None, name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        hp["rho"] = checks.real("rho", hp["rho"], 0.0, 1.0)
        hp["epsilon"] = checks.real("epsilon", hp["epsilon"])
        hp["maximize"] = checks.flag("maximize", hp["maximize"])

    def layout(self, hp):
        return ("accumulated_grads", "accumulated_delta_vars")

    def call_kwargs(self, hp, convention):
        return dict(rho=hp["rho"], epsilon=hp["epsilon"], weight_decay=hp["weight_decay"],
                    maximize=hp["maximize"], convention=convention)

    rho = property(lambda self: self._hyper["rho"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    maximize = property(lambda self: self._hyper["maximize"])
