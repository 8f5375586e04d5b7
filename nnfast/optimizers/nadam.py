"""Nadam, in the Keras and the torch convention."""
from ..utils import checks
from .adam import check_moments
from .base import Optimizer, arguments


class Nadam(Optimizer):
    """Nadam (Adam with Nesterov momentum). Calls ``ops.nadam_update``.

    The momentum cache is ``mu_t = b1*(1 - 0.5*0.96^(t*psi))`` with its running product, computed
    in double each step: Keras 3 Nadam has psi = 1, torch.optim.NAdam psi = ``momentum_decay``
    (4e-3). keras: weight decay decoupled; ``mhat = mu_{t+1}*m/(1-prod_{t+1}) + (1-mu_t)*g/(1-prod_t)``,
    ``w -= lr*mhat/(sqrt(v/(1-b2^t)) + eps)``. torch: ``maximize``, ``decoupled_weight_decay``
    (else L2), the same step written as two ``addcdiv``. ``momentum_decay``,
    ``decoupled_weight_decay`` and ``maximize`` exist only in torch.
    """

    UPDATE_KERNEL = "nadam_update"
    KERAS_SCALARS = 1  # Keras keeps the momentum cache's running product in a variable
    HYPERPARAMETERS = {"learning_rate": (1e-3, 2e-3), "beta_1": (0.9, 0.9), "beta_2": (0.999, 0.999),
                       "epsilon": (1e-7, 1e-8), "weight_decay": (0.0, 0.0), "momentum_decay": (0.0, 4e-3),
                       "decoupled_weight_decay": (False, False), "maximize": (False, False)}
    TORCH_ONLY = ("momentum_decay", "decoupled_weight_decay", "maximize")
    DEFAULT_NAME = "nadam"

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, epsilon=None, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, convention="keras",
                 momentum_decay=None, decoupled_weight_decay=None, maximize=None, name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        check_moments(hp)
        hp["momentum_decay"] = checks.real("momentum_decay", hp["momentum_decay"])
        hp["decoupled_weight_decay"] = checks.flag("decoupled_weight_decay", hp["decoupled_weight_decay"])
        hp["maximize"] = checks.flag("maximize", hp["maximize"])

    def layout(self, hp):
        return ("momentums", "velocities")

    def call_kwargs(self, hp, convention):
        return dict(beta_1=hp["beta_1"], beta_2=hp["beta_2"], epsilon=hp["epsilon"],
                    momentum_decay=hp["momentum_decay"], weight_decay=hp["weight_decay"],
                    decoupled_weight_decay=hp["decoupled_weight_decay"], maximize=hp["maximize"],
                    convention=convention)

    beta_1 = property(lambda self: self._hyper["beta_1"])
    beta_2 = property(lambda self: self._hyper["beta_2"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    momentum_decay = property(lambda self: self._hyper["momentum_decay"])
    decoupled_weight_decay = property(lambda self: self._hyper["decoupled_weight_decay"])
    maximize = property(lambda self: self._hyper["maximize"])
