"""MaxPool1d/2d/3d, AvgPool1d/2d/3d, LPPool1d/2d/3d, AdaptiveAvgPool2d and Unflatten on the catalog's cases
(their parity with torch: test_catalog.py): max-pool ties and NaNs routed exactly as torch, return_indices,
finite differences, dtype kept, and the errors for bad inputs and bad constructor arguments (torch must
reject the same case). The other adaptive pools: test_pooling_adaptive.py; the fractional pools and
unpooling: test_pooling_fractional.py."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref import to_torch
from torch_ref.catalog.data import normal
from torch_ref.testing import DTYPES, assert_gradcheck, build, catalog_cases

M1, M2, AV, AD = nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d
# the catalog's cases (their parity with torch: test_catalog.py)
POOLS = catalog_cases("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool2d",
                      "Unflatten", kind="module")
MAX_POOLS = catalog_cases("MaxPool1d", "MaxPool2d", "MaxPool3d", kind="module")
LP_POOLS = catalog_cases("LPPool1d", "LPPool2d", "LPPool3d", kind="module")


def built(case, *, return_indices=False):
    """The case's module and its input's shape; a max pool's ``return_indices`` set as asked (torch's
    modules, as scratch's, read it at each forward), so a case declared with it also serves as a plain pool."""
    module, (x,) = build(case, np.float32)
    if hasattr(module, "return_indices"):
        module.return_indices = return_indices
    return module, x.shape


def distinct(dtype, shape, seed=1):
    """A shuffled ramp: well-separated values, so no window holds a tie and finite differences are safe."""
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))) * 0.37 - 5.0
    return values.reshape(shape).astype(dtype)


def ties(dtype, shape, seed=1):
    """Small integers in float with a constant block: most windows hold several equal maxima."""
    x = np.random.default_rng(seed).integers(-2, 3, size=shape).astype(dtype)
    x[..., : shape[-1] // 2] = 1.0
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAX_POOLS, ids=lambda c: c.name)
def test_max_pool_ties_route_the_gradient_exactly_as_torch(case, dtype):
    module, shape = built(case)
    x = ties(dtype, shape)
    g = normal(np.random.default_rng(7), dtype, *module(x).shape)
    ours_out, ours_grad = module(x), module.backward(g)
    leaf = torch.tensor(x, requires_grad=True)
    theirs = to_torch(module)(leaf)
    theirs.backward(torch.tensor(g))
    np.testing.assert_array_equal(ours_out, theirs.detach().numpy())
    np.testing.assert_array_equal(ours_grad, leaf.grad.numpy())  # bit for bit: same cell, same summation order
    assert np.count_nonzero(ours_grad) <= g.size, "ties must not split the gradient"  # one cell per output


@pytest.mark.parametrize("maker", [distinct, ties, lambda dtype, shape: normal(np.random.default_rng(1), dtype,
                                                                               *shape)],
                         ids=["distinct", "ties", "normal"])
@pytest.mark.parametrize("case", MAX_POOLS, ids=lambda c: c.name)
def test_return_indices_equal_torchs(case, maker):
    module, shape = built(case, return_indices=True)
    x = maker(np.float32, shape)
    out, indices = module(x)
    theirs, their_indices = to_torch(module)(torch.tensor(x))
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, their_indices.numpy())
    np.testing.assert_array_equal(out, theirs.numpy())


@pytest.mark.parametrize("case", ["MaxPool1d", "MaxPool2d(stride,padding)", "MaxPool2d(tuples,dilation,ceil_mode)"])
def test_max_pool_nans_and_all_minus_inf_windows_pick_torchs_cell(case):
    module, shape = built(case, return_indices=True)
    x = normal(np.random.default_rng(1), np.float64, *shape)
    x.reshape(-1)[::3] = np.nan
    x.reshape(-1)[1::7] = np.nan
    x[..., :3] = -np.inf  # whole windows of -inf, padding included
    out, indices = module(x)
    theirs, their_indices = to_torch(module)(torch.tensor(x))
    np.testing.assert_array_equal(indices, their_indices.numpy())
    np.testing.assert_array_equal(out, theirs.numpy())


@pytest.mark.parametrize("case", POOLS, ids=lambda c: c.name)
def test_gradient_matches_finite_differences(case):
    module, shape = built(case)
    assert_gradcheck(module, distinct(np.float64, shape))


@pytest.mark.parametrize("case", LP_POOLS, ids=lambda c: c.name)
def test_lp_pool_gradient_matches_finite_differences(case):
    """On positive, well-separated inputs (a fractional power of a negative number is NaN; p = inf picks a max)."""
    module, shape = built(case)
    assert_gradcheck(module, distinct(np.float64, shape) + 6.0)


@pytest.mark.parametrize("p", [2.0, 1.5, 3.0])
def test_lp_pool_is_the_p_norm_of_each_window_and_ceil_mode_scales_partial_windows_as_torch(p):
    x = distinct(np.float64, (2, 3, 7)) + 6.0
    full = nn.LPPool1d(p, 3, 2)(x)
    windows = np.stack([x[..., i:i + 3] for i in range(0, 5, 2)], axis=-2)
    np.testing.assert_allclose(full, (windows ** p).sum(-1) ** (1 / p), rtol=1e-13)
    ceil = nn.LPPool1d(p, 3, 2, ceil_mode=True)(x[..., :6])  # last window [4, 6): 2 cells, sum scaled by 3/2
    np.testing.assert_allclose(ceil[..., -1], (1.5 * (x[..., 4:6] ** p).sum(-1)) ** (1 / p), rtol=1e-13)
    np.testing.assert_allclose(ceil, to_torch(nn.LPPool1d(p, 3, 2, ceil_mode=True))(torch.tensor(x[..., :6])),
                               rtol=1e-13)


def test_lp_pool_gradient_is_zero_where_a_window_sums_to_zero_as_torch():
    x = np.zeros((1, 2, 6))
    x[0, 1, :3] = [1.0, -2.0, 0.5]
    pool = nn.LPPool1d(2, 3)
    out = pool(x)
    grad = np.random.default_rng(0).standard_normal(out.shape)
    dx = pool.backward(grad)
    leaf = torch.tensor(x, requires_grad=True)
    theirs = torch.nn.LPPool1d(2, 3)(leaf)
    theirs.backward(torch.tensor(grad))
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-15)
    np.testing.assert_array_equal(dx[0, 0], 0.0)
    np.testing.assert_allclose(dx, leaf.grad.numpy(), rtol=1e-15)
    assert np.count_nonzero(dx[0, 1]) == 3


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("case", ["MaxPool1d", "MaxPool2d(ceil_mode,padding)", "MaxPool3d", "AvgPool1d",
                                  "AvgPool3d(stride,padding,ceil_mode)", "LPPool2d(p=2)",
                                  "AvgPool2d(count_include_pad=False,ceil_mode)",
                                  "AdaptiveAvgPool2d(does not divide)", "Unflatten"])
def test_dtype_is_kept(case, dtype):
    module, shape = built(case)
    out = module(normal(np.random.default_rng(1), dtype, *shape))
    grad = module.backward(normal(np.random.default_rng(2), dtype, *out.shape))
    assert out.dtype == dtype and grad.dtype == dtype and grad.shape == shape


def test_empty_batch_matches_torch():
    for case in ("MaxPool2d(stride,padding)", "AvgPool2d(stride,padding)", "AdaptiveAvgPool2d(does not divide)",
                 "MaxPool3d", "AvgPool1d", "AvgPool3d", "LPPool1d(p=2)"):
        module, shape = built(case)
        x = normal(np.random.default_rng(1), np.float32, 0, *shape[1:])
        assert module(x).shape == tuple(to_torch(module)(torch.tensor(x)).shape)


def _raises_like_torch(make, x, error):
    """Scratch raises ``error`` (constructing or calling); torch rejects the same case too."""
    with pytest.raises(error):
        make(nn)(x)
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
        make(torch.nn)(torch.tensor(x))


X2, X1 = normal(np.random.default_rng(1), np.float32, 2, 3, 5, 5), normal(np.random.default_rng(1), np.float32, 2, 3, 5)
X3 = normal(np.random.default_rng(1), np.float32, 2, 3, 4, 5, 5)

BAD = {
    "max2d-pad-over-half-kernel": (lambda n: n.MaxPool2d(3, padding=2), X2, ValueError),
    "max2d-pad-over-half-kernel-dilated": (lambda n: n.MaxPool2d(3, padding=2, dilation=2), X2, ValueError),
    "max2d-tuple-pad-over-half": (lambda n: n.MaxPool2d((3, 2), padding=(1, 2)), X2, ValueError),
    "max1d-pad-over-half-kernel": (lambda n: n.MaxPool1d(3, padding=2), X1, ValueError),
    "max2d-output-too-small": (lambda n: n.MaxPool2d(6), X2, ValueError),
    "max1d-output-too-small": (lambda n: n.MaxPool1d(6), X1, ValueError),
    "max2d-zero-stride": (lambda n: n.MaxPool2d(2, stride=0), X2, ValueError),
    "max2d-zero-dilation": (lambda n: n.MaxPool2d(2, dilation=0), X2, ValueError),
    "max2d-negative-padding": (lambda n: n.MaxPool2d(2, padding=-1), X2, ValueError),
    "max2d-2d-input": (lambda n: n.MaxPool2d(2), X2[0, 0], ValueError),
    "max2d-5d-input": (lambda n: n.MaxPool2d(2), X2[None], ValueError),
    "max1d-4d-input": (lambda n: n.MaxPool1d(2), X2, ValueError),
    "max2d-empty-spatial": (lambda n: n.MaxPool2d(2), X2[:, :, :0], ValueError),
    "avg2d-pad-over-half-kernel": (lambda n: n.AvgPool2d(3, padding=2), X2, ValueError),
    "avg2d-output-too-small": (lambda n: n.AvgPool2d(6), X2, ValueError),
    "avg2d-zero-divisor": (lambda n: n.AvgPool2d(2, divisor_override=0), X2, ValueError),
    "adaptive-2d-input": (lambda n: n.AdaptiveAvgPool2d(2), X2[0, 0], ValueError),
    "adaptive-negative-size": (lambda n: n.AdaptiveAvgPool2d((2, -1)), X2, ValueError),
    "max3d-3d-input": (lambda n: n.MaxPool3d(2), X2[0], ValueError),
    "max3d-pad-over-half-kernel": (lambda n: n.MaxPool3d((3, 3, 2), padding=(1, 1, 2)), X3, ValueError),
    "max3d-output-too-small": (lambda n: n.MaxPool3d((5, 2, 2)), X3, ValueError),
    "avg1d-pad-over-half-kernel": (lambda n: n.AvgPool1d(3, padding=2), X1, ValueError),
    "avg1d-4d-input": (lambda n: n.AvgPool1d(2), X2, ValueError),
    "avg3d-output-too-small": (lambda n: n.AvgPool3d(6), X3, ValueError),
    "avg3d-zero-divisor": (lambda n: n.AvgPool3d(2, divisor_override=0), X3, ValueError),
    "avg3d-zero-stride": (lambda n: n.AvgPool3d(2, stride=0), X3, ValueError),
    "avg3d-padded-input-smaller-than-kernel": (lambda n: n.AvgPool3d(3, 1, 1), X3[..., :2, :, :], ValueError),
    "lp3d-ceil-mode-input-smaller-than-kernel": (lambda n: n.LPPool3d(2, 2, ceil_mode=True), X3[..., :1], ValueError),
    "lp1d-output-too-small": (lambda n: n.LPPool1d(2, 6), X1, ValueError),
    "lp2d-zero-kernel": (lambda n: n.LPPool2d(2, 0), X2, ValueError),
    "lp3d-4d-batch-of-2d": (lambda n: n.LPPool3d(2, 2), X3[0, 0], ValueError),
    "unflatten-wrong-product": (lambda n: n.Unflatten(1, (2, 2)), X2, ValueError),
    "unflatten-two-inferred": (lambda n: n.Unflatten(2, (-1, -1)), X2, ValueError),
    "unflatten-dim-out-of-range": (lambda n: n.Unflatten(4, (5, 1)), X2, ValueError),
    "unflatten-size-not-a-tuple": (lambda n: n.Unflatten(1, 3), X2, TypeError),
    "unflatten-size-of-floats": (lambda n: n.Unflatten(1, (3.0, 1.0)), X2, TypeError),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_inputs_and_arguments_raise_like_torch(case):
    _raises_like_torch(*BAD[case])


@pytest.mark.parametrize("make", [M1, M2, AV, AD, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool3d,
                                  lambda k: nn.LPPool2d(2, k)], ids=lambda m: getattr(m, "__name__", "LPPool2d"))
def test_integer_input_is_a_type_error(make):
    # torch pools integer tensors too; scratch's pools, like its other parameter-free layers, take floats only
    module = make(2)
    x = {1: X1, 2: X2, 3: X3}[module._dims]
    name = type(module).__name__
    with pytest.raises(TypeError, match=f"{name}: expected input of a floating-point dtype.*got dtype int64"):
        module(x.astype(np.int64))


def test_errors_name_the_module_and_the_sizes():
    with pytest.raises(ValueError, match=r"MaxPool2d: pad should be at most half of kernel size.*pad=\(2, 2\)"):
        nn.MaxPool2d(3, padding=2)
    with pytest.raises(ValueError, match=r"AvgPool2d: Given input size: \(3x5x5\).*\(3x0x0\).*too small"):
        nn.AvgPool2d(6)(X2)
    with pytest.raises(ValueError, match=r"MaxPool1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input"):
        nn.MaxPool1d(2)(X2)
    with pytest.raises(ValueError, match=r"MaxPool3d: Given input size: \(3x4x5x5\).*\(3x0x0x0\).*too small"):
        nn.MaxPool3d(6)(X3)
    with pytest.raises(ValueError, match=r"AvgPool3d: input image \(T: 4 H: 5 W: 5\) smaller than kernel size"):
        nn.AvgPool3d(6)(X3)  # torch's avg_pool3d checks this first, even where padding would make room
    with pytest.raises(ValueError, match=r"MaxPool3d: expected a 4-D \(unbatched\) or 5-D \(batched\) input"):
        nn.MaxPool3d(2)(X2[0])
    with pytest.raises(ValueError, match=r"LPPool1d: kernel_size must be greater than zero"):
        nn.LPPool1d(2, 0)
    with pytest.raises(ValueError, match=r"Unflatten: .*\[2, 2\].*\(3\)"):
        nn.Unflatten(1, (2, 2))(X2)


@pytest.mark.parametrize("case", ["MaxPool2d(tuples,dilation,ceil_mode)", "AvgPool2d(divisor_override)",
                                  "AdaptiveAvgPool2d(None keeps the size)", "Unflatten", "MaxPool3d",
                                  "AvgPool1d(stride,padding,ceil_mode)", "AvgPool3d(divisor_override)",
                                  "LPPool1d(p=1.5,stride,ceil_mode)", "LPPool2d(p=-inf,unbatched)",
                                  "LPPool3d(p=4,stride,ceil_mode,unbatched)"])
def test_repr_matches_torchs(case):
    module, _ = built(case)
    assert repr(module) == repr(to_torch(module))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_a_window_of_padding_only_gives_minus_inf_an_index_past_the_input_and_no_gradient(dims):
    """kernel 2, padding 1, dilation 2 on a 1-cell input: the window's cells are the two padding cells.

    Not compared with torch: torch 2.13's backward scatters this window's gradient to its index past the
    input, out of bounds (heap corruption: "double free or corruption" within a few thousand calls).
    Its forward gives -inf and, as index, the window's first cell after the leading padding; scratch
    gives the same, and the gradient of a window that reads no input is 0 everywhere.
    """
    pool = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[dims - 1](2, padding=1, dilation=2, return_indices=True)
    x = np.array([0.5, -2.0], dtype=np.float32).reshape((2,) + (1,) * dims)  # 2 channels of 1 cell
    out, indices = pool(x)
    assert out.shape == x.shape and np.all(out == -np.inf)
    first_past_padding = dims  # cell (1,), (1, 1) or (1, 1, 1) in a 1-wide input: flat 1, 1 + 1, 1 + 1 + 1
    assert np.all(indices == first_past_padding)
    grad = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    dx = pool.backward(grad, None)
    assert dx.shape == x.shape and not dx.any()


def test_adaptive_avg_pool_keeps_nan_and_inf_in_their_windows_like_torch():
    """Forward and backward: a NaN or an infinity reaches only the outputs (input cells) whose windows hold it."""
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 4))
    x[0, 0, 0, 0], x[0, 1, 2, 1], x[1, 2, 4, 3] = np.nan, np.inf, -np.inf
    grad = np.random.default_rng(2).standard_normal((2, 3, 3, 2))
    grad[0, 0, 1, 1], grad[1, 1, 0, 0] = np.inf, np.nan
    pool = nn.AdaptiveAvgPool2d((3, 2))
    out = pool(x)
    dx = pool.backward(grad)
    twin_x = torch.tensor(x, requires_grad=True)
    twin_out = torch.nn.AdaptiveAvgPool2d((3, 2))(twin_x)
    twin_out.backward(torch.tensor(grad))
    np.testing.assert_allclose(out, twin_out.detach().numpy(), rtol=1e-15, atol=1e-15)  # NaN == NaN here
    np.testing.assert_allclose(dx, twin_x.grad.numpy(), rtol=1e-15, atol=1e-15)
    assert np.isfinite(out).sum() > out.size // 2  # not spread to every output
