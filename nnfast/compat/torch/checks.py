"""The checks of nnfast.compat.torch: which tensors and flags its optimizers accept, with messages
that name the argument as a torch user sees it (``param_groups[0]['params'][3].grad``). A rejected
step raises before any tensor or state is touched."""
import torch

FLOAT_DTYPES = (torch.float32, torch.float64)
# torch-only flags nnfast cannot honour (foreach and fused are accepted: they choose among torch's
# own implementations, and nnfast has one)
UNSUPPORTED_FLAGS = {
    "capturable": "CUDA-graph capture needs the state on the GPU; nnfast updates CPU tensors",
    "differentiable": "nnfast's fused kernels update in place outside autograd",
}


def param_name(group_index, index):
    return f"param_groups[{group_index}]['params'][{index}]"


def group_flags(group, group_index):
    """TypeError for a flag without a truth value, ValueError for a param group asking for a torch-only flag."""
    for flag in ("nesterov", "amsgrad", "centered", "maximize", "decoupled_weight_decay"):
        try:  # the optimizers test these with `if`: an array of several elements has no truth value
            bool(group.get(flag))
        except (TypeError, ValueError):
            raise TypeError(f"{flag} must be True or False (param_groups[{group_index}]), "
                            f"got {group[flag]!r}") from None
    for flag, why in UNSUPPORTED_FLAGS.items():
        if group.get(flag):
            raise ValueError(f"{flag} must be False for nnfast.compat.torch optimizers "
                             f"(param_groups[{group_index}]), got {group[flag]!r}: {why}; use torch.optim for it")


def tensor_array(t, name, like=None):
    """A zero-copy NumPy view of the CPU tensor t (its memory, not a copy), after checking that it
    is a dense, C-contiguous float32/float64 CPU tensor; with `like` (the parameter), that it has
    its dtype and shape. TypeError for a wrong kind, device or dtype, ValueError for shape or layout."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.layout is not torch.strided:
        raise TypeError(f"{name} must be a dense (strided) tensor, got layout {t.layout}: "
                        "nnfast.compat.torch does not support sparse tensors or gradients")
    if t.device.type != "cpu":
        raise TypeError(f"{name} must be on the CPU, got device {t.device}: nnfast updates CPU memory in place")
    if t.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype torch.float32 or torch.float64, got {t.dtype}")
    if like is not None and t.dtype != like.dtype:
        raise TypeError(f"{name} must have the dtype of its parameter ({like.dtype}), got {t.dtype}")
    if like is not None and t.shape != like.shape:
        raise ValueError(f"{name} must have the shape of its parameter {tuple(like.shape)}, got {tuple(t.shape)}")
    if not t.is_contiguous():
        raise ValueError(f"{name} must be contiguous, got strides {t.stride()} for shape {tuple(t.shape)}: "
                         "nnfast updates the tensor's memory in place (use .contiguous() before optimizing it)")
    if t.is_neg() or t.is_conj():
        raise ValueError(f"{name} must not be a lazily negated or conjugated view; call .resolve_neg() first")
    return t.detach().numpy()


def grad_array(grad, param, param_array, name):
    """tensor_array(grad, name, like=param), fast for the usual grad: one .numpy() call and three
    comparisons with the parameter's array; anything unusual goes through the full checks (which
    raise, or detach a gradient that requires grad)."""
    try:
        a = grad.numpy()
    except (TypeError, RuntimeError):  # not CPU, sparse, bfloat16, requires grad, ...
        return tensor_array(grad, name, param)
    if a.dtype != param_array.dtype or a.shape != param_array.shape or not a.flags.c_contiguous:
        return tensor_array(grad, name, param)
    return a
