"""The Module contract: registration, state_dict, loading, dtypes, modes, gradients, randomness."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import scratch
from scratch import nn
from torch_ref.testing import assert_close
from torch_ref.tolerance import rtol


def scratch_mlp(dtype=None):
    inner = nn.Sequential(nn.Linear(8, 8, dtype=dtype), nn.Tanh())
    return nn.Sequential(nn.Linear(4, 8, dtype=dtype), nn.ReLU(), inner, nn.Linear(8, 3, bias=False, dtype=dtype))


def torch_mlp():
    T = torch.nn
    return T.Sequential(T.Linear(4, 8), T.ReLU(), T.Sequential(T.Linear(8, 8), T.Tanh()), T.Linear(8, 3, bias=False))


def test_state_dict_keys_order_and_shapes_equal_torchs():
    ours, theirs = scratch_mlp().state_dict(), torch_mlp().state_dict()
    assert [(k, v.shape) for k, v in ours.items()] == [(k, tuple(v.shape)) for k, v in theirs.items()]
    assert isinstance(ours, OrderedDict)


def test_load_state_dict_takes_torch_tensors_and_reproduces_torch():
    model, twin = scratch_mlp(), torch_mlp()
    assert model.load_state_dict(twin.state_dict()) == ([], [])
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(model(x), twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_state_dict_is_a_snapshot_not_a_view():
    model = nn.Linear(3, 2)
    saved = model.state_dict()
    model.weight.data += 1
    assert not np.allclose(saved["weight"], model.weight.data)


def test_load_state_dict_reports_missing_and_unexpected_keys_like_torch():
    sd = torch_mlp().state_dict()
    del sd["0.bias"]
    sd["extra"] = torch.zeros(1)
    ours = scratch_mlp().load_state_dict(sd, strict=False)
    theirs = torch_mlp().load_state_dict(sd, strict=False)
    assert (ours.missing_keys, ours.unexpected_keys) == (theirs.missing_keys, theirs.unexpected_keys)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.bias"'):
        scratch_mlp().load_state_dict(sd)


@pytest.mark.parametrize("strict", [True, False])
def test_a_failed_load_changes_nothing(strict):
    model = scratch_mlp()
    before = model.state_dict()
    sd = OrderedDict((k, v + 1) for k, v in before.items())
    sd["3.weight"] = np.zeros((4, 8))  # the last entry has the wrong shape
    with pytest.raises(RuntimeError, match=r"size mismatch for 3.weight.*\(4, 8\).*\(3, 8\)"):
        model.load_state_dict(sd, strict=strict)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_modules_are_float32_by_default_and_convert():
    model = scratch_mlp()
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    assert {p.dtype for p in model.double().parameters()} == {np.dtype(np.float64)}
    assert {p.dtype for p in model.float().parameters()} == {np.dtype(np.float32)}
    assert {p.dtype for p in model.to(np.float64).parameters()} == {np.dtype(np.float64)}
    assert {p.dtype for p in scratch_mlp(np.float64).parameters()} == {np.dtype(np.float64)}
    with pytest.raises(TypeError, match="floating point"):
        model.to(np.int32)


@pytest.mark.parametrize(("module_dtype", "input_dtype"), [(np.float32, np.float64), (np.float64, np.float32)])
def test_a_float_input_of_another_dtype_is_an_error_naming_both(module_dtype, input_dtype):
    model = scratch_mlp(module_dtype)
    x = np.ones((2, 4), dtype=input_dtype)
    with pytest.raises(TypeError, match=f"{np.dtype(module_dtype)}.*{np.dtype(input_dtype)}"):
        model(x)


def test_linear_rejects_a_wrong_feature_size_naming_the_shapes():
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(\*, 4\).*\(2, 5\)"):
        nn.Linear(4, 3)(np.ones((2, 5), dtype=np.float32))


def test_grad_is_none_until_backward_then_accumulates_like_torch():
    model, twin = scratch_mlp(np.float64), torch_mlp().double()
    model.load_state_dict(twin.state_dict())
    assert all(p.grad is None for p in model.parameters())
    rng = np.random.default_rng(1)
    for _ in range(2):  # two backwards without zero_grad: both engines sum them
        x, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
        model(x)
        model.backward(g)
        twin(torch.from_numpy(x)).backward(torch.from_numpy(g))
    for (name, p), t in zip(model.named_parameters(), twin.parameters()):
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype
        # the policy's measure (relative to the array's scale): an element-wise rtol failed now and then on an
        # element that cancels, whose last bits the two BLAS libraries' summation orders set differently
        assert_close(p.grad, t.grad, rtol(np.dtype(np.float64), 2 * 5), name)


def test_zero_grad_sets_to_none_or_zero():
    model = nn.Linear(3, 2)
    model(np.ones((1, 3), dtype=np.float32))
    model.backward(np.ones((1, 2), dtype=np.float32))
    model.zero_grad(set_to_none=False)
    assert np.all(model.weight.grad == 0)
    model.zero_grad()
    assert model.weight.grad is None


def test_frozen_parameter_gets_no_grad():
    model = nn.Linear(3, 2)
    model.weight.requires_grad = False
    model(np.ones((1, 3), dtype=np.float32))
    model.backward(np.ones((1, 2), dtype=np.float32))
    assert model.weight.grad is None and model.bias.grad is not None


def test_backward_checks_the_upstream_gradient():
    model = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r"Linear\.backward called before forward"):
        model.backward(np.ones((1, 2), dtype=np.float32))
    model(np.ones((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"Linear.backward: expected a gradient of shape \(4, 2\).*got shape \(4, 3\)"):
        model.backward(np.ones((4, 3), dtype=np.float32))


def test_sequential_indexing_len_iteration_and_names():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers and seq[-1] is layers[2]
    assert [name for name, _ in seq.named_children()] == ["0", "1", "2"]
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == layers[1:]
    with pytest.raises(IndexError):
        seq[3]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]


def test_traversal_matches_torch():
    model, twin = scratch_mlp(), torch_mlp()
    assert [n for n, _ in model.named_modules()] == [n for n, _ in twin.named_modules()]
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in twin.named_parameters()]
    assert len(list(model.children())) == len(list(twin.children()))
    criterion = nn.CrossEntropyLoss(weight=np.ones(3, dtype=np.float32))
    assert [n for n, _ in criterion.named_buffers()] == ["weight"]
    assert list(criterion.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict())


def test_train_and_eval_propagate():
    model = scratch_mlp()
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_manual_seed_reproduces_and_rng_is_independent():
    scratch.manual_seed(7)
    a = nn.Linear(5, 4).weight.data
    scratch.manual_seed(7)
    b = nn.Linear(5, 4).weight.data
    c = nn.Linear(5, 4, rng=np.random.default_rng(7)).weight.data
    d = nn.Linear(5, 4, rng=np.random.default_rng(7)).weight.data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, d)
    assert scratch.initial_seed() == 7


def test_nothing_touches_numpys_global_random_state():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    scratch.manual_seed(1)
    nn.Linear(30, 20)
    nn.init.xavier_normal_(np.empty((3, 4)))
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_linear_uses_torchs_default_init_distribution():
    layer = nn.Linear(400, 500, rng=np.random.default_rng(0))
    bound = 1 / np.sqrt(400)  # kaiming_uniform(a=sqrt(5)) and the bias rule both give U(+-1/sqrt(fan_in))
    for values in (layer.weight.data, layer.bias.data):
        assert np.abs(values).max() <= bound
        n = values.size
        variance = bound**2 / 3
        # 6 standard errors of the sample variance of a uniform (its 4th moment is bound^4 / 5)
        assert abs(values.var() - variance) < 6 * np.sqrt((bound**4 / 5 - variance**2) / n)
        assert abs(values.mean()) < 6 * np.sqrt(variance / n)


class DoubleBackward(nn.Linear):
    """A user's subclass that overrides backward: containers must call it."""

    def backward(self, grad_output):
        return 2 * super().backward(grad_output)


def test_containers_honour_a_subclass_that_overrides_forward_or_backward():
    class Shifted(nn.Identity):
        def forward(self, x):
            return super().forward(x) + 1

    seq = nn.Sequential(Shifted(), DoubleBackward(3, 3, dtype=np.float64))
    reference = nn.Linear(3, 3, dtype=np.float64)
    reference.load_state_dict(seq[1].state_dict())
    x, g = np.ones((2, 3)), np.random.default_rng(0).standard_normal((2, 3))
    np.testing.assert_array_equal(seq(x), reference(x + 1))
    np.testing.assert_array_equal(seq.backward(g), 2 * reference.backward(g))


def test_repr_matches_torchs():
    assert repr(scratch_mlp()) == repr(torch_mlp())


def test_reassigning_a_child_or_parameter_keeps_its_place_like_torch():
    ours = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    ours[0], theirs[0] = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    ours[0].weight = nn.Parameter(np.zeros((3, 4), dtype=np.float32))
    theirs[0].weight = torch.nn.Parameter(torch.zeros(3, 4))
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs] == ["Linear", "Tanh", "Linear"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours(np.ones((5, 4), dtype=np.float32)).shape == (5, 2)


@pytest.mark.parametrize("make", [lambda: nn.ReLU(inplace=True), lambda: nn.LeakyReLU(inplace=True),
                                  lambda: nn.ELU(inplace=True), lambda: nn.Hardtanh(inplace=True),
                                  lambda: nn.Dropout(inplace=True)], ids=["ReLU", "LeakyReLU", "ELU", "Hardtanh",
                                                                          "Dropout"])
def test_an_inplace_module_names_itself_on_a_read_only_input(make):
    x = np.linspace(-1, 1, 6)
    x.flags.writeable = False
    module = make()
    with pytest.raises(ValueError, match=rf"{type(module).__name__}\(inplace=True\): the input array is read-only"):
        module(x)
    np.testing.assert_array_equal(x, np.linspace(-1, 1, 6))


def test_private_copies_copies_exactly_the_arrays_that_may_share_memory_with_an_input():
    """The owner test of ``private_copies`` only skips ``np.may_share_memory`` where it would say False: the
    input itself, views of it, an array the input views (a parameter's data), a view of a foreign buffer and a
    disjoint slice of the input's owner are each judged as may_share_memory judges them, and new arrays kept."""
    from scratch.nn.modules._saved import private_copies
    owner = np.arange(24.0).reshape(4, 6)
    buffer = bytearray(np.arange(8.0).tobytes())
    foreign = np.frombuffer(buffer, dtype=np.float64)
    for inputs in ([owner[:2]], [owner], [foreign[:4]], [owner[:2], foreign[:4]]):
        leaves = [owner, owner[:2], owner[2:], owner.T, inputs[0], inputs[0][1:], np.ones(3), foreign,
                  foreign[4:], foreign[:2]]
        cache = (leaves[0], [leaves[1], (leaves[2], {"a": leaves[3]})], *leaves[4:], 7, "x", None)
        kept = private_copies(cache, inputs, {})
        flat = [kept[0], kept[1][0], kept[1][1][0], kept[1][1][1]["a"], *kept[2:8]]
        for before, after in zip(leaves, flat):
            shares = any(np.may_share_memory(before, x) for x in inputs)
            assert (after is not before) == shares
            np.testing.assert_array_equal(after, before)
        assert kept[-3:] == (7, "x", None)
