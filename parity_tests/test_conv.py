"""Conv1d/2d/3d and ConvTranspose1d/2d/3d on the catalog's cases (their parity with torch: test_catalog.py):
finite differences, state_dict layout and repr, dtype kept; default initialization, output_size, and
the errors for bad inputs and bad constructor arguments."""

import math

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref import to_torch
from torch_ref.arrays import random_like
from torch_ref.catalog.data import normal
from torch_ref.catalog.init import ks_comparison
from torch_ref.testing import DTYPES, assert_close, assert_gradcheck, build, catalog_cases
from torch_ref.tolerance import rtol
from torch_ref.twins import build_torch

C1, C2, CT = nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d
C3, CT1, CT3 = nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose3d
CONVS = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")  # test_catalog.py


@pytest.mark.parametrize("case", catalog_cases(*CONVS, kind="module", without=("large",)), ids=lambda c: c.name)
def test_conv_gradients_match_finite_differences(case):
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


@pytest.mark.parametrize("case", catalog_cases(*CONVS, kind="module"), ids=lambda c: c.name)
def test_state_dict_layout_and_repr_match_torch(case):
    """torch's layer built from the scratch layer's options computes its own parameter shapes and repr."""
    ours, _ = build(case, np.float32)
    theirs = build_torch(ours)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, tuple(v.shape)) for k, v in
                                                                   theirs.state_dict().items()]
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["Conv1d(3,5,3)", "Conv2d(padding='same')", "Conv3d(reflect)",
                                  "ConvTranspose2d(stride=2,padding=1,output_padding=1)", "ConvTranspose1d(4,3,3)",
                                  "ConvTranspose3d(unbatched)"])
def test_output_and_gradients_keep_the_dtype(case, dtype):
    module, (x,) = build(case, dtype)
    out = module(x)
    assert out.dtype == dtype and module.backward(np.ones_like(out)).dtype == dtype
    assert module.weight.grad.dtype == dtype and module.bias.grad.dtype == dtype


# ------------------------------------------------------------------------ default initialization
RESETS = 30
# in != out and groups > 1: torch's fan_in is in / groups * prod(K) for Conv, out / groups * prod(K) for ConvTranspose
INIT_CASES = {
    "conv1d": (C1, (12, 16, 5), {"groups": 2}),
    "conv2d": (C2, (12, 16, (3, 2)), {"groups": 4}),
    "conv-transpose2d": (CT, (12, 16, (3, 2)), {"groups": 4}),
    "conv3d": (C3, (6, 8, (3, 2, 2)), {"groups": 2}),
    "conv-transpose1d": (CT1, (12, 16, 5), {"groups": 4}),
    "conv-transpose3d": (CT3, (6, 8, (3, 2, 2)), {"groups": 2}),
}


def samples(module, reset, resets=RESETS):
    weights, biases = [], []
    for _ in range(resets):
        reset(module)
        scratch = isinstance(module, nn.Module)
        weights.append(np.array(module.weight.data if scratch else module.weight.detach().numpy()))
        biases.append(np.array(module.bias.data if scratch else module.bias.detach().numpy()))
    return np.concatenate([w.ravel() for w in weights]), np.concatenate(biases)


@pytest.mark.parametrize("case", INIT_CASES)
def test_default_init_has_torchs_bounds_and_distribution(case):
    cls, args, kwargs = INIT_CASES[case]
    rng = np.random.default_rng(3)
    ours = samples(cls(*args, **kwargs, dtype=np.float64), lambda m: m.reset_parameters(rng=rng))
    torch.manual_seed(3)
    twin = getattr(torch.nn, cls.__name__)(*args, **kwargs, dtype=torch.float64)
    theirs = samples(twin, lambda m: m.reset_parameters())
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(twin.weight)
    weight_bound = math.sqrt(3.0) * torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5)) / math.sqrt(fan_in)
    for label, bound, mine, torchs in (("weight", weight_bound, ours[0], theirs[0]),
                                       ("bias", 1 / math.sqrt(fan_in), ours[1], theirs[1])):
        for values in (mine, torchs):  # torch's own samples confirm the bound computed for it
            assert np.abs(values).max() <= bound, label
            assert np.abs(values).max() >= bound * (1 - 20 / values.size), label
        result = ks_comparison(mine, torchs, label)
        assert result.ok, result.describe()


# ------------------------------------------------------------------------ ConvTranspose output_size
OUTPUT_SIZES = [("ConvTranspose2d(stride=2,padding=1,output_padding=1)", size) for size in
                [(11, 9), (12, 10), [2, 3, 12, 9]]] + [
    ("ConvTranspose1d(stride=3,padding=1,output_padding=2)", size) for size in [(17,), (19,), [2, 3, 18]]] + [
    ("ConvTranspose3d(unbatched)", size) for size in [(3, 5, 7), (4, 6, 8), [2, 4, 5, 8]]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case, output_size", OUTPUT_SIZES)
def test_conv_transpose_output_size_matches_torch(case, output_size, dtype):
    module, (x,) = build(case, dtype)
    module.output_padding = (0,) * len(module.kernel_size)
    twin = to_torch(module)
    out = module(x, output_size=output_size)
    xt = torch.tensor(x, requires_grad=True)
    expected = twin(xt, output_size=output_size)
    g = random_like(out, np.random.default_rng(5))
    expected.backward(torch.tensor(g))
    tol = rtol(dtype, 64)
    for quantity, ours, theirs in (("output", out, expected), ("grad_input", module.backward(g), xt.grad),
                                   ("weight.grad", module.weight.grad, twin.weight.grad)):
        assert_close(ours, theirs, tol, quantity)


# ------------------------------------------------------------------------ errors
BAD_ARGS = [  # each rejected by torch too, with the message matched against both engines
    ("Conv2d", (3, 4, 3), {"groups": 2}, "in_channels must be divisible by groups"),
    ("Conv1d", (4, 3, 3), {"groups": 2}, "out_channels must be divisible by groups"),
    ("Conv2d", (4, 4, 3), {"groups": 0}, "groups must be a positive integer"),
    ("ConvTranspose2d", (3, 4, 3), {"groups": 2}, "in_channels must be divisible by groups"),
    ("Conv2d", (4, 4, 3), {"padding": "full"}, "Invalid padding string 'full'"),
    ("Conv1d", (4, 4, 3), {"padding": "SAME"}, "Invalid padding string 'SAME'"),
    ("Conv2d", (4, 4, 3), {"padding": "same", "stride": 2}, "padding='same' is not supported for strided"),
    ("Conv1d", (4, 4, 3), {"padding": "same", "stride": (2,)}, "padding='same' is not supported for strided"),
    ("Conv2d", (4, 4, 3), {"padding_mode": "mirror"}, "padding_mode must be one of"),
    ("ConvTranspose2d", (4, 4, 3), {"padding_mode": "reflect"}, 'Only "zeros" padding mode is supported'),
    ("ConvTranspose1d", (4, 4, 3), {"padding_mode": "circular"}, 'Only "zeros" padding mode is supported'),
    ("ConvTranspose3d", (4, 4, 3), {"padding_mode": "replicate"}, 'Only "zeros" padding mode is supported'),
    ("Conv3d", (4, 4, 3), {"padding": "same", "stride": (1, 2, 1)}, "padding='same' is not supported for strided"),
    ("ConvTranspose3d", (3, 4, 3), {"groups": 2}, "in_channels must be divisible by groups"),
]


@pytest.mark.parametrize("name, args, kwargs, message", BAD_ARGS)
def test_invalid_constructor_arguments_are_rejected_like_torch(name, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(torch.nn, name)(*args, **kwargs)
    with pytest.raises(ValueError, match=message):
        getattr(nn, name)(*args, **kwargs)


@pytest.mark.parametrize("make", [lambda: C2(3, 4, 0), lambda: C2(3, 4, 3, stride=0), lambda: C1(3, 4, 3, padding=-1),
                                  lambda: C2(3, 4, 3, dilation=(1, 0)), lambda: C2(3, 4, (3, 3, 3)),
                                  lambda: CT(3, 4, 3, padding="same")])
def test_nonsense_hyperparameters_are_value_errors(make):
    with pytest.raises(ValueError):
        make()


BAD_INPUTS = [  # torch raises a RuntimeError for each; scratch a ValueError naming the layer and the shapes
    (lambda: C2(3, 4, 3), (2, 5, 8, 8), r"Conv2d: expected input of shape \(N, 3, H, W\) .* got \(2, 5, 8, 8\)"),
    (lambda: C2(4, 4, 3, groups=2), (2, 2, 8, 8), r"Conv2d: expected input of shape \(N, 4, H, W\)"),
    (lambda: C2(4, 4, 3), (2, 8, 8), r"Conv2d: expected .* or \(4, H, W\) .* got \(2, 8, 8\)"),
    (lambda: C1(3, 4, 3), (5, 8), r"Conv1d: expected input of shape \(N, 3, L\) or \(3, L\) .* got \(5, 8\)"),
    (lambda: CT(4, 6, 3, groups=2), (2, 6, 5, 5), r"ConvTranspose2d: expected input of shape \(N, 4, H, W\)"),
    (lambda: C2(3, 4, 3), (3, 8), r"Conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input"),
    (lambda: C1(3, 4, 3), (1, 2, 3, 8), r"Conv1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input"),
    (lambda: C2(3, 4, 5), (2, 3, 4, 8), r"Conv2d: padded input of spatial size \(4, 8\) is smaller"),
    (lambda: C1(3, 4, 3, dilation=4), (2, 3, 8), r"Conv1d: padded input of spatial size \(8,\) is smaller"),
    (lambda: C1(3, 4, 3, padding=3, padding_mode="reflect"), (2, 3, 3), "too large for padding_mode='reflect'"),
    (lambda: C2(3, 4, 3, padding=4, padding_mode="circular"), (2, 3, 3, 5), "too large for padding_mode='circular'"),
    (lambda: CT(4, 3, 3, stride=2, output_padding=2), (2, 4, 5, 5), "output padding must be smaller"),
    (lambda: CT(4, 3, 2, padding=3), (2, 4, 2, 2), "negative or zero output size"),
    (lambda: CT1(2, 2, 1, padding=1, bias=False), (2, 2), r"ConvTranspose1d: .* zero output size \(0,\)"),
    (lambda: C3(3, 4, 3), (2, 5, 4, 4, 4), r"Conv3d: expected input of shape \(N, 3, D, H, W\) or \(3, D, H, W\)"),
    (lambda: C3(3, 4, 3), (3, 4, 4), r"Conv3d: expected a 4-D \(unbatched\) or 5-D \(batched\) input"),
    (lambda: C3(3, 4, 3, padding=(0, 3, 0), padding_mode="reflect"), (2, 3, 4, 3, 4), "too large for padding_mode"),
    (lambda: CT1(4, 3, 3, stride=2, output_padding=2), (2, 4, 5), "output padding must be smaller"),
    (lambda: CT3(4, 6, 3, groups=2), (2, 6, 3, 3, 3), r"ConvTranspose3d: expected input of shape \(N, 4, D, H, W\)"),
]


@pytest.mark.parametrize("make, shape, message", BAD_INPUTS)
def test_bad_inputs_raise_clear_errors(make, shape, message):
    module = make()
    x = normal(np.random.default_rng(0), np.float32, *shape)
    with pytest.raises(RuntimeError):
        to_torch(module)(torch.tensor(x))
    with pytest.raises(ValueError, match=message):
        module(x)


@pytest.mark.parametrize("output_size", [(10, 9), (13, 9), (2, 12, 9)])
def test_conv_transpose_bad_output_size_is_rejected_like_torch(output_size):
    module = CT(4, 3, 3, stride=2, padding=1)
    x = normal(np.random.default_rng(0), np.float32, 2, 4, 6, 5)
    with pytest.raises(ValueError):
        to_torch(module)(torch.tensor(x), output_size=output_size)
    with pytest.raises(ValueError):
        module(x, output_size=output_size)


@pytest.mark.parametrize("cls, shape", [(C1, (2, 3, 8)), (C2, (2, 3, 8, 8)), (CT, (2, 3, 4, 4)), (C3, (2, 3, 4, 4, 4)),
                                        (CT1, (2, 3, 4)), (CT3, (2, 3, 4, 4, 4))])
def test_input_of_another_dtype_is_a_type_error(cls, shape):
    with pytest.raises(TypeError, match=f"{cls.__name__}: expected input of dtype float32"):
        cls(3, 4, 3)(normal(np.random.default_rng(0), np.float64, *shape))


@pytest.mark.parametrize("output_size", [(5, 7), (2, 4, 9, 7), (4, 9, 7), (5, 9, 9)])
def test_conv_transpose3d_bad_output_size_is_rejected_like_torch(output_size):
    module = CT3(4, 3, 3, stride=2, padding=1)
    x = normal(np.random.default_rng(0), np.float32, 2, 4, 3, 5, 4)
    with pytest.raises(ValueError) as theirs:
        to_torch(module)(torch.tensor(x), output_size=output_size)
    with pytest.raises(ValueError) as ours:
        module(x, output_size=output_size)
    assert str(ours.value).split()[:7] == str(theirs.value).split()[:7]
