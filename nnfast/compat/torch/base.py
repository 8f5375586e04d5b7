"""FusedOptimizer: the step shared by every nnfast.compat.torch optimizer.

A step makes one fused nnfast kernel call per param group (more only when the group mixes dtypes
or its params have different step counts), on NumPy views of the tensors' own memory: params,
gradients and the state tensors torch.optim itself would create, under its keys. The views are
cached per group and made again only when the group's params, their memory, which of them have a
gradient, the state's layout or the state itself change; a new gradient tensor costs one
``.numpy()`` call. Each param's ``state['step']`` is a 0-d view of one step tensor shared by the
params of its call, so advancing the counts is one NumPy operation per call.

Everything a step touches is checked before anything is written: a rejected step modifies no
tensor and no state.
"""
import operator

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

from . import checks


def _hook_registry(register):
    """The dict of torch's global step hooks that `register` adds to (read through the handle a
    registration returns, so that the step can tell when none is registered)."""
    handle = register(lambda *args: None)
    hooks = handle.hooks_dict_ref()
    handle.remove()
    return hooks


GLOBAL_PRE_HOOKS = _hook_registry(register_optimizer_step_pre_hook)
GLOBAL_POST_HOOKS = _hook_registry(register_optimizer_step_post_hook)
_RELEASED = object()  # stands for a gradient the plan let go of (zero_grad(set_to_none=True))


def scalar_dtype():
    """torch.optim's dtype for step counts: float64 when torch's default dtype is float64."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class Call:
    """One kernel call: lists of NumPy views (params, grads, one list per state slot) of the params
    of one group that share a dtype and a step count, and their per-param scalars (step, NAdam's
    mu_product) as NumPy views of one shared 1-D tensor each."""
    __slots__ = ("tensors", "params", "grads", "states", "scalars", "first")

    def __init__(self, slots):
        self.tensors, self.params, self.grads = [], [], []
        self.states = [[] for _ in range(slots)]
        self.scalars = {}
        self.first = False  # SGD: the momentum buffers are new (torch's buf = grad on its first step)


class GroupPlan:
    """The calls of one param group, and what they were made from."""
    __slots__ = ("group", "params", "grads", "active", "ptrs", "layout", "calls", "slots")

    def current(self, group, group_index):
        """Whether the plan still fits `group`; takes views of gradients that are new tensors."""
        params = group["params"]
        if group is not self.group or params is not self.params or len(params) != len(self.active):
            return False
        grads = [p.grad for p in params]
        if not all(map(operator.is_, grads, self.grads)):
            for i, g in enumerate(grads):
                if g is self.grads[i]:
                    continue
                if (g is not None) != self.active[i]:
                    return False
                views, j, p, pa = self.slots[i]
                views[j] = checks.grad_array(g, p, pa, checks.param_name(group_index, i) + ".grad")
            self.grads = grads
        return [p.data_ptr() for p in params] == self.ptrs

    def release(self):
        """Drops the plan's references to the gradients, so zero_grad(set_to_none=True) frees them."""
        self.grads = [_RELEASED if a else None for a in self.active]
        for slot in self.slots:
            if slot is not None:
                slot[0][slot[1]] = None


class FusedOptimizer:
    """Mixin before a torch.optim class: its constructor, defaults, validation and state format,
    nnfast's step. Subclasses define state_layout() and update(), and SCALARS."""

    SCALARS = {"step": 0.0}   # per-param 0-d state tensors and their initial values
    FIRST_STEP_KEY = None     # SGD: the state key whose absence means a param's first step

    def state_layout(self, group):
        """The state keys of a param, in the kernel's argument order."""
        raise NotImplementedError

    def new_state(self, param, key, group):
        return torch.zeros_like(param, memory_format=torch.preserve_format)

    def update(self, group, call, step):
        """One kernel call on `call`'s views with `group`'s hyperparameters and 1-based `step`."""
        raise NotImplementedError

    def after_update(self, group, call, step):
        """Updates per-param scalars other than the step count (NAdam's mu_product)."""

    # ---- torch.optim.Optimizer API -----------------------------------------------------------

    @property
    def _step_supports_amp_scaling(self):
        """False even with fused=True (torch's fused kernels unscale AMP gradients themselves;
        nnfast's do not, so torch.amp.GradScaler unscales them before step())."""
        return False

    @_step_supports_amp_scaling.setter
    def _step_supports_amp_scaling(self, value):
        pass

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        index = len(self.param_groups) - 1
        group = self.param_groups[index]
        try:
            checks.group_flags(group, index)
            for i, p in enumerate(group["params"]):
                checks.tensor_array(p, checks.param_name(index, i))
        except (TypeError, ValueError):
            self.param_groups.pop()
            raise

    def __setstate__(self, state):
        super().__setstate__(state)
        self.__dict__.pop("_nnfast_plans", None)

    def zero_grad(self, set_to_none=True):
        super().zero_grad(set_to_none)
        if set_to_none:
            for plan in self.__dict__.get("_nnfast_plans", {}).values():
                if isinstance(plan, GroupPlan):
                    plan.release()

    def step(self, closure=None):
        """One step: runs `closure` (under torch.enable_grad()) if given and returns its loss."""
        if self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks or GLOBAL_PRE_HOOKS \
                or GLOBAL_POST_HOOKS:
            return HOOKED_STEP(self, closure)
        return self.fused_step(closure)

    step.hooked = True  # torch.optim.Optimizer would otherwise wrap it in its profiling hook

    # ---- the fused step ------------------------------------------------------------------------

    def fused_step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        plans = self.__dict__.get("_nnfast_plans")
        if plans is None or plans["state"] is not self.state or plans["size"] != len(self.state):
            plans = self.__dict__["_nnfast_plans"] = {"state": self.state, "size": len(self.state)}
        stale = [gi for gi, group in enumerate(self.param_groups)
                 if gi not in plans or plans[gi].layout != self.state_layout(group)
                 or not plans[gi].current(group, gi)]
        if stale:
            for gi, group in enumerate(self.param_groups):
                self.check_group(gi, group)
        work = [(group, call) for gi, group in enumerate(self.param_groups) if gi not in stale
                for call in plans[gi].calls]
        if stale or len(work) > 1:  # the kernels check hyperparameters first: check every group first
            for group in self.param_groups:
                self.update(group, Call(len(self.state_layout(group))), 1)
        if stale:
            for gi in stale:
                plans[gi] = self.make_plan(gi, self.param_groups[gi])
            plans["size"] = len(self.state)
            work = [(group, call) for gi, group in enumerate(self.param_groups) for call in plans[gi].calls]
        for group, call in work:
            self.run(group, call)
        return loss

    def next_step(self, call):
        steps = call.scalars.get("step")
        if steps is not None:
            return int(steps.item(0)) + 1
        return 1 if call.first else 2

    def run(self, group, call):
        step = self.next_step(call)
        self.update(group, call, step)
        self.after_update(group, call, step)
        call.first = False
        steps = call.scalars.get("step")
        if steps is not None:
            steps.fill(step)  # the call's counts are equal (that is what makes it one call)
        torch.autograd.graph.increment_version(call.tensors)  # as torch's in-place update would

    def check_group(self, gi, group):
        """Raises for anything in the group's next step nnfast cannot do; changes nothing."""
        checks.group_flags(group, gi)
        layout = self.state_layout(group)
        for i, p in enumerate(group["params"]):
            if p.grad is None:
                continue
            name = checks.param_name(gi, i)
            checks.tensor_array(p, name)
            checks.tensor_array(p.grad, name + ".grad", p)
            state = self.state.get(p, {})
            for key in layout:
                if state.get(key) is not None:
                    checks.tensor_array(state[key], f"state[{name}][{key!r}]", p)
            for key in self.SCALARS:
                value = state.get(key)
                if isinstance(value, torch.Tensor) and (value.numel() != 1 or value.device.type != "cpu"):
                    raise ValueError(f"state[{name}][{key!r}] must be a one-element CPU tensor, got shape "
                                     f"{tuple(value.shape)} on {value.device}")

    def make_plan(self, gi, group):
        """The group's calls (after check_group): creates missing state as torch.optim does, and
        makes each call's per-param scalars views of one shared tensor."""
        plan = GroupPlan()
        params = group["params"]
        plan.group, plan.params, plan.layout = group, params, self.state_layout(group)
        plan.grads = [p.grad for p in params]
        plan.active = [g is not None for g in plan.grads]
        plan.ptrs = [p.data_ptr() for p in params]
        plan.slots = [None] * len(params)
        calls, values = {}, {}
        for i, (p, g) in enumerate(zip(params, plan.grads)):
            if g is None:
                continue
            state = self.state[p] if plan.layout or self.SCALARS else {}
            first = self.FIRST_STEP_KEY is not None and state.get(self.FIRST_STEP_KEY) is None
            for key in plan.layout:
                if state.get(key) is None:
                    state[key] = self.new_state(p, key, group)
            scalars = {key: state.get(key, init) for key, init in self.SCALARS.items()}
            pa = p.detach().numpy()
            key = (pa.dtype.char, float(scalars.get("step", 0.0)), first)
            if key not in calls:
                calls[key], values[key] = Call(len(plan.layout)), []
            call = calls[key]
            call.first = first
            plan.slots[i] = (call.grads, len(call.grads), p, pa)
            call.tensors.append(p)
            call.params.append(pa)
            call.grads.append(checks.grad_array(g, p, pa, checks.param_name(gi, i) + ".grad"))
            for views, k in zip(call.states, plan.layout):
                views.append(state[k].detach().numpy())
            values[key].append(scalars)
        for key, call in calls.items():
            for name in self.SCALARS:
                given = [s[name] for s in values[key]]
                dtype = next((v.dtype for v in given if isinstance(v, torch.Tensor)), scalar_dtype())
                shared = torch.tensor([float(v) for v in given], dtype=dtype)
                for j, p in enumerate(call.tensors):
                    self.state[p][name] = shared[j]
                call.scalars[name] = shared.numpy()
        plan.calls = list(calls.values())
        return plan


HOOKED_STEP = torch.optim.Optimizer.profile_hook_step(FusedOptimizer.fused_step)
