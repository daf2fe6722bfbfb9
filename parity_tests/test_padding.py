"""Padding layers and the pad pair beyond their catalog cases (parity with torch: test_catalog.py): finite
differences, torch's F.pad on every mode with negative (cropping) widths and a value, the layers' reprs,
the dtype kept, and the errors torch raises for widths too large, wrong ranks and bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from scratch import nn
from scratch.nn import functional as F
from torch_ref.arrays import random_like
from torch_ref.catalog.data import normal
from torch_ref.testing import DTYPES, assert_close, assert_gradcheck, build, catalog_cases
from torch_ref.tolerance import rtol
from torch_ref.twins import build_torch

KINDS = ("Reflection", "Replication", "Circular", "Constant", "Zero")
PADS = tuple(f"{kind}Pad{k}d" for kind in KINDS for k in (1, 2, 3))


@pytest.mark.parametrize("case", catalog_cases(*PADS, kind="module"), ids=lambda c: c.name)
def test_padding_gradients_match_finite_differences(case):
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


@pytest.mark.parametrize("case", catalog_cases(*PADS, kind="module"), ids=lambda c: c.name)
def test_repr_matches_torch(case):
    ours, _ = build(case, np.float32)
    assert repr(ours) == repr(build_torch(ours))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["ReflectionPad2d", "ReplicationPad1d", "CircularPad3d", "ConstantPad2d"])
def test_output_and_gradient_keep_the_dtype(name, dtype):
    module, (x,) = build(catalog_cases(name, kind="module")[0], dtype)
    out = module(x)
    assert out.dtype == dtype and module.backward(np.ones_like(out)).dtype == dtype


# ------------------------------------------------------------------------ the pair against torch's F.pad
F_PAD_CASES = [  # (mode, input shape, pad, value): negative widths crop, torch's order of crop and pad
    ("constant", (2, 3, 6), (-2, 3), 1.5), ("constant", (6,), (-6, 0), None), ("constant", (2, 3, 4, 5), (1, -2, 0, 2),
                                                                                 -3.0),
    ("constant", (2, 2, 3, 4, 5), (1, 1, 1, 1, 1, 1, 1, 1), 0.25),  # 4 padded dims: constant only
    ("reflect", (2, 3, 6), (-2, 5), None), ("reflect", (2, 3, 6), (4, -5), None), ("reflect", (3, 5, 6), (-1, 2, 3, -4),
                                                                                   None),
    ("reflect", (2, 2, 3, 4, 5), (-1, 4, 3, -2, 2, 0), None),
    ("replicate", (2, 3, 6), (-3, 7), None), ("replicate", (3, 4, 5), (6, -4, -3, 2), None),
    ("replicate", (1, 2, 3, 4, 5), (2, -1, 0, 3, -2, 1), None), ("replicate", (2, 3, 4), (0, 0), 0),
    ("circular", (2, 3, 6), (-2, 4), None), ("circular", (2, 3, 6), (5, -1), None), ("circular", (3, 4, 5),
                                                                                     (2, -3, -1, 3), None),
    ("circular", (2, 1, 3, 4, 5), (5, 5, -1, 2, 3, 3), None), ("circular", (2, 3, 4), (-2, -2), None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode, shape, pad, value", F_PAD_CASES)
def test_pad_pair_matches_torch(mode, shape, pad, value, dtype):
    rng = np.random.default_rng(1)
    x = normal(rng, dtype, *shape)
    out, cache = F.pad_forward(x, pad, mode, value)
    xt = torch.tensor(x, requires_grad=True)
    expected = TF.pad(xt, pad, mode=mode, value=value)
    g = random_like(out, rng)
    expected.backward(torch.tensor(g))
    tol = rtol(dtype, 8)
    assert out.shape == tuple(expected.shape) and out.dtype == dtype
    assert_close(out, expected, tol, "output")
    assert_close(F.pad_backward(g, cache), xt.grad, tol, "grad_input")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_pair_gradient_matches_finite_differences_with_crops(mode):
    """The pair's own gradient (crops and pads on different axes) by central differences, in float64."""
    module = {"reflect": nn.ReflectionPad2d, "replicate": nn.ReplicationPad2d, "circular": nn.CircularPad2d}[mode]
    assert_gradcheck(module((-1, 3, 2, -2)), normal(np.random.default_rng(2), np.float64, 2, 3, 5, 5))


# ------------------------------------------------------------------------ errors, as torch
BAD_PADS = [  # (layer, input shape): torch raises for each, scratch a ValueError naming the layer
    (lambda: nn.ReflectionPad1d(4), (2, 3, 4), "Padding size should be less than the corresponding input"),
    (lambda: nn.ReflectionPad2d((0, 0, 3, 0)), (2, 3, 3, 8), "Padding size should be less than"),
    (lambda: nn.ReflectionPad3d((0, 0, 0, 0, 0, 2)), (1, 2, 2, 5, 5), "Padding size should be less than"),
    (lambda: nn.CircularPad1d((5, 0)), (2, 3, 4), "wrapping around more than once"),
    (lambda: nn.CircularPad2d((0, 0, 0, 4)), (2, 3, 3, 8), "wrapping around more than once"),
    (lambda: nn.CircularPad1d((-3, -2)), (2, 3, 4), "resulting in an empty dimension"),
    (lambda: nn.ReplicationPad1d((-4, 0)), (2, 3, 4), "too small"),
    (lambda: nn.ReflectionPad2d((-4, 0, 0, -4)), (2, 3, 4, 4), "too small"),
    (lambda: nn.ConstantPad1d((-3, -2), 1.0), (2, 3, 4), "crops more than the input holds"),
    (lambda: nn.ReflectionPad2d(1), (3, 4), "Padding size 4 is not supported for 2D input"),
    (lambda: nn.ReplicationPad1d(1), (2, 2, 3, 4), "Padding size 2 is not supported for 4D input"),
    (lambda: nn.ReplicationPad2d(1), (2, 0, 3, 4), "non-zero dimensions"),
    (lambda: nn.CircularPad2d(1), (3, 4), "CircularPad2d: expected 3D or 4D input"),
    (lambda: nn.CircularPad3d(1), (1, 2, 3, 4, 5, 6), "CircularPad3d: expected 4D or 5D input"),
    (lambda: nn.ZeroPad3d(1), (3, 4), "Padding length should be less than or equal to two times"),
]


@pytest.mark.parametrize("make, shape, message", BAD_PADS)
def test_bad_padding_is_rejected_like_torch(make, shape, message):
    module = make()
    x = normal(np.random.default_rng(0), np.float32, *shape)
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        build_torch(module)(torch.tensor(x))
    with pytest.raises(ValueError, match=message) as error:
        module(x)
    assert type(module).__name__ in str(error.value)


@pytest.mark.parametrize("pad, mode, value, message", [
    ((1, 2, 3), "constant", None, "Padding length must be divisible by 2"),
    ((1, 1), "wrap", None, "Unrecognised padding mode 'wrap'"),
    ((1, 1), "reflect", 2.0, 'Padding mode "reflect" doesn\'t take in value argument'),
])
def test_bad_pad_arguments_are_rejected_like_torch(pad, mode, value, message):
    x = normal(np.random.default_rng(0), np.float64, 2, 3, 4)
    with pytest.raises((RuntimeError, NotImplementedError)):
        TF.pad(torch.tensor(x), pad, mode=mode, value=value)
    with pytest.raises(ValueError, match=message):
        F.pad_forward(x, pad, mode, value)


@pytest.mark.parametrize("make", [lambda: nn.ZeroPad2d((1, 2, 3)), lambda: nn.ReflectionPad1d(1.5),
                                  lambda: nn.CircularPad3d((1, 1))])
def test_padding_of_the_wrong_length_is_a_value_error(make):
    with pytest.raises(ValueError, match="padding must be an int or a tuple of"):
        make()


def test_circular_padding_wider_than_the_cropped_input_is_refused():
    """torch accepts (-4, 2) on 5 elements (2 <= 5) but wraps the 1 element left after the crop with values
    read from memory it never wrote; scratch refuses."""
    x = normal(np.random.default_rng(0), np.float64, 2, 3, 5)
    with pytest.raises(ValueError, match="CircularPad1d: Padding value causes wrapping around more than once"):
        nn.CircularPad1d((-4, 2))(x)
