"""scratch.nn.init against torch.nn.init: distributions (two-sample Kolmogorov-Smirnov), exact bounds, exact
deterministic fills, orthogonality, dtypes, generators, errors; and every layer's default initialization.

The significance level is torch_ref.catalog.init.ALPHA = 1e-3 with SAMPLES = 2^18 values per side: a correct
initializer fails 1 time in 1000 (the seeds are fixed, so a pass is reproducible), and
``test_a_wrong_scale_is_rejected`` proves that a std or bound 5% off fails.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.stats
import torch

import scratch
from scratch import nn
from scratch.nn import init
from torch_ref.arrays import to_numpy
from torch_ref.catalog.init import (
    ALPHA,
    DETERMINISTIC,
    ROWS,
    SAMPLES,
    UNIFORM,
    bounds_comparison,
    draw_scratch,
    draw_torch,
    gram_error,
    ks_comparison,
    ks_critical_value,
    ks_statistic,
    row_name,
    torch_uniform_bounds,
)
from torch_ref.testing import DTYPES
from torch_ref.tolerance import rtol

TORCH = {np.float32: torch.float32, np.float64: torch.float64}
RANDOM_ROWS = [row for row in ROWS if row[0] not in DETERMINISTIC]
SEED = 2024


def both(fn_name, shape, dtype, seed=SEED, **kwargs):
    """(scratch's samples, torch's samples) of ``fn_name`` on ``shape``, SAMPLES values or more each."""
    return (draw_scratch(fn_name, shape, dtype, np.random.default_rng(seed), **kwargs),
            draw_torch(fn_name, shape, dtype, seed, **kwargs))


# ---------------------------------------------------------------------------------- distributions
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize(("fn_name", "shape", "kwargs"), RANDOM_ROWS, ids=[row_name(*row) for row in RANDOM_ROWS])
def test_random_initializer_has_torchs_distribution(fn_name, shape, kwargs, dtype):
    ours, theirs = both(fn_name, shape, dtype, **kwargs)
    assert ours.dtype == theirs.dtype == dtype and ours.shape == theirs.shape
    test = scipy.stats.ks_2samp(ours.ravel(), theirs.ravel())
    assert test.pvalue > ALPHA, f"KS D = {test.statistic:.4f}, p = {test.pvalue:.2e}"
    if fn_name in UNIFORM:  # within torch's bound (torch's own samples too), and both ends reached
        low, high = torch_uniform_bounds(fn_name, shape, **kwargs)
        for name, values in (("scratch", ours), ("torch", theirs)):
            comparison = bounds_comparison(values, low, high)
            assert comparison.ok, f"{name}: {comparison.describe()}"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize(("fn_name", "kwargs", "wrong"), [
    ("normal_", {}, {"std": 1.05}), ("normal_", {}, {"std": 0.95}), ("xavier_uniform_", {}, {"gain": 1.05}),
    ("kaiming_normal_", {"a": 0.3}, {"nonlinearity": "relu"}),  # gain sqrt(2) vs sqrt(2 / 1.09): 4.4% apart
    ("trunc_normal_", {}, {"std": 1.05}), ("orthogonal_", {}, {"gain": 1.05}),
], ids=["normal+5%", "normal-5%", "xavier_uniform+5%", "kaiming_normal_relu_vs_leaky_0.3", "trunc_normal+5%",
        "orthogonal+5%"])
def test_a_wrong_scale_is_rejected(fn_name, kwargs, wrong, dtype):
    shape = (64, 32)
    ours = draw_scratch(fn_name, shape, dtype, np.random.default_rng(SEED), **wrong)
    theirs = draw_torch(fn_name, shape, dtype, SEED, **kwargs)
    assert scipy.stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue < ALPHA
    assert not ks_comparison(ours, theirs).ok


@pytest.mark.parametrize("factor", [1.05, 0.95])
def test_a_wrong_uniform_bound_is_rejected_by_the_bounds_check(factor):
    low, high = torch_uniform_bounds("xavier_uniform_", (64, 32))
    values = draw_scratch("xavier_uniform_", (64, 32), np.float32, np.random.default_rng(0), gain=factor)
    assert not bounds_comparison(values, low, high).ok
    assert bounds_comparison(draw_scratch("xavier_uniform_", (64, 32), np.float32, np.random.default_rng(0)),
                             low, high).ok


@pytest.mark.parametrize("sizes", [(1000, 1000), (500, 1700), (3000, 40), (SAMPLES, SAMPLES)])
def test_numpy_ks_statistic_equals_scipys(sizes):
    # method="asymp": below 10^4 samples scipy's default (exact) snaps D to the grid k / lcm(n, m) first
    rng = np.random.default_rng(sum(sizes))
    x, y = rng.standard_normal(sizes[0]), 1.01 * rng.standard_normal(sizes[1]) + 0.005
    assert ks_statistic(x, y) == scipy.stats.ks_2samp(x, y, method="asymp").statistic
    ties_x, ties_y = rng.integers(0, 20, sizes[0]).astype(np.float32), rng.integers(0, 21, sizes[1]).astype(np.float32)
    assert ks_statistic(ties_x, ties_y) == scipy.stats.ks_2samp(ties_x, ties_y, method="asymp").statistic


def test_the_critical_value_is_scipys_at_alpha():
    d = ks_critical_value(SAMPLES, SAMPLES)
    n_eff = SAMPLES / 2
    assert scipy.stats.kstwobign.sf(d * math.sqrt(n_eff)) == pytest.approx(ALPHA, rel=1e-3)


# ------------------------------------------------------------------------- deterministic and orthogonal
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize(("fn_name", "shape", "kwargs"), [
    ("eye_", (4, 6), {}), ("eye_", (6, 4), {}), ("eye_", (5, 5), {}), ("eye_", (0, 3), {}),
    ("constant_", (5, 3), {"val": 0.3}), ("constant_", (2, 3, 4), {"val": -7.25}), ("constant_", (4,), {"val": 1e-3}),
    ("zeros_", (5, 3), {}), ("zeros_", (), {}), ("ones_", (2, 3, 4), {}), ("ones_", (7,), {}),
])
def test_deterministic_fills_equal_torchs(fn_name, shape, kwargs, dtype):
    ours, theirs = both(fn_name, shape, dtype, samples=1, **kwargs)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours.dtype == theirs.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize(("shape", "gain"), [((32, 16), 1.0), ((16, 32), 2.0), ((8, 4, 3), 1.0), ((10, 10), 0.5),
                                             ((1, 7), 1.0)])
def test_orthogonal_gives_gain_squared_identity_like_torch(shape, gain, dtype):
    ours = init.orthogonal_(np.empty(shape, dtype=dtype), gain=gain, rng=np.random.default_rng(1))
    theirs = torch.nn.init.orthogonal_(torch.empty(shape, dtype=TORCH[dtype]), gain=gain,
                                       generator=torch.Generator().manual_seed(1))
    tol = rtol(dtype, math.prod(shape[1:])) * gain**2
    for values in (ours, theirs.numpy()):
        gram, identity = gram_error(values, gain)
        np.testing.assert_allclose(gram, identity, atol=tol)
    assert ours.dtype == dtype


def test_orthogonal_corrects_the_sign_like_torch():
    """Without sign(diag R), LAPACK's Q[0, 0] = -|a_00| / |a_0| is never positive; with it, Q is Haar."""
    ours, theirs = both("orthogonal_", (6, 6), np.float64, samples=20000)
    assert 0.4 < (ours[:, 0, 0] > 0).mean() < 0.6
    assert scipy.stats.ks_2samp(ours[:, 0, 0], theirs[:, 0, 0]).pvalue > ALPHA


# ----------------------------------------------------------------- in place, dtype, generators, seeds
RANDOM_CALLS = [("uniform_", {"a": -1.0, "b": 1.0}), ("normal_", {}), ("trunc_normal_", {}), ("xavier_uniform_", {}),
                ("xavier_normal_", {}), ("kaiming_uniform_", {"mode": "FAN_OUT"}), ("kaiming_normal_", {}),
                ("orthogonal_", {})]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize(("fn_name", "kwargs"), [*RANDOM_CALLS, ("eye_", {}), ("constant_", {"val": 2.0}),
                                                 ("zeros_", {}), ("ones_", {})])
def test_in_place_on_arrays_and_parameters_keeping_the_dtype(fn_name, kwargs, dtype):
    fn = getattr(init, fn_name)
    array, param = np.full((6, 5), np.nan, dtype=dtype), nn.Parameter(np.full((6, 5), np.nan, dtype=dtype))
    data = param.data
    assert fn(array, **kwargs) is array and fn(param, **kwargs) is param
    assert param.data is data and array.dtype == param.dtype == dtype
    assert np.isfinite(array).all() and np.isfinite(param.data).all()


@pytest.mark.parametrize(("fn_name", "kwargs"), RANDOM_CALLS)
def test_rng_and_manual_seed_make_draws_reproducible(fn_name, kwargs):
    fn = getattr(init, fn_name)
    draw = lambda **extra: fn(np.empty((6, 5), dtype=np.float32), **kwargs, **extra)  # noqa: E731
    np.testing.assert_array_equal(draw(rng=np.random.default_rng(5)), draw(rng=np.random.default_rng(5)))
    assert not np.array_equal(draw(rng=np.random.default_rng(5)), draw(rng=np.random.default_rng(6)))
    scratch.manual_seed(11)
    first = draw()
    scratch.manual_seed(11)
    np.testing.assert_array_equal(draw(), first)
    assert not np.array_equal(draw(), first)  # the default generator moved on


# -------------------------------------------------------------------------------- errors and gains
def raises_like_torch(ours, theirs, expected=ValueError):
    with pytest.raises(Exception) as torch_error:
        theirs()
    with pytest.raises(expected) as scratch_error:
        ours()
    assert str(scratch_error.value) == str(torch_error.value)


@pytest.mark.parametrize(("fn_name", "shape", "kwargs"), [
    ("eye_", (3,), {}), ("eye_", (2, 3, 4), {}), ("orthogonal_", (3,), {}), ("xavier_uniform_", (3,), {}),
    ("xavier_normal_", (), {}), ("kaiming_uniform_", (4,), {}), ("kaiming_normal_", (4, 3), {"mode": "fan_avg"}),
    ("kaiming_uniform_", (4, 3), {"nonlinearity": "gelu"}), ("kaiming_normal_", (4, 3), {"a": True}),
    ("uniform_", (4, 3), {"a": 1.0, "b": 0.0}), ("normal_", (4, 3), {"std": -1.0}),
])
def test_errors_match_torchs(fn_name, shape, kwargs):
    raises_like_torch(lambda: getattr(init, fn_name)(np.empty(shape), **kwargs),
                      lambda: getattr(torch.nn.init, fn_name)(torch.empty(shape), **kwargs))


def test_scratch_only_errors():
    with pytest.raises(TypeError, match=r"Parameter or np\.ndarray"):
        init.normal_([1.0, 2.0])
    with pytest.raises(TypeError, match="floating-point"):
        init.uniform_(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="std must be positive"):
        init.trunc_normal_(np.empty(3), std=0.0)
    with pytest.raises(ValueError, match="a <= b"):
        init.trunc_normal_(np.empty(3), a=1.0, b=0.0)
    with pytest.raises(TypeError, match="Generator"):
        init.normal_(np.empty(3), rng=0)


@pytest.mark.parametrize("fn_name", ["kaiming_uniform_", "kaiming_normal_"])
def test_zero_element_kaiming_warns_like_torch_before_checking_mode(fn_name):
    with pytest.warns(UserWarning) as theirs:
        getattr(torch.nn.init, fn_name)(torch.empty(0, 3), mode="bad")
    with pytest.warns(UserWarning) as ours:
        getattr(init, fn_name)(np.empty((0, 3)), mode="bad")
    assert str(ours[0].message) == str(theirs[0].message)


def test_trunc_normal_warns_like_torch_when_the_mean_is_far():
    with pytest.warns(UserWarning) as theirs:
        torch.nn.init.trunc_normal_(torch.empty(5), mean=5.0)
    with pytest.warns(UserWarning) as ours:
        values = init.trunc_normal_(np.empty(5), mean=5.0)
    assert str(ours[0].message) == str(theirs[0].message)
    assert (np.abs(values) <= 2).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.trunc_normal_(np.empty(5), mean=3.9)


@pytest.mark.parametrize(("a", "b"), [(8.0, 9.0), (-9.0, -8.0), (-41.0, -40.0), (50.0, 50.5), (-1.0, math.inf)])
def test_trunc_normal_keeps_its_precision_in_a_far_tail(a, b):
    """N(0, 1) on [8, 9]: 2p - 1 would be 1 - 1e-15, where erfinv has 3 digits; beyond 38 std Φ underflows.
    scratch works with erfc and log Φ there; the mean is checked against the exact truncated-normal mean."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mean is far from [a, b]
        ours, theirs = both("trunc_normal_", (1000,), np.float64, samples=20000, a=a, b=b)
    assert ours.min() >= a and ours.max() <= b
    assert scipy.stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > ALPHA
    if abs(a) < 30:  # E[x] = (φ(a) - φ(b)) / (Φ(b) - Φ(a))
        phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        upper = a + b > 0  # Φ(b) - Φ(a) from the tail where it does not cancel
        mass = 0.5 * (math.erfc(a / math.sqrt(2)) - math.erfc(b / math.sqrt(2)) if upper else
                      math.erfc(-b / math.sqrt(2)) - math.erfc(-a / math.sqrt(2)))
        mean = (phi(a) - phi(b)) / mass
        assert abs(ours.mean() - mean) < 5 * ours.std() / math.sqrt(ours.size)


@pytest.mark.parametrize(("nonlinearity", "param"), [
    (name, None) for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                              "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
] + [("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 3), ("leaky_relu", -0.5), ("relu", 0.3)])
def test_calculate_gain_equals_torchs(nonlinearity, param):
    ours, theirs = init.calculate_gain(nonlinearity, param), torch.nn.init.calculate_gain(nonlinearity, param)
    assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize(("nonlinearity", "param"), [("leaky_relu", True), ("leaky_relu", "0.1"),
                                                     ("leaky_relu", np.float32(0.1)), ("gelu", None), ("Tanh", None)])
def test_calculate_gain_rejects_like_torch(nonlinearity, param):
    raises_like_torch(lambda: init.calculate_gain(nonlinearity, param),
                      lambda: torch.nn.init.calculate_gain(nonlinearity, param))


# ------------------------------------------------------------------------- every layer's default init
def linear_weight_bounds(module):  # torch.nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5))
    return torch_uniform_bounds("kaiming_uniform_", tuple(module.weight.shape), a=math.sqrt(5))


def linear_bias_bounds(module):  # torch.nn.Linear.reset_parameters: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(module.weight)
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    return -bound, bound


def recurrent_bounds(module):  # torch.nn.RNNBase.reset_parameters: U(-1/sqrt(hidden), 1/sqrt(hidden)) for all
    bound = 1 / math.sqrt(module.hidden_size)
    return -bound, bound


# (name, scratch factory(dtype, rng), torch factory(torch dtype), {parameter: its uniform bounds, or None})
LAYERS = [
    ("Linear(20, 30)", lambda d, r: nn.Linear(20, 30, dtype=d, rng=r), lambda d: torch.nn.Linear(20, 30, dtype=d),
     {"weight": linear_weight_bounds, "bias": linear_bias_bounds}),
    ("Linear(50, 40)", lambda d, r: nn.Linear(50, 40, dtype=d, rng=r), lambda d: torch.nn.Linear(50, 40, dtype=d),
     {"weight": linear_weight_bounds, "bias": linear_bias_bounds}),
    ("PReLU(64)", lambda d, r: nn.PReLU(64, dtype=d), lambda d: torch.nn.PReLU(64, dtype=d), {"weight": None}),
    ("Embedding(64, 64)", lambda d, r: nn.Embedding(64, 64, dtype=d, rng=r),
     lambda d: torch.nn.Embedding(64, 64, dtype=d), {"weight": None}),
    ("BatchNorm1d(64)", lambda d, r: nn.BatchNorm1d(64, dtype=d), lambda d: torch.nn.BatchNorm1d(64, dtype=d),
     {"weight": None, "bias": None}),
    ("LayerNorm(64)", lambda d, r: nn.LayerNorm(64, dtype=d), lambda d: torch.nn.LayerNorm(64, dtype=d),
     {"weight": None, "bias": None}),
    *[(f"{kind}(16, 32)", lambda d, r, kind=kind: getattr(nn, kind)(16, 32, dtype=d, rng=r),
       lambda d, kind=kind: getattr(torch.nn, kind)(16, 32, dtype=d),
       dict.fromkeys(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], recurrent_bounds))
      for kind in ("RNN", "LSTM", "GRU")],
]  # Conv1d, Conv2d and ConvTranspose2d: the same test in test_conv.py


def layer_samples(make, count):
    """{parameter name: the values of ``count`` fresh layers (scratch or torch), stacked}."""
    layers = [dict(make().named_parameters()) for _ in range(count)]
    return {name: np.stack([to_numpy(np.asarray(params[name]) if isinstance(params[name], nn.Parameter)
                                     else params[name]) for params in layers]) for name in layers[0]}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize(("name", "make_scratch", "make_torch", "bounds"), LAYERS, ids=[row[0] for row in LAYERS])
def test_default_init_of_every_layer_matches_torch(name, make_scratch, make_torch, bounds, dtype):
    torch_dtype = TORCH[dtype]
    smallest = min(p.size for p in make_scratch(dtype, np.random.default_rng(0)).parameters())
    count = math.ceil(SAMPLES / smallest)
    rng = np.random.default_rng(SEED)
    ours = layer_samples(lambda: make_scratch(dtype, rng), count)
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        theirs = layer_samples(lambda: make_torch(torch_dtype), count)
    assert set(ours) == set(theirs) == set(bounds)
    for param, values in ours.items():
        values, expected = values.ravel()[:SAMPLES], theirs[param].ravel()[:SAMPLES]
        assert values.dtype == expected.dtype == dtype
        test = scipy.stats.ks_2samp(values, expected)
        assert test.pvalue > ALPHA, f"{name}.{param}: KS D = {test.statistic:.4f}, p = {test.pvalue:.2e}"
        if bounds[param] is not None:
            low, high = bounds[param](make_torch(torch_dtype))
            for side, sample in (("scratch", values), ("torch", expected)):
                comparison = bounds_comparison(sample, low, high)
                assert comparison.ok, f"{name}.{param} ({side}): {comparison.describe()}"
