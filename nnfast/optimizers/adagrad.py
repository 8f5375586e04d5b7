"""Adagrad, in the Keras and the torch convention."""
from ..utils import checks
from .base import Optimizer, arguments


class Adagrad(Optimizer):
    """Adagrad. Calls ``ops.adagrad_update``.

    keras: ``acc`` starts at initial_accumulator_value; ``acc += g^2; w -= lr*g/sqrt(acc + eps)``.
    torch: ``clr = lr/(1 + (t-1)*lr_decay); acc += g^2; w -= clr*g/(sqrt(acc) + eps)``.
    ``lr_decay`` and ``maximize`` (the gradient negated first, before weight decay) exist only in torch.
    """

    UPDATE_KERNEL = "adagrad_update"
    HYPERPARAMETERS = {"learning_rate": (1e-3, 1e-2), "initial_accumulator_value": (0.1, 0.0),
                       "epsilon": (1e-7, 1e-10), "weight_decay": (0.0, 0.0), "lr_decay": (0.0, 0.0),
                       "maximize": (False, False)}
    TORCH_ONLY = ("lr_decay", "maximize")
    DEFAULT_NAME = "adagrad"
    SLOT_INIT = {"accumulators": "initial_accumulator_value"}

    def __init__(self, learning_rate=None, initial_accumulator_value=None, epsilon=None,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 convention="keras", lr_decay=None, maximize=None, name=None):
        super().__init__(**arguments(locals()))

    def check(self, hp, convention):
        hp["initial_accumulator_value"] = checks.real("initial_accumulator_value",
                                                hp["initial_accumulator_value"])
        hp["epsilon"] = checks.real("epsilon", hp["epsilon"])
        hp["lr_decay"] = checks.real("lr_decay", hp["lr_decay"])
        hp["maximize"] = checks.flag("maximize", hp["maximize"])

    def layout(self, hp):
        return ("accumulators",)

    def call_kwargs(self, hp, convention):
        return dict(epsilon=hp["epsilon"], lr_decay=hp["lr_decay"], weight_decay=hp["weight_decay"],
                    maximize=hp["maximize"], convention=convention)

    initial_accumulator_value = property(lambda self: self._hyper["initial_accumulator_value"])
    epsilon = property(lambda self: self._hyper["epsilon"])
    lr_decay = property(lambda self: self._hyper["lr_decay"])
    maximize = property(lambda self: self._hyper["maximize"])
