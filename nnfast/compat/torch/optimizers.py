"""The optimizers: each subclasses its torch.optim namesake (so the constructor, its signature,
defaults and argument checks, ``defaults``, ``__setstate__`` and the state format are torch's own)
and replaces ``step`` with nnfast's fused kernel under ``convention="torch"``. The state keys are
torch.optim's, in the order each kernel takes them."""
import torch

from nnfast import ops

from .base import FusedOptimizer


class SGD(FusedOptimizer, torch.optim.SGD):
    SCALARS = {}  # torch's SGD keeps no step count: a param without momentum_buffer is on its first step
    FIRST_STEP_KEY = "momentum_buffer"

    def state_layout(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def update(self, group, call, step):
        ops.sgd_update(call.params, call.grads, call.states[0] if call.states else None, step=step,
                       learning_rate=group["lr"], momentum=group["momentum"], nesterov=group["nesterov"],
                       dampening=group["dampening"], weight_decay=group["weight_decay"],
                       maximize=group["maximize"], convention="torch")


class Adam(FusedOptimizer, torch.optim.Adam):
    def state_layout(self, group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")

    def update(self, group, call, step):
        beta_1, beta_2 = group["betas"]
        amsgrad = group["amsgrad"]
        s = call.states
        ops.adam_update(call.params, call.grads, s[0], s[1], s[2] if amsgrad else None, step=step,
                        learning_rate=group["lr"], beta_1=beta_1, beta_2=beta_2, epsilon=group["eps"],
                        amsgrad=amsgrad, weight_decay=group["weight_decay"],
                        decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
                        convention="torch")


class AdamW(Adam, torch.optim.AdamW):
    pass


class Adagrad(FusedOptimizer, torch.optim.Adagrad):
    def state_layout(self, group):
        return ("sum",)

    def new_state(self, param, key, group):
        # torch.optim.Adagrad makes its state in __init__; params added later get the same
        return torch.full_like(param, group["initial_accumulator_value"], memory_format=torch.preserve_format)

    def update(self, group, call, step):
        ops.adagrad_update(call.params, call.grads, call.states[0], step=step, learning_rate=group["lr"],
                           epsilon=group["eps"], lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                           maximize=group["maximize"], convention="torch")


class RMSprop(FusedOptimizer, torch.optim.RMSprop):
    def state_layout(self, group):
        return ("square_avg",) + (("grad_avg",) if group["centered"] else ()) + \
            (("momentum_buffer",) if group["momentum"] > 0 else ())

    def update(self, group, call, step):
        s = call.states
        centered, momentum = group["centered"], group["momentum"]
        ops.rmsprop_update(call.params, call.grads, s[0], s[1] if centered else None,
                           s[-1] if momentum > 0 else None, learning_rate=group["lr"], rho=group["alpha"],
                           epsilon=group["eps"], momentum=momentum, centered=centered,
                           weight_decay=group["weight_decay"], maximize=group["maximize"], convention="torch")


def adam_family(group):
    """The keyword arguments Adamax, NAdam and RAdam share, from a param group."""
    beta_1, beta_2 = group["betas"]
    return dict(learning_rate=group["lr"], beta_1=beta_1, beta_2=beta_2, epsilon=group["eps"],
                weight_decay=group["weight_decay"], maximize=group["maximize"], convention="torch")


class Adamax(FusedOptimizer, torch.optim.Adamax):
    def state_layout(self, group):
        return ("exp_avg", "exp_inf")

    def update(self, group, call, step):
        ops.adamax_update(call.params, call.grads, *call.states, step=step, **adam_family(group))


def nadam_mu(beta_1, step, momentum_decay):
    """torch.optim.NAdam's momentum cache mu_t, in its own expression."""
    return beta_1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))


class NAdam(FusedOptimizer, torch.optim.NAdam):
    """The kernel computes the product of the momentum cache in double from the step count;
    state['mu_product'] is kept as torch keeps it (a tensor of torch's scalar dtype), for
    checkpoints."""
    SCALARS = {"step": 0.0, "mu_product": 1.0}

    def state_layout(self, group):
        return ("exp_avg", "exp_avg_sq")

    def update(self, group, call, step):
        ops.nadam_update(call.params, call.grads, *call.states, step=step, momentum_decay=group["momentum_decay"],
                         decoupled_weight_decay=group["decoupled_weight_decay"], **adam_family(group))

    def after_update(self, group, call, step):
        call.scalars["mu_product"] *= nadam_mu(float(group["betas"][0]), float(step), group["momentum_decay"])


class RAdam(FusedOptimizer, torch.optim.RAdam):
    def state_layout(self, group):
        return ("exp_avg", "exp_avg_sq")

    def update(self, group, call, step):
        ops.radam_update(call.params, call.grads, *call.states, step=step,
                         decoupled_weight_decay=group["decoupled_weight_decay"], **adam_family(group))


class Adadelta(FusedOptimizer, torch.optim.Adadelta):
    def state_layout(self, group):
        return ("square_avg", "acc_delta")

    def update(self, group, call, step):
        ops.adadelta_update(call.params, call.grads, call.states[0], call.states[1], learning_rate=group["lr"],
                            rho=group["rho"], epsilon=group["eps"], weight_decay=group["weight_decay"],
                            maximize=group["maximize"], convention="torch")


OPTIMIZERS = (SGD, Adam, AdamW, Adagrad, RMSprop, Adamax, NAdam, RAdam, Adadelta)
for _cls in OPTIMIZERS:
    _cls.__doc__ = (f"torch.optim.{_cls.__name__} on nnfast's fused kernels: the same constructor, defaults, "
                    "param groups, state_dict format and schedulers; see docs/torch.md.\n\n"
                    + (_cls.__doc__ or ""))
