"""torch's CPU arithmetic where NumPy's rounds differently, for the optimizers that must follow torch bit for bit.

- ``fma(a, b, c)``: a·b + c rounded once. torch's vectorized CPU kernels fuse the multiply-add of
  ``add_(other, alpha=)`` (``vec::fmadd(other, alpha, self)``) and of ``lerp_``; NumPy rounds the product first.
- ``add_scaled_(a, b, alpha)``: ``a.add_(b, alpha=alpha)`` in place, fused as torch's.
- ``dot(a, b)``: torch's ``dot``, MKL's BLAS: its own summation order, not OpenBLAS's (NumPy's).
- ``torch_sum(a)``, ``abs_sum(a)``: torch's ``sum`` (ATen's cascade), not NumPy's pairwise sum.
- ``rdiv(a, b)``: ``a / b``, as torch divides a Python number by a 0-d tensor: ``b.reciprocal() * a``, rounded
  twice (``Tensor.__rtruediv__``). A NumPy scalar here stands for torch's 0-d tensor, a Python float for a float.
- ``sqrt(x)``: NumPy's, correctly rounded. torch's float32 sqrt (MKL's vector math) is not, and is not reproduced
  (torch_ref/oracle/gaps.py has where that shows); a test swaps torch's in here to show it is all that differs.

The orders are those of torch on one thread, measured on this project's machines (parity_tests/test_optim_lbfgs.py
checks them against the installed torch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's split of a float64 into two 26-bit halves


def _two_product(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """a·b = p + e exactly (Dekker)."""
    p = a * b

    def split(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        c = _SPLIT * x
        high = c - (c - x)
        return high, x - high

    (ah, al), (bh, bl) = split(a), split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def fma(a: NDArray[Any], b: Any, c: NDArray[Any]) -> NDArray[Any]:
    """a·b + c rounded once (``b`` an array or a scalar): float32 through float64, where the product is exact;
    float64 by error-free transforms (Dekker's product, Knuth's two-sum)."""
    if a.dtype != np.float64:
        wide = a.astype(np.float64) * np.asarray(b, np.float64) + c.astype(np.float64)
        narrow: NDArray[Any] = wide.astype(a.dtype)
        return narrow
    p, e = _two_product(a, np.broadcast_to(np.asarray(b, np.float64), a.shape))
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)
    out: NDArray[Any] = s + (t + e)
    return out


def add_scaled_(a: NDArray[Any], b: NDArray[Any], alpha: Any) -> None:
    """``a += alpha · b`` with one rounding, in place: torch's ``a.add_(b, alpha=alpha)`` (alpha in a's dtype)."""
    a[...] = fma(b, np.asarray(alpha, a.dtype), a)


#: torch's ``dot`` calls MKL's ``ddot``/``sdot``; measured on this project's CPUs (AMD EPYC, MKL's 128-bit kernel),
#: single-threaded: products rounded (no FMA), summed into 4 accumulators of 2 (float64) or 4 (float32) lanes
#: over the main loop, the rest into the first accumulator (float32: 8 at a time into the first two, then
#: 4), the last odd elements into lane 0; then the accumulators in order, then the lanes.
_DOT_LANES = {np.dtype(np.float64): 2, np.dtype(np.float32): 4}


def dot(a: NDArray[Any], b: NDArray[Any]) -> Any:
    """``a.dot(b)`` of two flat vectors in MKL's summation order (``_DOT_LANES``), a NumPy scalar of their dtype
    (torch's 0-d tensor); another dtype: NumPy's dot."""
    lanes = _DOT_LANES.get(a.dtype)
    if lanes is None or b.dtype != a.dtype:
        return a.dot(b)
    products = a * b
    n, block = products.size, 4 * lanes
    main = n - n % block
    acc = np.zeros((4, lanes), a.dtype)
    if main:  # a reduction over the first axis adds row after row, as the kernel's loop
        acc += np.add.reduce(products[:main].reshape(-1, 4, lanes), axis=0)
    i = main
    if lanes == 4 and i + 8 <= n:
        acc[:2] += products[i:i + 8].reshape(2, 4)
        i += 8
    while i + lanes <= n:
        acc[0] += products[i:i + lanes]
        i += lanes
    for value in products[i:]:
        acc[0, 0] += value
    total = ((acc[0] + acc[1]) + acc[2]) + acc[3]
    return total[0] + total[1] if lanes == 2 else (total[0] + total[2]) + (total[1] + total[3])


#: torch's ``sum`` of a contiguous vector (ATen's ``cascade_sum``), single-threaded: Vectorized lanes (measured
#: here: 4 float64, 8 float32) read in rows of 4 vectors into 4 accumulators, cascaded through 4 levels of
#: partial sums every ``2**level_power`` rows; leftover vectors into the first, the accumulators in order; then
#: the scalar tail from 0, plus each lane in order. Shorter than one vector: the same on scalars.
_SUM_LANES = {np.dtype(np.float64): 4, np.dtype(np.float32): 8}


def _multi_row_sum(rows: NDArray[Any]) -> NDArray[Any]:
    """ATen's ``multi_row_sum``: ``rows`` (size, 4, ...) summed down the first axis by its cascade: (4, ...)."""
    size = rows.shape[0]
    level_power = max(4, (size - 1).bit_length() // 4 if size > 1 else 0)
    step, acc = 1 << level_power, np.zeros((4, *rows.shape[1:]), rows.dtype)
    i = 0
    while i + step <= size:
        acc[0] += np.add.reduce(rows[i:i + step], axis=0)  # row after row
        i += step
        for j in range(1, 4):
            acc[j] += acc[j - 1]
            acc[j - 1] = 0
            if i & ((step - 1) << (j * level_power)):
                break
    if i < size:
        acc[0] += np.add.reduce(rows[i:], axis=0)
    for j in range(1, 4):
        acc[0] += acc[j]
    out: NDArray[Any] = acc[0]
    return out


def _row_sum(x: NDArray[Any]) -> Any:
    """ATen's ``row_sum``: ``x`` (size, ...) as rows of 4 for ``_multi_row_sum``, the leftover into the first."""
    ilp = x.shape[0] // 4
    acc = _multi_row_sum(x[:ilp * 4].reshape(ilp, 4, *x.shape[1:])) if ilp else np.zeros((4, *x.shape[1:]), x.dtype)
    for value in x[ilp * 4:]:
        acc[0] += value
    return ((acc[0] + acc[1]) + acc[2]) + acc[3]


def torch_sum(a: NDArray[Any]) -> Any:
    """``a.sum()`` of a flat vector in torch's order (``_SUM_LANES``); another dtype: NumPy's sum."""
    lanes = _SUM_LANES.get(a.dtype)
    if lanes is None:
        return a.sum()
    if a.size < lanes:
        return _row_sum(a)
    whole = a.size // lanes
    vector = _row_sum(a[:whole * lanes].reshape(whole, lanes))
    total = a.dtype.type(0)
    for value in a[whole * lanes:]:
        total += value
    for value in vector:
        total += value
    return total


def abs_sum(a: NDArray[Any]) -> Any:
    """``a.abs().sum()`` in torch's order."""
    return torch_sum(np.abs(a))


def sqrt(x: Any) -> Any:
    """The square root, correctly rounded (NumPy's); torch's float32 one is not (see the module's docstring)."""
    return np.sqrt(x)


def rdiv(a: Any, b: Any) -> Any:
    """``a / b`` with torch's types: a Python number over a NumPy scalar (torch's 0-d tensor) is ``(1 / b) * a``,
    as torch's ``Tensor.__rtruediv__`` computes it (reciprocal, then multiply: two roundings); else true division."""
    if isinstance(b, np.generic) and not isinstance(a, np.generic | np.ndarray):
        return np.reciprocal(b) * a
    return a / b
