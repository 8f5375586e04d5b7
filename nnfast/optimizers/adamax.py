"""Adamax, in the Keras and the torch convention."""
from ..utils import checks
from .adam import check_moments
from .base import Optimizer, arguments


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm). Calls ``ops.adamax_update``.

    keras: ``w -= lr*wd*w; m += (1-b1)(g-m); u = max(b2*u, |g|); w -= lr*m/((1-b1^t)(u + eps))``.
    torch: ``g = -g`` (maximize); ``g += wd*w; m += (1-b1)(g-m); u = max(b2*u, |g| + eps);
    w -= lr/(1-b1^t)*m/u``. ``maximize`` exists only in torch.
    """

    UPDATE_KERNEL = "adamax_update"
    HYPERPARAMETERS = {"learning_rate": (1e-3, 2e-3), "beta_1": (0.9, 0.9), "beta_2": (0.999, 0.999),
                       "epsilon": (1e-7, 1e-8), "weight_decay": (0.0, 0.0), "maximize": (False, False)}
    TORCH_ONLY = ("maximize",)
    DEFAULT_NAME = "adamax"

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, epsilon=None, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, convention="keras", maximize=None,
                 name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        check_moments(hp)
        hp["maximize"] = checks.flag("maximize", hp["maximize"])

    def layout(self, hp):
        return ("momentums", "norms")

    def call_kwargs(self, hp, convention):
        return dict(beta_1=hp["beta_1"], beta_2=hp["beta_2"], epsilon=hp["epsilon"],
                    weight_decay=hp["weight_decay"], maximize=hp["maximize"], convention=convention)

    beta_1 = property(lambda self: self._hyper["beta_1"])
    beta_2 = property(lambda self: self._hyper["beta_2"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    maximize = property(lambda self: self._hyper["maximize"])
