"""RMSprop (centered, with momentum), in the Keras and the torch convention."""
from ..utils import checks
from .base import Optimizer, arguments


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum. Calls ``ops.rmsprop_update``.

    keras: ``v = rho*v + (1-rho)*g^2; w -= lr*g/sqrt(v + eps)`` (centered: ``v - a^2``; momentum
    keeps lr inside the buffer). torch (rho is torch's alpha): ``w -= lr*g/(sqrt(v) + eps)``;
    momentum ``b = momentum*b + g/denom; w -= lr*b``. ``maximize`` (the gradient negated first,
    before weight decay) exists only in torch.
    """

    UPDATE_KERNEL = "rmsprop_update"
    USES_STEP = False
    HYPERPARAMETERS = {"learning_rate": (1e-3, 1e-2), "rho": (0.9, 0.99), "momentum": (0.0, 0.0),
                       "epsilon": (1e-7, 1e-8), "centered": (False, False), "weight_decay": (0.0, 0.0),
                       "maximize": (False, False)}
    TORCH_ONLY = ("maximize",)
    DEFAULT_NAME = "rmsprop"

    def __init__(self, learning_rate=None, rho=None, momentum=None, epsilon=None, centered=None,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 convention="keras", maximize=None, name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        hp["rho"] = checks.real("rho", hp["rho"], 0.0, 1.0, hi_open=True)
        hp["momentum"] = checks.real("momentum", hp["momentum"], 0.0, 1.0)
        hp["epsilon"] = checks.real("epsilon", hp["epsilon"])
        hp["centered"] = checks.flag("centered", hp["centered"])
        hp["maximize"] = checks.flag("maximize", hp["maximize"])

    def layout(self, hp):
        return ("velocities", "average_gradients" if hp["centered"] else None,
                "momentums" if hp["momentum"] else None)

    def call_kwargs(self, hp, convention):
        return dict(rho=hp["rho"], epsilon=hp["epsilon"], momentum=hp["momentum"],
                    centered=hp["centered"], weight_decay=hp["weight_decay"], maximize=hp["maximize"],
                    convention=convention)

    rho = property(lambda self: self._hyper["rho"])
    momentum = property(lambda self: self._hyper["momentum"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    centered = property(lambda self: self._hyper["centered"])
    maximize = property(lambda self: self._hyper["maximize"])
