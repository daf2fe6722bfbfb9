"""The initializers, compared with torch's by distribution.

A random initializer cannot match torch value for value (the generators differ), so each row draws
``SAMPLES`` values from scratch and from torch and compares them with a two-sample Kolmogorov-Smirnov
test: the statistic D (the largest gap between the two empirical CDFs) must stay below its critical
value. The uniform ones must also keep every sample within torch's bound and come close to both ends;
the deterministic ones (constant_, zeros_, ones_, eye_) must equal torch's exactly; orthogonal_ must
also give W W^T (or W^T W) = gain^2 I.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

from scratch.nn import init

from ..convert import TORCH_DTYPES
from ..report import Comparison, ParityResult
from ..tolerance import rtol
from .case import Case

# alpha = 1e-3: a correct initializer fails a row 1 time in 1000; with 2^18 samples per side the critical
# D is 0.0054, while a std 5% off gives D ~ 0.012 (normal) and 0.024 (uniform), so a wrong scale fails.
ALPHA = 1e-3
SAMPLES = 2**18
APPROACH = 1e-4  # the extremes of 2^18 uniform samples are this close (in widths) to the bounds: P(not) ~ e^-26
DETERMINISTIC = {"constant_", "zeros_", "ones_", "eye_"}
UNIFORM = {"uniform_", "xavier_uniform_", "kaiming_uniform_"}


def ks_statistic(x: np.ndarray, y: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov D = max_t |F_x(t) - F_y(t)| over the pooled samples (ties included)."""
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    y = np.sort(np.asarray(y, dtype=np.float64).ravel())
    pooled = np.concatenate([x, y])
    cdf_x = np.searchsorted(x, pooled, side="right") / x.size
    cdf_y = np.searchsorted(y, pooled, side="right") / y.size
    return float(np.max(np.abs(cdf_x - cdf_y)))


def ks_critical_value(n: int, m: int, alpha: float = ALPHA) -> float:
    """The D above which equal distributions are rejected at level ``alpha``: sqrt(-ln(alpha/2)/2) sqrt((n+m)/(nm)),
    from the Kolmogorov distribution's tail P(K > c) ~ 2 exp(-2c^2), exact to O(alpha^4) for small alpha."""
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def _repeats(shape: tuple[int, ...], samples: int) -> int:
    return max(1, math.ceil(samples / max(1, math.prod(shape))))


def draw_scratch(fn_name: str, shape: tuple[int, ...], dtype: Any, rng: np.random.Generator,
                 samples: int = SAMPLES, **kwargs: Any) -> np.ndarray:
    """scratch's ``init.<fn_name>`` applied to fresh arrays of ``shape`` until ``samples`` values, flattened."""
    fn = getattr(init, fn_name)
    extra = {} if fn_name in DETERMINISTIC else {"rng": rng}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trunc_normal_'s far-from-the-mean warning: the row tests that case
        arrays = [fn(np.empty(shape, dtype=dtype), **kwargs, **extra) for _ in range(_repeats(shape, samples))]
    return np.stack(arrays)


def draw_torch(fn_name: str, shape: tuple[int, ...], dtype: Any, seed: int, samples: int = SAMPLES,
               **kwargs: Any) -> np.ndarray:
    """torch's ``torch.nn.init.<fn_name>``, the same way, from a generator seeded with ``seed``."""
    fn = getattr(torch.nn.init, fn_name)
    extra = {} if fn_name in DETERMINISTIC else {"generator": torch.Generator().manual_seed(seed)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tensors = [fn(torch.empty(shape, dtype=TORCH_DTYPES[np.dtype(dtype)]), **kwargs, **extra)
                   for _ in range(_repeats(shape, samples))]
    return torch.stack(tensors).numpy()


def torch_uniform_bounds(fn_name: str, shape: tuple[int, ...], **kwargs: Any) -> tuple[float, float]:
    """(low, high) of a uniform initializer, by torch's own formula and helpers (torch/nn/init.py)."""
    tensor = torch.empty(shape)
    if fn_name == "uniform_":
        return kwargs.get("a", 0.0), kwargs.get("b", 1.0)
    if fn_name == "xavier_uniform_":
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(tensor)
        std = kwargs.get("gain", 1.0) * math.sqrt(2.0 / float(fan_in + fan_out))
    else:
        fan = torch.nn.init._calculate_correct_fan(tensor, kwargs.get("mode", "fan_in"))
        gain = torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
        std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return -bound, bound


def bounds_comparison(values: np.ndarray, low: float, high: float, quantity: str = "bounds") -> Comparison:
    """Every value within [low, high] (each rounded to the values' dtype), and both extremes within
    APPROACH widths of their bound. max_abs_err: the larger gap; max_rel_err: that gap in widths."""
    dtype = values.dtype.type
    low, high = float(dtype(low)), float(dtype(high))
    values = values.astype(np.float64)
    gap_low, gap_high = values.min() - low, high - values.max()
    width = max(high - low, np.finfo(np.float64).tiny)
    gap = max(abs(gap_low), abs(gap_high))
    if gap_low < 0 or gap_high < 0:
        return Comparison(quantity, gap, gap / width, APPROACH, False,
                          f"outside [{low}, {high}]: min {values.min()}, max {values.max()}")
    return Comparison(quantity, gap, gap / width, APPROACH, gap / width <= APPROACH)


def ks_comparison(actual: np.ndarray, expected: np.ndarray, quantity: str = "ks_D") -> Comparison:
    """D of the two samples against its critical value at ALPHA (max_abs_err and max_rel_err both show D)."""
    d = ks_statistic(actual, expected)
    tol = ks_critical_value(actual.size, expected.size)
    return Comparison(quantity, d, d, tol, d <= tol, "" if d <= tol else "the distributions differ (KS)")


def gram_error(values: np.ndarray, gain: float) -> tuple[np.ndarray, np.ndarray]:
    """(W W^T or W^T W, whichever is the smaller identity, in float64; gain^2 I) for one (rows, ...) array."""
    w = values.reshape(values.shape[0], -1).astype(np.float64)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    return gram, gain**2 * np.eye(gram.shape[0])


def init_check(name: str, fn_name: str, shape: tuple[int, ...], **kwargs: Any) -> Case:
    """A row for ``init.<fn_name>(array of shape, **kwargs)``: exact for the deterministic ones, else KS
    (plus bounds for the uniform ones and the Gram matrix for orthogonal_)."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        seed = int(rng.integers(2**31))
        samples = 1 if fn_name in DETERMINISTIC else SAMPLES
        ours = draw_scratch(fn_name, shape, dtype, rng, samples, **kwargs)
        theirs = draw_torch(fn_name, shape, dtype, seed, samples, **kwargs)
        result = ParityResult()
        if fn_name in DETERMINISTIC:
            result.add("output", ours, theirs, 0.0)
            return result
        result.comparisons.append(ks_comparison(ours, theirs))
        if fn_name in UNIFORM:
            result.comparisons.append(bounds_comparison(ours, *torch_uniform_bounds(fn_name, shape, **kwargs)))
        if fn_name == "orthogonal_":
            gram, identity = gram_error(ours[0], kwargs.get("gain", 1.0))
            result.add("gram", gram, identity, rtol(dtype, math.prod(shape[1:])))
        return result
    return Case(name, run, "init")


# (initializer, shape, keyword arguments): every initializer, with several shapes and options
ROWS: list[tuple[str, tuple[int, ...], dict[str, Any]]] = [
    ("uniform_", (64, 32), {}), ("uniform_", (64, 32), {"a": -0.5, "b": 2.0}),
    ("normal_", (64, 32), {}), ("normal_", (64, 32), {"mean": 0.5, "std": 2.0}),
    ("trunc_normal_", (64, 32), {}), ("trunc_normal_", (64, 32), {"mean": 1.0, "std": 0.5, "a": 0.0, "b": 3.0}),
    ("trunc_normal_", (64, 32), {"a": 1.5, "b": 4.0}), ("trunc_normal_", (64, 32), {"mean": 5.0, "a": -1.0, "b": 1.0}),
    ("xavier_uniform_", (64, 32), {}), ("xavier_uniform_", (16, 8, 3, 3), {"gain": math.sqrt(2.0)}),
    ("xavier_normal_", (64, 32), {}), ("xavier_normal_", (16, 8, 3, 3), {"gain": 5.0 / 3}),
    ("kaiming_uniform_", (64, 32), {}), ("kaiming_uniform_", (64, 32), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (16, 8, 3, 3), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (64, 32), {}), ("kaiming_normal_", (16, 8, 3, 3), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (64, 32), {"a": 0.2, "nonlinearity": "leaky_relu"}),
    ("orthogonal_", (32, 16), {}), ("orthogonal_", (16, 32), {"gain": 2.0}), ("orthogonal_", (8, 4, 3), {}),
    ("eye_", (4, 6), {}), ("eye_", (6, 4), {}), ("constant_", (5, 3), {"val": 0.3}),
    ("zeros_", (5, 3), {}), ("ones_", (2, 3, 4), {}),
]


def row_name(fn_name: str, shape: tuple[int, ...], kwargs: dict[str, Any]) -> str:
    options = "".join(f",{k}={v:.4g}" if isinstance(v, float) else f",{k}={v}" for k, v in kwargs.items())
    return f"init.{fn_name}{shape}{options}"


CASES: list[Case] = [init_check(row_name(fn, shape, kw), fn, shape, **kw) for fn, shape, kw in ROWS]
