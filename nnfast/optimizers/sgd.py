"""SGD with optional (Nesterov) momentum, in the Keras and the torch convention."""
from ..utils import checks
from .base import Optimizer, arguments


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum. Calls ``ops.sgd_update``.

    keras: ``v = momentum*v - lr*g; w += v`` (nesterov: ``w += momentum*v - lr*g``); torch:
    ``b = g`` at step 1 else ``b = momentum*b + (1-dampening)*g; w -= lr*b`` (nesterov:
    ``w -= lr*(g + momentum*b)``). torch nesterov needs momentum > 0 and dampening == 0.
    ``dampening`` and ``maximize`` (the gradient negated first, before weight decay) exist only in torch.
    """

    UPDATE_KERNEL = "sgd_update"
    HYPERPARAMETERS = {"learning_rate": (0.01, 1e-3), "momentum": (0.0, 0.0), "nesterov": (False, False),
                       "weight_decay": (0.0, 0.0), "dampening": (0.0, 0.0), "maximize": (False, False)}
    TORCH_ONLY = ("dampening", "maximize")
    DEFAULT_NAME = "SGD"

    def __init__(self, learning_rate=None, momentum=None, nesterov=None, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, convention="keras",
                 dampening=None, maximize=None, name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        hp["momentum"] = checks.real("momentum", hp["momentum"], 0.0, 1.0)
        hp["nesterov"] = checks.flag("nesterov", hp["nesterov"])
        hp["dampening"] = checks.real("dampening", hp["dampening"], 0.0, 1.0)
        hp["maximize"] = checks.flag("maximize", hp["maximize"])
        if convention == "torch" and hp["nesterov"]:
            checks.torch_nesterov(hp["momentum"], hp["dampening"])

    def layout(self, hp):
        return ("momentums" if hp["momentum"] else None,)

    def call_kwargs(self, hp, convention):
        return dict(momentum=hp["momentum"], nesterov=hp["nesterov"], dampening=hp["dampening"],
                    weight_decay=hp["weight_decay"], maximize=hp["maximize"], convention=convention)

    momentum = property(lambda self: self._hyper["momentum"])
    nesterov = property(lambda self: self._hyper["nesterov"])
    dampening = property(lambda self: self._hyper["dampening"])
    maximize = property(lambda self: self._hyper["maximize"])
