"""nnfast.ops on other libraries' arrays: DLPack exporters (torch tensors) and buffer-protocol
objects (array.array, memoryview) are used zero copy when they are C-contiguous float32/float64
CPU arrays; anything else keeps the TypeError, naming the argument, and nothing is modified."""
import array

import numpy as np
import pytest

from nnfast import ops, reference


def adam_kwargs():
    return dict(step=3, learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-8, convention="torch")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_tensors_are_updated_in_place_zero_copy(torch, dtype):
    rng = np.random.default_rng(1)
    arrays = [[np.abs(rng.standard_normal(n)).astype(dtype) for n in (7, 65)] for _ in range(4)]
    want = [[a.copy() for a in group] for group in arrays]
    ops.adam_update(*want, None, **adam_kwargs())
    tensors = [[torch.from_numpy(a.copy()) for a in group] for group in arrays]
    ptrs = [t.data_ptr() for group in tensors for t in group]
    ops.adam_update(tensors[0], tensors[1], tensors[2], tensors[3], None, **adam_kwargs())
    assert [t.data_ptr() for group in tensors for t in group] == ptrs
    for got_group, want_group in zip(tensors, want):
        for t, w in zip(got_group, want_group):
            assert np.array_equal(t.numpy(), w)  # same kernel, same bits


def test_lists_may_mix_ndarrays_and_tensors_and_outputs_are_written_through(torch):
    x = torch.randn(5, 4)
    w = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    out = torch.empty(5, 3)
    ptr = out.data_ptr()
    y = ops.dense_forward(x, w, None, "relu", out=out)
    assert y.ctypes.data == ptr == out.data_ptr()
    np.testing.assert_allclose(out.numpy(), reference.dense_forward(x.numpy(), w, None, "relu"), rtol=1e-5, atol=1e-6)
    p, g = [np.ones(3, np.float32), torch.ones(4)], [torch.full((3,), 2.0), np.full(4, 2.0, np.float32)]
    ops.sgd_update(p, g, None, step=1, learning_rate=0.5)
    assert np.array_equal(p[0], np.zeros(3, np.float32)) and torch.equal(p[1], torch.zeros(4))


def test_buffer_protocol_objects_are_used_zero_copy():
    z = array.array("f", [-1.0, 0.5, 2.0])
    ops.activation_forward(z, "relu", out=z)  # written through the buffer, in place
    assert list(z) == [0.0, 0.5, 2.0]
    y = ops.activation_forward(memoryview(array.array("d", [-3.0, 3.0])), "relu")
    assert y.dtype == np.float64 and y.tolist() == [0.0, 3.0]


@pytest.mark.parametrize("make,words", [
    (lambda t: t.ones(6, 2).t(), "C-contiguous"),
    (lambda t: t.ones(3, requires_grad=True), "require"),
    (lambda t: t.ones(3, device="meta"), "CPU"),
    (lambda t: t.ones(3, dtype=t.float16), "float32 or float64"),
    (lambda t: t.ones(3, dtype=t.int64), "float32 or float64"),
    (lambda t: t.ones(3).to_sparse(), "strided"),
])
def test_other_tensors_keep_the_type_error_and_nothing_changes(torch, make, words):
    bad = make(torch)
    p = [torch.ones(3), torch.ones(2)]
    with pytest.raises(TypeError, match=words) as info:
        ops.sgd_update(p, [torch.ones(3), bad], None, step=1, learning_rate=0.5)
    assert "grads[1]" in str(info.value)
    assert torch.equal(p[0], torch.ones(3)) and torch.equal(p[1], torch.ones(2))
    with pytest.raises(TypeError, match="x must (be|have)"):
        ops.dense_forward(bad, np.ones((3, 1), np.float32))


def test_non_array_arguments_keep_todays_error():
    for bad in ([1.0, 2.0], "x", 3.0, None):
        with pytest.raises(TypeError, match="z must be a numpy.ndarray"):
            ops.activation_forward(bad, "relu")
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.activation_forward(np.ones(3, np.int32), "relu")
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.activation_forward(bytearray(b"abc"), "relu")
