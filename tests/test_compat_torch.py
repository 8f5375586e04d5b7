"""nnfast.compat.torch against torch.optim: the same trajectories (the update rule with the same
gradients, and a whole MLP training loop), the same state_dict, in both directions.

Error measure, as tests/test_peer_parity.py: per tensor, the largest elementwise difference scaled
by the tensor's largest magnitude; bound 1e-6 in float32, 1e-12 in float64. torch.optim runs its
default single-tensor code (foreach=False). NAdam keeps its momentum-cache product in a tensor of
torch's default dtype, so the float64 runs set that default to float64 (nnfast computes the product
in double)."""
import numpy as np
import pytest

from conftest import case_id

REL_BOUND = {np.float32: 1e-6, np.float64: 1e-12}
DTYPES = (np.float32, np.float64)
DTYPE_IDS = ("float32", "float64")
ODD_SHAPES = ((1,), (7,), (17, 9), (65,), (3, 5), (1000,))
STEPS = 100

# (optimizer, keyword arguments): every option of every optimizer, given to both sides
CASES = [
    ("SGD", dict(lr=1e-2)),
    ("SGD", dict(lr=1e-2, momentum=0.9)),
    ("SGD", dict(lr=1e-2, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=1e-2, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=1e-2, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6, maximize=True)),
    ("RMSprop", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-3, alpha=0.9, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=1e-3, centered=True, maximize=True)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.5)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=1e-2, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
]
NAMES = sorted({name for name, _ in CASES})
# The training loop feeds each step's rounding back into the next gradients, and some settings
# amplify it: torch.optim against itself, with one initial weight changed by 1 ulp, differs after
# 100 steps by 1.3e-6 (Adagrad lr 1e-2) to 1.3e-2 (RMSprop momentum 0.5, Adam lr 1e-2 betas
# (0.8, 0.99)) in float32, and maximizing the loss diverges. The loop runs settings that do not
# amplify the last bit past the bound; every option is checked above with the same gradients.
MLP_CASES = [
    ("SGD", dict(lr=1e-2)),
    ("SGD", dict(lr=1e-2, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict()),
    ("Adagrad", dict(lr=1e-3, lr_decay=0.01)),
    ("RMSprop", dict(lr=1e-4)),
    ("RMSprop", dict(lr=1e-4, centered=True, momentum=0.5)),
    ("Adamax", dict()),
    ("NAdam", dict()),
    ("NAdam", dict(decoupled_weight_decay=True, weight_decay=0.1)),
    ("RAdam", dict()),
    ("Adadelta", dict()),
]


@pytest.fixture(scope="module")
def compat(torch):
    import nnfast.compat.torch as compat
    return compat


@pytest.fixture
def default_dtype(torch):
    before = torch.get_default_dtype()

    def use(dtype):
        torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    yield use
    torch.set_default_dtype(before)


def assert_parity(got, want, dtype, what):
    bound = REL_BOUND[dtype]
    tiny = float(np.finfo(dtype).tiny)
    assert len(got) == len(want), what
    for i, (a, b) in enumerate(zip(got, want)):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, f"{what}: tensor {i}: {a.dtype}{a.shape}, {b.dtype}{b.shape}"
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        rel = float(diff.max(initial=0.0)) / max(float(np.abs(b.astype(np.float64)).max(initial=0.0)), tiny)
        assert rel <= bound, f"{what}: tensor {i} {a.shape}: relative error {rel:.3g} > {bound:g}"


def flat_state(torch, opt):
    """[(param index, key, array)] of an optimizer's state, in the params' order."""
    out = []
    params = [p for group in opt.param_groups for p in group["params"]]
    for i, p in enumerate(params):
        for key, value in sorted(opt.state.get(p, {}).items()):
            out.append((i, key, value.detach().numpy().copy() if isinstance(value, torch.Tensor) else value))
    return out


def assert_same_state(torch, got, want, dtype, what):
    """The same keys per param, and each state slot (all params' tensors of one key, concatenated,
    as a 1-element tensor's value is a sum of terms of the others' size) within the bound."""
    a, b = flat_state(torch, got), flat_state(torch, want)
    assert [(i, k) for i, k, _ in a] == [(i, k) for i, k, _ in b], what
    for key in sorted({k for _, k, _ in a}):
        slot = [np.concatenate([np.ravel(v) for _, k, v in side if k == key]) for side in (a, b)]
        assert_parity([slot[0]], [slot[1]], dtype, f"{what} state[{key!r}]")


# ---- the update rule: the same fresh gradients every step ---------------------------------------

def run_fresh_grads(torch, cls, kwargs, dtype, shapes=ODD_SHAPES, steps=STEPS):
    rng = np.random.default_rng(7)
    params = [torch.nn.Parameter(torch.from_numpy(rng.standard_normal(s).astype(dtype))) for s in shapes]
    opt = cls(params, foreach=False, **kwargs) if "foreach" in cls.__init__.__code__.co_varnames \
        else cls(params, **kwargs)
    for _ in range(steps):
        for p in params:
            p.grad = torch.from_numpy(rng.standard_normal(p.shape).astype(dtype))
        opt.step()
    return [p.detach().numpy().copy() for p in params], opt


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_same_trajectory_and_state_as_torch_optim(torch, compat, default_dtype, case, dtype):
    name, kwargs = case
    default_dtype(dtype)
    want, peer = run_fresh_grads(torch, getattr(torch.optim, name), kwargs, dtype)
    got, opt = run_fresh_grads(torch, getattr(compat, name), kwargs, dtype)
    what = f"{name}({kwargs}) {np.dtype(dtype).name}, {STEPS} steps"
    assert_parity(got, want, dtype, what)
    assert_same_state(torch, opt, peer, dtype, what)


# ---- a whole training loop: an MLP, gradients from backward, a closure ---------------------------

def train_mlp(torch, cls, kwargs, dtype, steps=STEPS, closure=False):
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(64, 20, generator=gen, dtype=tdtype)
    y = torch.randint(0, 3, (64,), generator=gen)
    with torch.random.fork_rng():
        torch.manual_seed(11)
        model = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)).to(tdtype)
    opt = cls(model.parameters(), **kwargs)
    losses = []

    def loss_fn():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss

    for _ in range(steps):
        if closure:
            losses.append(opt.step(loss_fn).item())
        else:
            losses.append(loss_fn().item())
            opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()], losses


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", MLP_CASES, ids=[case_id(c) for c in MLP_CASES])
def test_mlp_training_matches_torch_optim(torch, compat, default_dtype, case, dtype):
    name, kwargs = case
    default_dtype(dtype)
    want, want_losses = train_mlp(torch, getattr(torch.optim, name), kwargs, dtype)
    got, got_losses = train_mlp(torch, getattr(compat, name), kwargs, dtype, closure=True)
    assert_parity(got, want, dtype, f"MLP {name}({kwargs}) {np.dtype(dtype).name}")
    assert_parity([np.array(got_losses, dtype)], [np.array(want_losses, dtype)], dtype, "losses")


# ---- the constructors are torch's -----------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_subclass_signature_and_defaults_are_torch_optims(torch, compat, name):
    import inspect
    cls, peer = getattr(compat, name), getattr(torch.optim, name)
    assert issubclass(cls, torch.optim.Optimizer) and issubclass(cls, peer)
    assert inspect.signature(cls) == inspect.signature(peer)
    p = torch.nn.Parameter(torch.zeros(3))
    assert cls([p]).defaults == peer([p]).defaults


def test_every_nnfast_optimizer_with_a_torch_namesake_is_offered(torch, compat):
    import nnfast.optimizers as nopt
    torch_names = {n.lower(): n for n in dir(torch.optim) if isinstance(getattr(torch.optim, n), type)
                   and n != "Optimizer"}
    ours = {n.lower() for n in dir(nopt) if isinstance(getattr(nopt, n), type)
            and issubclass(getattr(nopt, n), nopt.Optimizer)}
    # RAdam and Adadelta have a torch convention only / both; Lion and Ftrl have no torch namesake
    expected = {torch_names[n] for n in ours if n in torch_names}
    assert expected <= set(compat.__all__), expected - set(compat.__all__)
