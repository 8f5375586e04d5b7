"""Adam (AMSGrad) and AdamW, in the Keras and the torch convention."""
from ..utils import checks
from .base import Optimizer, arguments


def check_moments(hp):
    """beta_1 and beta_2 in [0, 1) and epsilon >= 0: the moment hyperparameters Adam's family shares."""
    hp["beta_1"] = checks.real("beta_1", hp["beta_1"], 0.0, 1.0, hi_open=True)
    hp["beta_2"] = checks.real("beta_2", hp["beta_2"], 0.0, 1.0, hi_open=True)
    hp["epsilon"] = checks.real("epsilon", hp["epsilon"])


class Adam(Optimizer):
    """Adam, optionally AMSGrad. Calls ``ops.adam_update``.

    keras: ``alpha = lr*sqrt(1-b2^t)/(1-b1^t); m += (1-b1)(g-m); v += (1-b2)(g^2-v);
    w -= alpha*m/(sqrt(v) + eps)``, weight decay decoupled. torch: bias-corrected form with
    ``eps`` added to ``sqrt(v)/sqrt(bc2)``, weight decay as L2 (``g += wd*w``). ``maximize`` (the
    gradient negated first, before weight decay) exists only in torch.
    """

    UPDATE_KERNEL = "adam_update"
    HYPERPARAMETERS = {"learning_rate": (1e-3, 1e-3), "beta_1": (0.9, 0.9), "beta_2": (0.999, 0.999),
                       "epsilon": (1e-7, 1e-8), "amsgrad": (False, False), "weight_decay": (0.0, 0.0),
                       "maximize": (False, False)}
    TORCH_ONLY = ("maximize",)
    DEFAULT_NAME = "adam"
    DECOUPLED_WEIGHT_DECAY = False

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, epsilon=None, amsgrad=None,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 convention="keras", maximize=None, name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        check_moments(hp)
        hp["amsgrad"] = checks.flag("amsgrad", hp["amsgrad"])
        hp["maximize"] = checks.flag("maximize", hp["maximize"])

    def layout(self, hp):
        return ("momentums", "velocities", "velocity_hats" if hp["amsgrad"] else None)

    def call_kwargs(self, hp, convention):
        return dict(beta_1=hp["beta_1"], beta_2=hp["beta_2"], epsilon=hp["epsilon"],
                    amsgrad=hp["amsgrad"], weight_decay=hp["weight_decay"],
                    decoupled_weight_decay=self.DECOUPLED_WEIGHT_DECAY, maximize=hp["maximize"],
                    convention=convention)

    beta_1 = property(lambda self: self._hyper["beta_1"])
    beta_2 = property(lambda self: self._hyper["beta_2"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    amsgrad = property(lambda self: self._hyper["amsgrad"])
    maximize = property(lambda self: self._hyper["maximize"])


class AdamW(Adam):
    """Adam with decoupled weight decay: Keras 3 AdamW (wd 0.004) or torch.optim.AdamW (wd 1e-2,
    ``w *= 1 - lr*wd`` before the Adam step). ``weight_decay=None`` means the convention's default.
    """

    HYPERPARAMETERS = dict(Adam.HYPERPARAMETERS, weight_decay=(0.004, 1e-2))
    DEFAULT_NAME = "adamw"
    DECOUPLED_WEIGHT_DECAY = True

    def __init__(self, learning_rate=None, weight_decay=None, beta_1=None, beta_2=None, epsilon=None,
                 amsgrad=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 convention="keras", maximize=None, name=None):
        super().__init__(**arguments(locals()))

