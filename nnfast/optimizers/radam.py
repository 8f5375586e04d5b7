"""RAdam (torch.optim.RAdam; Keras 3 has no RAdam, so only the torch convention exists)."""
from ..utils import checks
from .adam import check_moments
from .base import Optimizer, arguments


class RAdam(Optimizer):
    """Rectified Adam, as torch.optim.RAdam. Calls ``ops.radam_update``.

    ``g = -g`` (maximize); ``w *= 1 - lr*wd`` (decoupled_weight_decay) or ``g += wd*w``; Adam's
    moments; with ``rho_inf = 2/(1-b2) - 1`` and ``rho_t = rho_inf - 2t*b2^t/(1-b2^t)``: when
    ``rho_t > 5`` the adaptive step times the rectification term, else the bias-corrected momentum
    step ``w -= lr*m/(1-b1^t)``. ``convention`` must be "torch" (the default here).
    """

    UPDATE_KERNEL = "radam_update"
    HYPERPARAMETERS = {"learning_rate": (1e-3, 1e-3), "beta_1": (0.9, 0.9), "beta_2": (0.999, 0.999),
                       "epsilon": (1e-8, 1e-8), "weight_decay": (0.0, 0.0),
                       "decoupled_weight_decay": (False, False), "maximize": (False, False)}
    DEFAULT_NAME = "radam"

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, epsilon=None, weight_decay=None,
                 decoupled_weight_decay=None, maximize=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, convention="torch", name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        if convention != "torch":
            raise ValueError(f"convention must be 'torch' (Keras 3 has no RAdam), got {convention!r}")
        check_moments(hp)
        hp["decoupled_weight_decay"] = checks.flag("decoupled_weight_decay", hp["decoupled_weight_decay"])
        hp["maximize"] = checks.flag("maximize", hp["maximize"])

    def layout(self, hp):
        return ("momentums", "velocities")

    def call_kwargs(self, hp, convention):
        return dict(beta_1=hp["beta_1"], beta_2=hp["beta_2"], epsilon=hp["epsilon"],
                    weight_decay=hp["weight_decay"], decoupled_weight_decay=hp["decoupled_weight_decay"],
                    maximize=hp["maximize"], convention=convention)

    beta_1 = property(lambda self: self._hyper["beta_1"])
    beta_2 = property(lambda self: self._hyper["beta_2"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    decoupled_weight_decay = property(lambda self: self._hyper["decoupled_weight_decay"])
    maximize = property(lambda self: self._hyper["maximize"])
