"""nnfast.compat.torch as a torch.optim.Optimizer: checkpoints both ways, schedulers, closures,
param groups, skipped and split steps, hooks, zero copy, bad input and torch being optional."""
import copy
import sys

import pytest

from conftest import run_python


@pytest.fixture(scope="module")
def compat(torch):
    import nnfast.compat.torch as compat
    return compat


def mlp(torch, seed=0, dtype=None):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(9, 17), torch.nn.Tanh(), torch.nn.Linear(17, 3))
    return model.to(dtype) if dtype is not None else model


def data(torch, n=32):
    gen = torch.Generator().manual_seed(5)
    return torch.randn(n, 9, generator=gen), torch.randint(0, 3, (n,), generator=gen)


def train(torch, model, opt, steps, scheduler=None, plateau=False):
    x, y = data(torch)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step(loss.item()) if plateau else scheduler.step()
    return [p.detach().clone() for p in model.parameters()]


def assert_close(torch, got, want, rtol=1e-6):
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=rtol, atol=rtol * float(b.abs().max()))


# ---- checkpoints interchange with torch.optim -----------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [("Adam", dict(amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
                                         ("NAdam", {}), ("Adagrad", dict(lr_decay=0.01)),
                                         ("RMSprop", dict(centered=True, momentum=0.3))])
@pytest.mark.parametrize("first", ["torch", "nnfast"])
def test_checkpoint_moves_between_torch_optim_and_nnfast_and_the_run_continues(torch, compat, name, kwargs, first):
    peers = {"torch": getattr(torch.optim, name), "nnfast": getattr(compat, name)}
    second = "nnfast" if first == "torch" else "torch"
    ref_model = mlp(torch)
    ref_opt = peers[second](ref_model.parameters(), **kwargs)
    train(torch, ref_model, ref_opt, 10)
    want = train(torch, ref_model, ref_opt, 10)

    model = mlp(torch)
    opt = peers[first](model.parameters(), **kwargs)
    train(torch, model, opt, 10)
    saved = copy.deepcopy(opt.state_dict())
    saved_weights = copy.deepcopy(model.state_dict())
    ref_saved = ref_opt.state_dict()
    assert [sorted(s) for s in saved["state"].values()] == [sorted(s) for s in ref_saved["state"].values()]
    if "step" in saved["state"][0]:
        assert all(float(s["step"]) == 10.0 and s["step"].dtype == torch.float32 for s in saved["state"].values())

    resumed = mlp(torch)
    resumed.load_state_dict(saved_weights)
    opt2 = peers[second](resumed.parameters(), **kwargs)
    opt2.load_state_dict(saved)
    got = train(torch, resumed, opt2, 10)
    # the same 20 steps in the second library, from the start
    fresh = mlp(torch)
    fresh_opt = peers[second](fresh.parameters(), **kwargs)
    train(torch, fresh, fresh_opt, 10)
    assert_close(torch, got, train(torch, fresh, fresh_opt, 10))
    assert_close(torch, got, want)


def test_state_is_torchs_format(torch, compat):
    model = mlp(torch)
    opt = compat.Adam(model.parameters(), amsgrad=True)
    train(torch, model, opt, 3)
    for p in model.parameters():
        state = opt.state[p]
        assert set(state) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
        assert state["step"].shape == () and state["step"].dtype == torch.float32 and float(state["step"]) == 3
        assert state["exp_avg"].shape == p.shape and state["exp_avg"].dtype == p.dtype


# ---- schedulers, closures, param groups ---------------------------------------------------------

SCHEDULERS = {
    "StepLR": (lambda lrs, opt: lrs.StepLR(opt, step_size=3, gamma=0.5), False),
    "CosineAnnealingLR": (lambda lrs, opt: lrs.CosineAnnealingLR(opt, T_max=7), False),
    "OneCycleLR": (lambda lrs, opt: lrs.OneCycleLR(opt, max_lr=0.05, total_steps=12), False),
    "ReduceLROnPlateau": (lambda lrs, opt: lrs.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=10.0), True),
}


@pytest.mark.parametrize("name", ["Adam", "SGD"])
@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
def test_lr_schedulers_drive_the_same_run(torch, compat, name, scheduler):
    make, plateau = SCHEDULERS[scheduler]
    kwargs = dict(lr=0.01, momentum=0.9) if name == "SGD" else {}
    runs, lrs = [], []
    for module in (torch.optim, compat):
        model = mlp(torch)
        opt = getattr(module, name)(model.parameters(), **kwargs)
        sched = make(torch.optim.lr_scheduler, opt)
        runs.append(train(torch, model, opt, 12, sched, plateau))
        lrs.append([g["lr"] for g in opt.param_groups] + [g.get("betas", g.get("momentum")) for g in opt.param_groups])
    assert lrs[0] == lrs[1]
    assert_close(torch, runs[1], runs[0])


def test_step_returns_the_closures_loss_computed_with_grad_enabled(torch, compat):
    model = mlp(torch)
    opt = compat.SGD(model.parameters(), lr=0.1)
    x, y = data(torch)
    seen = []

    def closure():
        seen.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss
    with torch.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and isinstance(loss, torch.Tensor) and loss.requires_grad
    assert opt.step() is None


def test_param_groups_have_their_own_hyperparameters(torch, compat):
    runs = []
    for module in (torch.optim, compat):
        model = mlp(torch)
        layers = [model[0], model[2]]
        opt = module.Adam([{"params": layers[0].parameters(), "lr": 0.01, "weight_decay": 0.1}], betas=(0.8, 0.9))
        train(torch, model, opt, 3)  # the second layer is not optimized yet
        opt.add_param_group({"params": layers[1].parameters(), "amsgrad": True})
        runs.append(train(torch, model, opt, 5))
    assert_close(torch, runs[1], runs[0])


def test_params_whose_grad_is_none_are_skipped_and_steps_split_by_count(torch, compat):
    runs, states = [], []
    for module in (torch.optim, compat):
        a = torch.nn.Parameter(torch.linspace(-1, 1, 7))
        b = torch.nn.Parameter(torch.linspace(1, 2, 5))
        opt = module.Adam([a, b], lr=0.1)
        for step in range(6):
            opt.zero_grad()
            loss = (a ** 3).sum() + ((b ** 2).sum() if step % 2 else 0.0)
            loss.backward()
            opt.step()
        runs.append([a.detach().clone(), b.detach().clone()])
        states.append([float(opt.state[p]["step"]) for p in (a, b)])
    assert states[0] == states[1] == [6.0, 3.0]
    assert_close(torch, runs[1], runs[0])


def test_zero_grad_and_a_group_of_mixed_dtypes(torch, compat):
    a = torch.nn.Parameter(torch.ones(5))
    b = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = compat.RMSprop([a, b], lr=0.1)
    ref_a, ref_b = torch.nn.Parameter(torch.ones(5)), torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    ref = torch.optim.RMSprop([ref_a, ref_b], lr=0.1)
    for params, o in (((a, b), opt), ((ref_a, ref_b), ref)):
        for _ in range(3):
            o.zero_grad(set_to_none=False)
            sum((p ** 2).sum() for p in params).backward()
            o.step()
        o.zero_grad()
        assert all(p.grad is None for p in params)
    assert_close(torch, [a.detach(), b.detach()], [ref_a.detach(), ref_b.detach()])


def test_step_hooks_run(torch, compat):
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    opt = compat.SGD([p], lr=0.5)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    opt.step()
    from torch.optim.optimizer import register_optimizer_step_post_hook
    handle = register_optimizer_step_post_hook(lambda o, args, kwargs: calls.append("global"))
    try:
        opt.step()
    finally:
        handle.remove()
    assert calls == ["pre", "post", "pre", "post", "global"]
    assert torch.equal(p.detach(), torch.zeros(3))


# ---- zero copy ------------------------------------------------------------------------------------

def test_updates_the_tensors_memory_in_place_without_copies(torch, compat):
    model = mlp(torch)
    opt = compat.Adam(model.parameters())
    ptrs = [p.data_ptr() for p in model.parameters()]
    train(torch, model, opt, 2)
    state_ptrs = {id(p): opt.state[p]["exp_avg"].data_ptr() for p in model.parameters()}
    before = [p.detach().clone() for p in model.parameters()]
    train(torch, model, opt, 1)
    assert [p.data_ptr() for p in model.parameters()] == ptrs
    assert {id(p): opt.state[p]["exp_avg"].data_ptr() for p in model.parameters()} == state_ptrs
    assert all(not torch.equal(p.detach(), b) for p, b in zip(model.parameters(), before))
    # and autograd knows they changed in place, as with torch.optim
    x, y = data(torch)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_the_step_sees_weights_replaced_through_data(torch, compat):
    p = torch.nn.Parameter(torch.zeros(4))
    opt = compat.SGD([p], lr=1.0)
    p.grad = torch.ones(4)
    opt.step()
    p.data = torch.full((4,), 10.0)
    opt.step()
    assert torch.equal(p.detach(), torch.full((4,), 9.0))


# ---- bad input: a clear error, nothing modified -------------------------------------------------

def bad_cases(torch):
    def sparse_grad(p):
        p.grad = torch.ones(p.shape, dtype=p.dtype).to_sparse()

    def half_grad(p):
        p.grad_dtype = None  # torch checks a grad's dtype unless told not to
        p.grad = torch.ones(p.shape, dtype=torch.float16)

    def bfloat16_grad(p):
        p.grad_dtype = None
        p.grad = torch.ones(p.shape, dtype=torch.bfloat16)

    def strided_grad(p):
        p.grad = torch.ones(p.shape[0] * 2, dtype=p.dtype)[::2]
    return [(sparse_grad, TypeError, "dense"), (half_grad, TypeError, "dtype"), (bfloat16_grad, TypeError, "dtype"),
            (strided_grad, ValueError, "contiguous")]


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad", "NAdam"])
@pytest.mark.parametrize("case", range(4))
def test_bad_gradient_is_rejected_before_anything_changes(torch, compat, name, case):
    make_bad, error, words = bad_cases(torch)[case]
    good = torch.nn.Parameter(torch.ones(6))
    other = torch.nn.Parameter(torch.ones(5, dtype=torch.float64))
    kwargs = dict(lr=0.1, momentum=0.5) if name == "SGD" else {}
    opt = getattr(compat, name)([{"params": [good]}, {"params": [other]}], **kwargs)
    for _ in range(2):
        good.grad, other.grad = torch.ones(6), torch.ones(5, dtype=torch.float64)
        opt.step()
    snapshot = copy.deepcopy((good.detach(), other.detach(), opt.state_dict()))
    good.grad = torch.ones(6)
    make_bad(other)
    with pytest.raises(error, match=words) as info:
        opt.step()
    assert "param_groups[1]['params'][0].grad" in str(info.value)
    after = (good.detach(), other.detach(), opt.state_dict())
    torch.testing.assert_close(after[:2], snapshot[:2], rtol=0, atol=0)
    torch.testing.assert_close(after[2]["state"], snapshot[2]["state"], rtol=0, atol=0)


@pytest.mark.parametrize("make,error,words", [
    (lambda t: t.nn.Parameter(t.ones(4, 4).t()), ValueError, "contiguous"),
    (lambda t: t.nn.Parameter(t.ones(4, dtype=t.complex64)), TypeError, "dtype"),
    (lambda t: t.nn.Parameter(t.ones(4, dtype=t.float16)), TypeError, "dtype"),
    (lambda t: t.nn.Parameter(t.ones(4, dtype=t.bfloat16)), TypeError, "dtype"),
    (lambda t: t.nn.Parameter(t.ones(4, device="meta")), TypeError, "CPU"),
])
def test_bad_params_are_rejected_by_the_constructor(torch, compat, make, error, words):
    with pytest.raises(error, match=words) as info:
        compat.Adam([make(torch)])
    assert "param_groups[0]['params'][0]" in str(info.value)


@pytest.mark.parametrize("name,flag", [("Adam", "capturable"), ("Adam", "differentiable"), ("NAdam", "capturable"),
                                       ("SGD", "differentiable"), ("RMSprop", "capturable")])
def test_torch_only_flags_are_rejected_and_foreach_fused_are_no_ops(torch, compat, name, flag):
    p = torch.nn.Parameter(torch.ones(3))
    with pytest.raises(ValueError, match=flag):
        getattr(compat, name)([p], **{flag: True})
    opt = compat.Adam([p], foreach=True)
    opt2 = compat.Adam([torch.nn.Parameter(torch.ones(3))], fused=True)
    for o in (opt, opt2):
        o.param_groups[0]["params"][0].grad = torch.ones(3)
        o.step()
    assert torch.equal(opt.param_groups[0]["params"][0].detach(), opt2.param_groups[0]["params"][0].detach())
    with pytest.raises(ValueError, match="add_param_group|capturable"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))], "capturable": True})
    assert len(opt.param_groups) == 1


# ---- torch is optional -------------------------------------------------------------------------------

def test_import_without_torch_names_the_extra():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import nnfast, nnfast.compat\n"
            "try:\n    import nnfast.compat.torch\nexcept ImportError as e:\n    print('ImportError:', e)\n")
    r = run_python(["-c", code])
    assert r.returncode == 0, r.stderr
    assert "ImportError:" in r.stdout and "nnfast[torch]" in r.stdout, r.stdout
    assert "torch" not in sys.modules or sys.modules["torch"] is not None


def test_a_bad_hyperparameter_in_a_later_group_changes_nothing(torch, compat):
    a, b = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
    opt = compat.Adam([{"params": [a]}, {"params": [b]}])
    a.grad, b.grad = torch.ones(3), torch.ones(2)
    opt.step()
    opt.param_groups[1]["lr"] = -1.0  # as a faulty scheduler might
    snapshot = copy.deepcopy((a.detach(), b.detach(), opt.state_dict()["state"]))
    with pytest.raises(ValueError, match="learning_rate"):
        opt.step()
    torch.testing.assert_close((a.detach(), b.detach(), opt.state_dict()["state"]), snapshot, rtol=0, atol=0)


def test_a_deep_copy_steps_its_own_tensors(torch, compat):
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    opt = compat.SGD([p], lr=0.5)
    opt.step()
    twin = copy.deepcopy(opt)
    twin.param_groups[0]["params"][0].grad = torch.ones(3)
    twin.step()
    assert torch.equal(p.detach(), torch.full((3,), 0.5))
    assert torch.equal(twin.param_groups[0]["params"][0].detach(), torch.zeros(3))
