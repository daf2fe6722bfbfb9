"""Muon's Newton-Schulz orthogonalization in bfloat16, rounded as torch's CPU kernels round it.

NumPy has no bfloat16. A bfloat16 value here is a float32 whose 16 low bits are zero: ``bfloat16`` rounds
float32 bit patterns to nearest, ties to even, as torch's conversion (c10's ``round_to_nearest_even``) does.
torch computes every bfloat16 op in float32 and rounds the result to bfloat16 once, so each op below is
float32 arithmetic in torch's operation order, then ``bfloat16``. A float32 fused multiply-add is computed in
float64 and rounded to float32: exact, since the product of a float32 and a bfloat16 (or of two bfloat16
values) has at most 32 significant bits.

The matrix products follow torch's own small-matrix kernels (aten/src/ATen/native/cpu/BlasKernel.cpp), which
torch uses for a bfloat16 product of m n k <= ``SMALL`` multiply-adds: a product whose operands are both
row-major runs ``gemm_transab_`` (each dot product in four partial sums, over l mod 4, then added in order),
one with a transposed (column-major) operand ``gemm_transa_`` / ``gemm_transb_`` (one running sum, l = 0, 1,
...; torch vectorizes a dot product of 16 or more terms there, which these sums do not follow); then
``beta * c + alpha * dot`` as one fused multiply-add. The order matters: a float32 sum that cancels can land
on a bfloat16 rounding tie, which another order rounds the other way. Larger products torch hands to oneDNN,
which accumulates in its own blocked order; there the exact sum, rounded to float32, stands in for it, and one
element in a few thousand can round to the neighbouring bfloat16 value.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

__all__ = ["bfloat16", "zeropower_via_newtonschulz"]

#: torch's bound on a bfloat16 product it computes itself (mkldnn_gemm_min_size = 16 * 16 * 16)
SMALL = 16 * 16 * 16


def bfloat16(x: Any) -> np.ndarray:
    """``x`` rounded to bfloat16, as torch's ``.bfloat16()``: to float32 first (a float64 value is rounded
    twice, as torch's conversion rounds it), then the 16 low bits of the float32 pattern rounded away to
    nearest, ties to even (add 0x7FFF plus the lowest kept bit, clear the low bits; a carry runs into the
    exponent, up to inf); NaN stays NaN. Returned as float32."""
    single = np.asarray(x, dtype=np.float32)
    bits = single.view(np.uint32).astype(np.uint64)  # uint64: the addition cannot wrap
    rounded = ((bits + ((bits >> 16) & 1) + 0x7FFF) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(single), np.float32(np.nan), rounded)


def zeropower_via_newtonschulz(grad: np.ndarray, ns_coefficients: tuple[float, float, float], ns_steps: int,
                               eps: float) -> np.ndarray:
    """torch's ``_zeropower_via_newtonschulz``: ``ns_steps`` quintic Newton-Schulz iterations towards the
    orthogonal factor U Vᵀ of ``grad`` (A, B) = U S Vᵀ, in bfloat16, returned as float32 of ``grad``'s shape:

        X ← bf16(grad);  if A > B:  X ← Xᵀ  (a transposed view in torch)
        X ← X / max(||X||_F, ε)
        k times:  G ← X Xᵀ;  G ← b G + c G G  (addmm);  X ← a X + G X  (addmm)
        if A > B:  X ← Xᵀ

    torch's checks and messages, in its order."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (float(v) for v in ns_coefficients)
    tall = grad.shape[0] > grad.shape[1]
    ortho = bfloat16(grad)
    if tall:
        ortho = ortho.T
    norm = bfloat16(np.sqrt(np.sum(np.square(ortho, dtype=np.float64))))  # torch: float32 sum, exact here
    ortho = bfloat16(ortho / np.maximum(norm, bfloat16(eps)))  # clamp(min=ε) in bfloat16; NaN stays NaN
    for step in range(ns_steps):
        view = tall and step == 0  # torch's X is the transposed view until the first addmm makes a new one
        gram = bfloat16(_running(ortho, ortho.T))
        gram_update = _addmm(gram, gram, gram, beta=b, alpha=c)
        ortho = _addmm(ortho, gram_update, ortho, beta=a, alpha=1.0, running=view)
    return ortho.T if tall else ortho


def _addmm(input: np.ndarray, m1: np.ndarray, m2: np.ndarray, *, beta: float, alpha: float,
           running: bool = False) -> np.ndarray:
    """torch's ``addmm(input, m1, m2, beta=β, alpha=α)`` on bfloat16 values: the float32 dot products d of
    ``m1 @ m2`` (in four partial sums; in one running sum when ``running``: m2 is a transposed view), then
    bf16(fma(β, input, α d)), β and α float32."""
    dot = _running(m1, m2) if running else _partial_sums(m1, m2)
    if alpha != 1.0:
        dot = np.float32(alpha) * dot
    return bfloat16(np.float64(np.float32(beta)) * input + dot.astype(np.float64))


def _running(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in float32, each dot product one running sum of fused multiply-adds (l = 0, 1, ...)."""
    m, k = a.shape
    if m * k * b.shape[1] > SMALL:
        return _exact(a, b)
    acc = np.zeros((m, b.shape[1]), dtype=np.float32)
    for term in range(k):  # a loop over the reduction: torch's order of the float32 additions
        acc = _accumulate(acc, a[:, term], b[term])
    return acc


def _partial_sums(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in float32 as torch's ``sum`` computes each dot product: four partial sums, term l going to sum
    l mod 4 (the last k mod 4 terms to sum 0), then sum 0 + sum 1 + sum 2 + sum 3 in that order."""
    m, k = a.shape
    if m * k * b.shape[1] > SMALL:
        return _exact(a, b)
    parts = np.zeros((4, m, b.shape[1]), dtype=np.float32)
    whole = k - k % 4
    for term in range(k):  # a loop over the reduction: torch's order of the float32 additions
        part = term % 4 if term < whole else 0
        parts[part] = _accumulate(parts[part], a[:, term], b[term])
    total = parts[0]
    for part in parts[1:]:
        total = total + part  # float32 additions
    return cast("np.ndarray", total)


def _accumulate(acc: np.ndarray, column: np.ndarray, row: np.ndarray) -> np.ndarray:
    """acc + column ⊗ row, one fused multiply-add per element: the bfloat16 product is exact in float64."""
    return (acc + np.multiply.outer(column.astype(np.float64), row.astype(np.float64))).astype(np.float32)


def _exact(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b of bfloat16 values, summed in float64 (exact for products of bfloat16 values short of an extreme
    spread of magnitudes) and rounded once to float32: oneDNN's float32 sum wherever that one is exact."""
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
