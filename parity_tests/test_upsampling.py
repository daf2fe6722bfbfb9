"""Upsample, UpsamplingNearest2d, UpsamplingBilinear2d and ``F.interpolate`` (their catalog parity:
test_catalog.py): finite differences for every mode, torch's documented values, float64 agreement with
torch's kernels to round-off over a grid of sizes and scales, torch's nan at an inf in the copy case,
and the errors for what torch rejects (and for antialias=True, which scratch does not implement)."""

import numpy as np
import pytest
import torch

import scratch.nn.functional as F
from scratch import nn
from torch_ref.catalog.data import normal
from torch_ref.testing import assert_close, assert_gradcheck, build, catalog_cases
from torch_ref.tolerance import rtol

CASES = catalog_cases("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", kind="module", without=("large",))
MODES = {"nearest": 3, "nearest-exact": 3, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_finite_differences(case):
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


MODE_OPTIONS = [(mode, align_corners) for mode in MODES
                for align_corners in ([None] if mode.startswith("nearest") else [None, False, True])]
MODE_DIMS = [(mode, dims) for mode in MODES for dims in ([1, 2, 3] if mode.startswith("nearest") else [MODES[mode]])]


@pytest.mark.parametrize(("mode", "align_corners"), MODE_OPTIONS)
def test_finite_differences_of_every_mode(mode, align_corners):
    rng = np.random.default_rng(3)
    for spec in ({"scale_factor": 1.7}, {"size": 2}):
        x = normal(rng, np.float64, 2, 2, *(3, 4, 5)[: MODES[mode]])
        assert_gradcheck(nn.Upsample(mode=mode, align_corners=align_corners, **spec), x)


SPECS = [{"scale_factor": 2}, {"scale_factor": 1.7}, {"scale_factor": 0.6}, {"size": 5}, {"size": 1},
         {"scale_factor": 3.3, "recompute_scale_factor": True}, {"size": 4}, {"scale_factor": (2.5, 1.0, 0.75)}]


@pytest.mark.parametrize(("mode", "dims"), MODE_DIMS)
def test_matches_torch_to_round_off(mode, dims):
    """float64, every size and scale: the indices and weights are torch's, so the values agree to round-off."""
    rng = np.random.default_rng(dims)
    for spec in SPECS:
        spec = {k: v[:dims] if isinstance(v, tuple) else v for k, v in spec.items()}
        for align_corners in ([None] if mode.startswith("nearest") else [False, True]):
            x = normal(rng, np.float64, 2, 3, *(4, 5, 3)[:dims])
            out, cache = F.interpolate_forward(x, mode=mode, align_corners=align_corners, **spec)
            tx = torch.tensor(x, requires_grad=True)
            expected = torch.nn.functional.interpolate(tx, mode=mode, align_corners=align_corners, **spec)
            grad = rng.standard_normal(out.shape)
            expected.backward(torch.from_numpy(grad))
            what = f"{mode} {spec} align_corners={align_corners}"
            assert_close(out, expected.detach().numpy(), rtol(np.float64, 16), what)
            assert_close(F.interpolate_backward(grad, cache), tx.grad.numpy(), rtol(np.float64, 64), what)


def test_torch_documented_values():
    """The bilinear example of torch's Upsample docstring, both align_corners."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, :2, :2] = [[1, 2], [3, 4]]
    half = nn.Upsample(scale_factor=2, mode="bilinear")(x)[0, 0]
    np.testing.assert_allclose(half[0], [1.0, 1.25, 1.75, 1.5, 0.5, 0.0])
    np.testing.assert_allclose(half[3], [2.25, 2.4375, 2.8125, 2.25, 0.75, 0.0])
    corners = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(x)[0, 0]
    np.testing.assert_allclose(corners[1], [1.8, 2.2, 2.6, 2.24, 1.12, 0.0])
    nearest = nn.UpsamplingNearest2d(scale_factor=2)(np.arange(1.0, 5.0).reshape(1, 1, 2, 2))[0, 0]
    np.testing.assert_array_equal(nearest, [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])


def test_copy_case_spreads_nan_as_torch():
    """L_out = L_in: torch's taps (o, o) with weights (1, 0) turn an inf into inf + 0 inf = nan."""
    x = np.array([[[np.inf, -0.5, 2.0]]], dtype=np.float32)
    ours = nn.Upsample(size=3, mode="linear")(x)
    theirs = torch.nn.Upsample(size=3, mode="linear")(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)])
    assert np.isnan(ours[0, 0, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_keeps_dtype_and_matches_the_module(dtype):
    x = normal(np.random.default_rng(0), dtype, 2, 3, 4, 5)
    out = F.interpolate(x, scale_factor=1.5, mode="bicubic", align_corners=False)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=False)(x))


@pytest.mark.parametrize("module", [nn.Upsample(scale_factor=2), nn.Upsample(size=(3, 4), mode="bilinear"),
                                    nn.Upsample(scale_factor=(2, 0.5)), nn.Upsample(scale_factor=0),
                                    nn.UpsamplingNearest2d(size=3), nn.UpsamplingBilinear2d(scale_factor=3)],
                         ids=repr)
def test_repr_and_attributes_match_torch(module):
    cls = getattr(torch.nn, type(module).__name__)
    options = {"size": module.size, "scale_factor": module.scale_factor}
    if cls is torch.nn.Upsample:
        options |= {"mode": module.mode, "align_corners": module.align_corners}
    twin = cls(**options)
    assert repr(module) == repr(twin)
    assert (module.name, module.mode, module.align_corners) == (twin.name, twin.mode, twin.align_corners)


BAD = [
    ({"scale_factor": 2, "align_corners": True}, (1, 2, 3, 3), "align_corners option can only be set"),
    ({"scale_factor": 2, "size": 3}, (1, 2, 3, 3), "only one of size or scale_factor"),
    ({}, (1, 2, 3, 3), "either size or scale_factor"),
    ({"size": 3, "recompute_scale_factor": True}, (1, 2, 3, 3), "not meaningful with an explicit size"),
    ({"size": (3, 4, 5)}, (1, 2, 3, 3), "same number of spatial dimensions"),
    ({"scale_factor": (2, 2, 2)}, (1, 2, 3, 3), "same number of spatial dimensions"),
    ({"scale_factor": 2, "mode": "bilinear"}, (1, 2, 3), "needs a 4-D input"),
    ({"scale_factor": 2, "mode": "bicubic"}, (1, 2, 3, 3, 3), "needs a 4-D input"),
    ({"scale_factor": 2}, (2, 3), "expected a 3-D, 4-D or 5-D input"),
    ({"size": (0, 2)}, (1, 2, 3, 3), "sizes should be greater than 0"),
    ({"scale_factor": 0.2}, (1, 2, 3), "sizes should be greater than 0"),
    ({"size": 4}, (1, 0, 3, 3), "non-empty channel and spatial dims"),
]


@pytest.mark.parametrize(("options", "shape", "message"), BAD, ids=lambda v: str(v))
def test_bad_arguments_are_refused_as_torch_does(options, shape, message):
    x = np.ones(shape)
    with pytest.raises(ValueError, match=message):
        F.interpolate_forward(x, owner="Upsample", **options)
    with pytest.raises((ValueError, RuntimeError, NotImplementedError)):
        torch.nn.functional.interpolate(torch.ones(shape), **options)


@pytest.mark.parametrize(("options", "message"), [
    ({"antialias": True, "mode": "bilinear"}, "antialias=True is not supported"),
    ({"mode": "area"}, "area and lanczos are not supported"),
    ({"mode": "lanczos", "antialias": True}, "area and lanczos are not supported")])
def test_what_scratch_does_not_implement_is_a_clear_error(options, message):
    """torch accepts these (anti-aliased filters, adaptive average pooling): scratch refuses them by name."""
    with pytest.raises(ValueError, match=message):
        F.interpolate(np.ones((1, 2, 3, 3)), scale_factor=2, **options)


def test_errors_name_the_module():
    with pytest.raises(ValueError, match="UpsamplingBilinear2d"):
        nn.UpsamplingBilinear2d(scale_factor=2)(np.ones((1, 2, 3)))
    with pytest.raises(TypeError, match="Upsample"):
        nn.Upsample(scale_factor=2)(np.ones((1, 2, 3), dtype=np.int64))
