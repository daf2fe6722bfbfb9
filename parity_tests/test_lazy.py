"""Lazy modules beyond the catalog (whose cases compare the materialized layer with torch): the initialization at
the first call is the plain class's from the same generator; before it the parameters have no shape (torch's
error); state_dict, load_state_dict (materializing from the loaded shapes, as torch's _lazy_load_hook),
``.to``, copies, twins and bad inputs as torch."""

import copy

import numpy as np
import pytest
import torch

from scratch import nn, optim
from torch_ref import from_torch, to_torch
from torch_ref.catalog.data import normal
from torch_ref.testing import assert_module_parity

# (lazy class, its options, the plain class's leading options, an input shape)
LAZY = [
    (nn.LazyLinear, (7,), {}, (6,), (4, 6)),
    (nn.LazyLinear, (3,), {"bias": False}, (5,), (2, 3, 5)),
    (nn.LazyConv1d, (4, 3), {"groups": 2, "padding": "same"}, (6,), (2, 6, 9)),
    (nn.LazyConv2d, (5, (3, 2)), {"stride": 2, "padding_mode": "reflect", "padding": 1}, (3,), (3, 7, 6)),
    (nn.LazyConv3d, (2, 2), {"bias": False}, (3,), (2, 3, 4, 3, 5)),
    (nn.LazyConvTranspose1d, (6, 3), {"groups": 3, "stride": 2, "output_padding": 1}, (3,), (2, 3, 5)),
    (nn.LazyConvTranspose2d, (4, 2), {"dilation": 2}, (5,), (5, 4, 3)),
    (nn.LazyConvTranspose3d, (2, 3), {"padding": 1}, (4,), (1, 4, 3, 3, 2)),
]
IDS = [f"{cls.__name__}{i}" for i, (cls, *_) in enumerate(LAZY)]


def _plain(cls: type) -> type:
    return cls.cls_to_become


@pytest.mark.parametrize("cls, args, kwargs, size, shape", LAZY, ids=IDS)
def test_the_first_call_initializes_as_the_plain_class_from_the_same_generator(cls, args, kwargs, size, shape):
    """LazyConv2d(5, 3, rng=g)'s first call on 3 channels gives Conv2d(3, 5, 3, rng=g)'s weights, bit for bit,
    and the module becomes a Conv2d whose output equals that Conv2d's."""
    x = normal(np.random.default_rng(1), np.float64, *shape)
    lazy = cls(*args, **kwargs, dtype=np.float64, rng=np.random.default_rng(7))
    plain = _plain(cls)(*size, *args, **kwargs, dtype=np.float64, rng=np.random.default_rng(7))
    assert lazy.has_uninitialized_params()
    out = lazy(x)
    assert type(lazy) is _plain(cls) and repr(lazy) == repr(plain)
    for name, param in plain.named_parameters():
        np.testing.assert_array_equal(getattr(lazy, name).data, param.data)
    np.testing.assert_array_equal(out, plain(x))
    assert not hasattr(lazy, "_rng")
    assert_module_parity(lazy, x)  # and it is torch's plain class from here on


def test_materialization_draws_nothing_before_the_first_call_and_from_the_global_generator_then():
    """No generator given: the first call draws from scratch's global one, exactly as Linear built then would."""
    from scratch import random as scratch_random

    scratch_random.manual_seed(3)
    lazy = nn.LazyLinear(4)
    expected = nn.Linear(5, 4)  # the draws the lazy layer's first call must make
    scratch_random.manual_seed(3)
    lazy = nn.LazyLinear(4)
    lazy(np.ones((2, 5), np.float32))
    np.testing.assert_array_equal(lazy.weight.data, expected.weight.data)
    np.testing.assert_array_equal(lazy.bias.data, expected.bias.data)


@pytest.mark.parametrize("cls, args, kwargs, size, shape", LAZY, ids=IDS)
def test_before_the_first_call_it_is_torchs_lazy_module(cls, args, kwargs, size, shape):
    """Its repr, state_dict keys and uninitialized parameters are torch's; reading a shape raises torch's error."""
    module = cls(*args, **kwargs)
    twin = getattr(torch.nn, cls.__name__)(*args, **kwargs)
    assert repr(module) == repr(twin) and repr(module.weight) == repr(twin.weight) == "<UninitializedParameter>"
    assert list(module.state_dict()) == list(twin.state_dict())
    assert all(isinstance(v, nn.UninitializedParameter) for v in module.state_dict().values())
    with pytest.raises(RuntimeError) as theirs:
        twin.weight.shape  # noqa: B018
    with pytest.raises(RuntimeError) as ours:
        module.weight.shape  # noqa: B018
    assert str(ours.value) == str(theirs.value)
    for read in ("data", "size", "ndim"):
        with pytest.raises(RuntimeError, match=f"Can't access the {read} of an uninitialized parameter"):
            getattr(module.weight, read)
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        np.asarray(module.weight)
    with pytest.raises(ValueError):  # forward itself, past the first call's step, refuses, as torch's
        twin.forward(torch.ones(shape))
    with pytest.raises(ValueError, match="expected input of shape"):
        module.forward(np.ones(shape, np.float32))


@pytest.mark.parametrize("cls, args, kwargs, size, shape", LAZY, ids=IDS)
def test_load_state_dict_materializes_from_the_loaded_shapes(cls, args, kwargs, size, shape):
    """torch's _lazy_load_hook: a lazy module loads a materialized state (drawing nothing) and stays lazy until
    its first call, which then checks the input's size against the loaded weight; both engines agree on it."""
    source = _plain(cls)(*size, *args, **kwargs, rng=np.random.default_rng(0))
    state = source.state_dict()
    rng = np.random.default_rng(5)
    module = cls(*args, **kwargs, rng=rng)
    before = copy.deepcopy(rng.bit_generator.state)
    module.load_state_dict(state)
    twin = getattr(torch.nn, cls.__name__)(*args, **kwargs)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    assert type(module) is cls and not module.has_uninitialized_params() and repr(module) == repr(twin)
    assert rng.bit_generator.state == before
    x = normal(np.random.default_rng(1), np.float32, *shape)
    np.testing.assert_array_equal(module(x), source(x))
    assert type(module) is _plain(cls) and repr(module) == repr(source)
    np.testing.assert_allclose(module(x), twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_loaded_lazy_linear_checks_the_input_against_the_loaded_weight():
    module, twin = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    state = nn.Linear(4, 3).state_dict()
    module.load_state_dict(state)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    with pytest.raises(AssertionError, match="in_features inferred from input: 5"):
        twin(torch.ones(2, 5))
    with pytest.raises(ValueError, match=r"LazyLinear: the in_features inferred from input: 5 is not equal to "
                                         r"in_features from self.weight: 4"):
        module(np.ones((2, 5), np.float32))


def test_uninitialized_states_load_as_torch_loads_them():
    """Uninitialized into uninitialized: nothing to copy (both stay lazy); uninitialized into a materialized
    module: torch's error, and the module is unchanged."""
    lazy = nn.LazyConv2d(4, 3)
    lazy.load_state_dict(nn.LazyConv2d(4, 3).state_dict())
    assert lazy.has_uninitialized_params()
    plain = nn.Conv2d(2, 4, 3)
    weight = plain.weight.data.copy()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        plain.load_state_dict(nn.LazyConv2d(4, 3).state_dict())
    with pytest.raises(RuntimeError):
        torch.nn.Conv2d(2, 4, 3).load_state_dict(torch.nn.LazyConv2d(4, 3).state_dict())
    np.testing.assert_array_equal(plain.weight.data, weight)


def test_to_dtype_before_the_first_call_sets_the_materialized_dtype():
    module = nn.LazyConvTranspose2d(3, 2).to(np.float64)
    assert module.weight.dtype == np.float64
    with pytest.raises(TypeError, match="LazyConvTranspose2d: expected input of dtype float64"):
        module(np.ones((2, 4, 3, 3), np.float32))
    assert module.has_uninitialized_params()  # a refused input leaves it lazy
    module(np.ones((2, 4, 3, 3)))
    assert module.weight.data.dtype == module.bias.data.dtype == np.float64 and module.weight.shape == (4, 3, 2, 2)


def test_twins_of_lazy_modules_cross_both_ways():
    """An uninitialized scratch lazy module's twin is torch's lazy class (and back); a materialized one is the plain
    layer already; a network of lazy layers, with an optimizer made before the first call, trains as torch's."""
    module = nn.LazyConv1d(4, 3, groups=2, bias=False).double()
    twin = to_torch(module)
    assert type(twin) is torch.nn.LazyConv1d and twin.weight.dtype == torch.float64 and twin.bias is None
    back = from_torch(twin)
    assert type(back) is nn.LazyConv1d and back.weight.dtype == np.float64 and repr(back) == repr(twin)
    net = nn.Sequential(nn.LazyLinear(4, rng=np.random.default_rng(0)), nn.Tanh(),
                        nn.LazyLinear(2, rng=np.random.default_rng(1)))
    opt = optim.SGD(net.parameters(), lr=0.1)
    x = normal(np.random.default_rng(2), np.float32, 3, 5)
    net(x)
    net.backward(np.ones((3, 2), np.float32))
    twin = to_torch(net)
    assert [type(m) for m in twin] == [torch.nn.Linear, torch.nn.Tanh, torch.nn.Linear]
    opt.step()  # the optimizer holds the parameters the first call materialized
    torch_opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    twin(torch.from_numpy(x)).backward(torch.ones(3, 2))
    torch_opt.step()
    for (name, ours), theirs in zip(net.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6, err_msg=name)


def test_a_copy_of_a_lazy_module_is_lazy_and_independent():
    module = nn.LazyLinear(3, rng=np.random.default_rng(0))
    clone = copy.deepcopy(module)
    module(np.ones((1, 4), np.float32))
    assert clone.has_uninitialized_params() and type(clone) is nn.LazyLinear
    clone(np.ones((1, 4), np.float32))  # the same generator state, copied: the same weights
    np.testing.assert_array_equal(clone.weight.data, module.weight.data)


BAD = [
    (lambda: nn.LazyConv2d(4, 3), (3, 8), r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"),
    (lambda: nn.LazyConv1d(4, 3), (1, 2, 3, 8), r"Expected 2D \(unbatched\) or 3D \(batched\) input to LazyConv1d"),
    (lambda: nn.LazyConv2d(4, 3, groups=2), (1, 3, 5, 5), "LazyConv2d: in_channels must be divisible by groups"),
    (lambda: nn.LazyConvTranspose3d(4, 2, groups=4), (6, 3, 3, 3),
     "LazyConvTranspose3d: in_channels must be divisible by groups"),
]


@pytest.mark.parametrize("make, shape, message", BAD)
def test_bad_first_inputs_are_refused_as_torch_refuses_them(make, shape, message):
    module, x = make(), np.ones(shape, np.float32)
    twin = to_torch(module)
    with pytest.raises((RuntimeError, ValueError)):
        twin(torch.from_numpy(x))
    with pytest.raises(ValueError, match=message):
        module(x)


def test_bad_lazy_inputs_name_the_module():
    with pytest.raises(ValueError, match=r"LazyLinear: expected input of shape \(\*, in_features\), got \(\)"):
        nn.LazyLinear(3)(np.array(1.0, np.float32))
    with pytest.raises(ValueError, match="LazyConv2d: in_channels inferred from the input must be >= 1"):
        nn.LazyConv2d(3, 1)(np.ones((2, 0, 3, 3), np.float32))
    with pytest.raises(ValueError, match="LazyLinear: out_features must be >= 0"):
        nn.LazyLinear(-1)
    with pytest.raises(ValueError, match="LazyConv1d: out_channels must be divisible by groups"):
        nn.LazyConv1d(3, 2, groups=2)
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for LazyConvTranspose2d'):
        nn.LazyConvTranspose2d(3, 2, padding_mode="reflect")
    with pytest.raises(RuntimeError, match="cannot assign data to an uninitialized parameter"):
        nn.LazyLinear(2).weight.data = np.ones((2, 2))
