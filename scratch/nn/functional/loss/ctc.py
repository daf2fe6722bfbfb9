r"""The Connectionist Temporal Classification loss (Graves et al., 2006) as a pure pair, following torch's CPU
kernel (aten/src/ATen/native/LossCTC.cpp) step for step, in log space.

For a target :math:`l` of length S the extended target :math:`l'` interleaves blanks, ``blank l_1 blank ...
l_S blank`` (length 2S + 1). With :math:`y_{t,k}` the probability of class k at time t (``log_probs`` holds
:math:`\log y`):

- forward variables (eq. 6-7): :math:`\alpha_0(0) = y_{0,b}`, :math:`\alpha_0(1) = y_{0,l'_1}`, and
  :math:`\alpha_t(s) = (\alpha_{t-1}(s) + \alpha_{t-1}(s-1) + [l'_s \ne l'_{s-2}]\, \alpha_{t-1}(s-2))\,
  y_{t,l'_s}` -- a repeated label needs a blank between its copies, so the skip is off there;
- the loss (eq. 8): :math:`-\log p(l|x) = -\log(\alpha_{T-1}(2S) + \alpha_{T-1}(2S-1))`, T the sample's input
  length (:math:`-\log \alpha_{T-1}(0)` for an empty target; 0 for T = 0 and S = 0, inf for T = 0 < S);
- backward variables (eq. 10-11): :math:`\beta_{T-1}(2S) = y_{T-1,b}`, :math:`\beta_{T-1}(2S-1) =
  y_{T-1,l'_{2S-1}}`, :math:`\beta_t(s) = (\beta_{t+1}(s) + \beta_{t+1}(s+1) + [l'_s \ne l'_{s+2}]\,
  \beta_{t+1}(s+2))\, y_{t,l'_s}`;
- the gradient (eq. 16), as torch computes it, for t below the input length:
  :math:`\partial L / \partial \log y_{t,k} = g\,(y_{t,k} - \exp(\log \sum_{s: l'_s = k} \alpha_t(s) \beta_t(s)
  + \mathrm{nll} - \log y_{t,k}))`, g the upstream gradient of the sample's loss; 0 at t >= the input length.
  torch's quirk, matched: this is the gradient through a log_softmax before the loss, not the partial
  derivative (which lacks the term :math:`g\,y_{t,k}`; the log_softmax's backward cancels it). At the last step
  torch assigns the two final states' terms instead of summing (see ``_final_step``).

Every sum of probabilities is a log-sum-exp about its maximum (0 when all terms are -inf, as torch). The
recursions run over time in a Python loop (a recurrence, as an RNN's), each step vectorized over the batch and
the extended labels. An impossible alignment has an infinite loss and, as in torch, a NaN gradient, unless
``zero_infinity`` zeroes the loss and its gradient.

Shapes: log_probs (T, N, C) or unbatched (T, C); targets (N, S) padded or (sum(target_lengths),) concatenated
(unbatched: (S,)), integer labels; input_lengths, target_lengths (N) (unbatched: () or (1)) integer arrays or
sequences of ints. Loss (N) for 'none' (() unbatched), else (). The gradient has log_probs' shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import numpy as np

from ._reduction import check_reduction

__all__ = ["ctc_loss_backward", "ctc_loss_forward"]

NAME = "CTCLoss"
NEG_INF = -np.inf


class CTCCache(NamedTuple):
    """What ``ctc_loss_backward`` needs."""

    log_probs: np.ndarray  #: (T, N, C), unbatched input given a batch of one
    ext: np.ndarray  #: (N, 2S + 1) extended labels, blank beyond each sample's own 2 S_n + 1
    valid: np.ndarray  #: (N, 2S + 1) the positions s < 2 S_n + 1
    log_alpha: np.ndarray  #: (T, N, 2S + 1)
    nll: np.ndarray  #: (N,) the losses before zero_infinity
    input_lengths: np.ndarray  #: (N,) int64
    target_lengths: np.ndarray  #: (N,) int64
    reduction: str
    zero_infinity: bool
    batched: bool


# ----------------------------------------------------------------------------- arguments
def _lengths(what: str, value: Any, batch: int) -> np.ndarray:
    """An integer array or a sequence of ints as an (N,) int64 array; torch's size check."""
    if isinstance(value, (np.ndarray, np.generic)):
        if not np.issubdtype(value.dtype, np.integer):
            raise TypeError(f"{NAME}: {what} must be integral, got dtype {value.dtype}")
        lengths = np.asarray(value, dtype=np.int64).reshape(-1)
    elif isinstance(value, Sequence) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                             for v in value):
        lengths = np.asarray(value, dtype=np.int64).reshape(-1)
    else:
        raise TypeError(f"{NAME}: {what} must be an integer array or a sequence of ints, got "
                        f"{type(value).__name__}")
    if lengths.size != batch:
        raise ValueError(f"{NAME}: {what} must be of size batch_size ({batch}), got {lengths.size} values")
    if np.any(lengths < 0):
        raise ValueError(f"{NAME}: expected {what} to have value at least 0, but got value {lengths.min()}")
    return lengths


def _labels(targets: Any, target_lengths: np.ndarray, n_classes: int, blank: int) -> np.ndarray:
    """The targets as (N, S) labels, S the longest target length, blank past each sample's length: from a
    padded (N, S') or a concatenated (sum(target_lengths),) array, with torch's size checks."""
    if not isinstance(targets, np.ndarray) or not np.issubdtype(targets.dtype, np.integer):
        got = targets.dtype if isinstance(targets, np.ndarray) else type(targets).__name__
        raise TypeError(f"{NAME}: targets must be an integer array, got {got}")
    batch, longest = target_lengths.size, int(target_lengths.max(initial=0))
    within = np.arange(longest) < target_lengths[:, None]  # (N, S)
    if targets.ndim == 1:
        if targets.size != target_lengths.sum():
            raise ValueError(f"{NAME}: concatenated targets must have size sum(target_lengths) = "
                             f"{target_lengths.sum()}, got {targets.size}")
        starts = np.cumsum(target_lengths) - target_lengths
        index = np.minimum(starts[:, None] + np.arange(longest), max(targets.size - 1, 0))
        labels = targets[index] if targets.size else np.zeros((batch, longest), dtype=targets.dtype)
    elif targets.ndim == 2:
        if targets.shape[0] != batch or targets.shape[1] < longest:
            raise ValueError(f"{NAME}: padded targets must have shape (N, S) with N = {batch} and "
                             f"S >= max(target_lengths) = {longest}, got {targets.shape}")
        labels = targets[:, :longest]
    else:
        raise ValueError(f"{NAME}: targets must be 1-D (concatenated) or 2-D (padded), got shape {targets.shape}")
    labels = np.where(within, labels, blank).astype(np.int64)
    if np.any((labels < 0) | (labels >= n_classes)):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(f"{NAME}: target label {bad} is out of range for {n_classes} classes")
    return labels


def _batched(log_probs: np.ndarray) -> np.ndarray:
    if not isinstance(log_probs, np.ndarray) or not np.issubdtype(log_probs.dtype, np.floating):
        raise TypeError(f"{NAME}: log_probs must be a floating array")
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"{NAME}: log_probs must be (T, N, C) or unbatched (T, C), got shape {log_probs.shape}")
    if log_probs.size == 0:  # torch's check: no time step, no sample or no class
        raise ValueError(f"{NAME}: log_probs must not be empty, got shape {log_probs.shape}")
    return log_probs if log_probs.ndim == 3 else log_probs[:, None, :]


# --------------------------------------------------------------------------------- forward
def _lse3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """log(e^a + e^b + e^c) about the maximum, 0 where all three are -inf (torch's ``lamax``)."""
    m = np.maximum(np.maximum(a, b), c)
    m = np.where(m == NEG_INF, 0, m)
    return cast("np.ndarray", np.log(np.exp(a - m) + np.exp(b - m) + np.exp(c - m)) + m)


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    """x moved k places along the last axis, -inf filling in: right (x[s - k]) for k > 0, left for k < 0."""
    out = np.full_like(x, NEG_INF)
    if k > 0:
        out[..., k:] = x[..., :-k]
    else:
        out[..., :k] = x[..., -k:]
    return out


def _skips(ext: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(N, L): whether alpha_t(s) may come from alpha_{t-1}(s - 2), i.e. s >= 2, l'_s != l'_{s-2}, s a position
    of the sample (never at a blank, nor between two copies of a repeated label)."""
    skip = np.zeros_like(valid)
    skip[:, 2:] = valid[:, 2:] & (ext[:, 2:] != ext[:, :-2])
    return skip


def _alpha(lp_ext: np.ndarray, valid: np.ndarray, skip: np.ndarray, target_lengths: np.ndarray) -> np.ndarray:
    """log alpha (T, N, L), every time step (those past a sample's input length are never read)."""
    alpha = np.full(lp_ext.shape, NEG_INF, dtype=lp_ext.dtype)
    if lp_ext.shape[0] == 0:
        return alpha
    alpha[0, :, 0] = lp_ext[0, :, 0]
    if lp_ext.shape[2] > 1:
        alpha[0, :, 1] = np.where(target_lengths > 0, lp_ext[0, :, 1], NEG_INF)
    for t in range(1, lp_ext.shape[0]):  # the recurrence over time; each step vectorized over (N, L)
        prev = alpha[t - 1]
        step = _lse3(prev, _shift(prev, 1), np.where(skip, _shift(prev, 2), NEG_INF)) + lp_ext[t]
        alpha[t] = np.where(valid, step, NEG_INF)
    return alpha


def _neg_log_likelihood(alpha: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray) -> np.ndarray:
    """-log(alpha_{T-1}(2S) + alpha_{T-1}(2S-1)) per sample (eq. 8), torch's special cases for T = 0, S = 0."""
    batch = np.arange(input_lengths.size)
    if alpha.shape[0] == 0:
        last = np.full((input_lengths.size, alpha.shape[2]), NEG_INF, dtype=alpha.dtype)
    else:
        last = alpha[np.maximum(input_lengths - 1, 0), batch]  # (N, L)
    l1 = last[batch, 2 * target_lengths]
    l2 = np.where(target_lengths > 0, last[batch, np.maximum(2 * target_lengths - 1, 0)], NEG_INF)
    m = np.maximum(l1, l2)
    m = np.where(m == NEG_INF, 0, m)
    log_likelihood = np.where(target_lengths == 0, l1, np.log(np.exp(l1 - m) + np.exp(l2 - m)) + m)
    empty = np.where(target_lengths == 0, 0, NEG_INF).astype(alpha.dtype)  # no input: 1 or 0 for no target
    return -np.where(input_lengths == 0, empty, log_likelihood)


def ctc_loss_forward(log_probs: np.ndarray, targets: np.ndarray, input_lengths: Any, target_lengths: Any,
                     blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
                     ) -> tuple[np.ndarray, CTCCache]:
    """The CTC loss (see the module docstring): per sample, or summed, or 'mean': each divided by its target
    length (clamped to 1), then averaged over the batch. ``zero_infinity`` replaces an infinite loss by 0."""
    check_reduction(reduction, NAME)
    lp = _batched(log_probs)
    n_steps, batch, n_classes = lp.shape
    if not 0 <= blank < n_classes:
        raise ValueError(f"{NAME}: blank must be in label range [0, {n_classes}), got {blank}")
    il, tl = _lengths("input_lengths", input_lengths, batch), _lengths("target_lengths", target_lengths, batch)
    if np.any(il > n_steps):
        raise ValueError(f"{NAME}: expected input_lengths to have value at most {n_steps}, but got value {il.max()}")
    labels = _labels(targets, tl, n_classes, blank)
    ext = np.full((batch, 2 * labels.shape[1] + 1), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    valid = np.arange(ext.shape[1]) < (2 * tl + 1)[:, None]
    skip = _skips(ext, valid)
    with np.errstate(all="ignore"):  # -inf - -inf and log 0 where no alignment exists: torch's infs and nans
        lp_ext = np.take_along_axis(lp, ext[None], axis=2)  # (T, N, L): log y_{t, l'_s}
        alpha = _alpha(lp_ext, valid, skip, tl)
        nll = _neg_log_likelihood(alpha, il, tl)
        losses = np.where(nll == np.inf, lp.dtype.type(0), nll) if zero_infinity else nll
        if reduction == "mean":  # torch: (losses / target_lengths.clamp_min(1)).mean()
            loss = np.asarray((losses / np.maximum(tl, 1).astype(lp.dtype)).sum() / lp.dtype.type(batch))
        elif reduction == "sum":
            loss = np.asarray(losses.sum())
        else:
            loss = losses if log_probs.ndim == 3 else losses.reshape(())
    cache = CTCCache(lp, ext, valid, alpha, nll, il, tl, reduction, zero_infinity, log_probs.ndim == 3)
    return loss.astype(lp.dtype, copy=False), cache


# -------------------------------------------------------------------------------- backward
def _beta(lp_ext: np.ndarray, cache: CTCCache) -> np.ndarray:
    """log beta (T, N, L): at t = T_n - 1 the two final states, below it eq. (10-11), -inf at t >= T_n."""
    il, tl, valid = cache.input_lengths, cache.target_lengths, cache.valid
    position = np.arange(valid.shape[1])
    final = (position == (2 * tl)[:, None]) | ((position == (2 * tl - 1)[:, None]) & (tl > 0)[:, None])
    skip = np.zeros_like(valid)  # beta_t(s) may come from beta_{t+1}(s + 2): alpha's skip into s + 2
    skip[:, :-2] = _skips(cache.ext, valid)[:, 2:]
    beta = np.full(lp_ext.shape, NEG_INF, dtype=lp_ext.dtype)
    for t in range(lp_ext.shape[0] - 1, -1, -1):  # the recurrence backwards in time, vectorized over (N, L)
        start = np.where(final, lp_ext[t], NEG_INF)
        if t + 1 < lp_ext.shape[0]:
            nxt = beta[t + 1]
            step = _lse3(nxt, _shift(nxt, -1), np.where(skip, _shift(nxt, -2), NEG_INF)) + lp_ext[t]
            step = np.where(valid, step, NEG_INF)
        else:
            step = start
        inside = (t < il - 1)[:, None]
        beta[t] = np.where((il - 1 == t)[:, None], start, np.where(inside, step, NEG_INF))
    return beta


def _final_step(log_ab: np.ndarray, cache: CTCCache) -> np.ndarray:
    """torch's kernel, matched: at t = T_n - 1 it assigns alpha * beta of the two final states (the final blank's,
    then the last label's over it, assuming their classes differ) instead of summing over every s. So a last
    label equal to the blank keeps only its own term, and an inf alpha elsewhere in that row adds no NaN."""
    rows = np.flatnonzero(cache.input_lengths > 0)
    steps, tl, ext = cache.input_lengths[rows] - 1, cache.target_lengths[rows], cache.ext[rows]
    position = np.arange(ext.shape[1])
    label = (position == (2 * tl - 1)[:, None]) & (tl > 0)[:, None]
    overwritten = (tl > 0) & (ext[np.arange(rows.size), np.maximum(2 * tl - 1, 0)] == ext[:, 0])
    keep = ((position == (2 * tl)[:, None]) & ~overwritten[:, None]) | label
    log_ab[steps, rows] = np.where(keep, log_ab[steps, rows], NEG_INF)
    return log_ab


def _collect(log_ab: np.ndarray, cache: CTCCache, n_classes: int) -> np.ndarray:
    """log sum_{s: l'_s = k} alpha_t(s) beta_t(s) as (T, N, C), -inf for a class the target lacks: each (sample,
    class) group of extended positions reduced at once (sorted into segments), about the group's own maximum."""
    n_steps, batch = log_ab.shape[:2]
    collected = np.full((n_steps, batch * n_classes), NEG_INF, dtype=log_ab.dtype)
    keys = (np.arange(batch)[:, None] * n_classes + cache.ext)[cache.valid]  # (M,) sample * C + class
    if keys.size == 0 or n_steps == 0:
        return collected.reshape(n_steps, batch, n_classes)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    terms = log_ab[:, cache.valid][:, order]  # (T, M), grouped by key
    m = np.maximum.reduceat(terms, starts, axis=1)
    m = np.where(m == NEG_INF, 0, m)
    counts = np.diff(np.r_[starts, keys.size])
    sums = np.add.reduceat(np.exp(terms - np.repeat(m, counts, axis=1)), starts, axis=1)
    collected[:, keys[starts]] = np.log(sums) + m
    return collected.reshape(n_steps, batch, n_classes)


def _per_sample(grad: np.ndarray, cache: CTCCache) -> np.ndarray:
    """dL/dloss_n (N,): the upstream gradient through the reduction and zero_infinity's where."""
    lp, tl = cache.log_probs, cache.target_lengths
    batch = tl.size
    if cache.reduction == "none":
        g = np.reshape(grad, (batch,)).astype(lp.dtype, copy=False)
    elif cache.reduction == "sum":
        g = np.broadcast_to(np.asarray(grad, dtype=lp.dtype), (batch,))
    else:  # mean's backward, then the division by the clamped target lengths
        g = np.broadcast_to(np.asarray(grad, dtype=lp.dtype) / lp.dtype.type(max(batch, 1)), (batch,))
        g = g / np.maximum(tl, 1).astype(lp.dtype)
    return np.where(cache.nll == np.inf, lp.dtype.type(0), g) if cache.zero_infinity else g


def ctc_loss_backward(grad: np.ndarray, cache: CTCCache) -> np.ndarray:
    r"""dL/dlog_probs (see the module docstring): g_n (y_{t,k} - exp(log gamma_t(k) + nll_n - log y_{t,k})) for
    t < T_n, gamma the collected alpha * beta, 0 at t >= T_n and, with zero_infinity, for an infinite loss."""
    lp = cache.log_probs
    with np.errstate(all="ignore"):  # an impossible alignment: inf - inf = nan, as in torch
        g = _per_sample(grad, cache)
        lp_ext = np.take_along_axis(lp, cache.ext[None], axis=2)
        log_ab = _final_step(cache.log_alpha + _beta(lp_ext, cache), cache)
        collected = _collect(log_ab, cache, lp.shape[2])
        nll = cache.nll[None, :, None]
        dlp = (np.exp(lp) - np.exp(collected + nll - lp)) * g[None, :, None]
    keep = np.arange(lp.shape[0])[:, None] < cache.input_lengths[None, :]  # (T, N): t < T_n
    if cache.zero_infinity:
        keep = keep & (cache.nll != np.inf)[None, :]
    dlp = np.where(keep[:, :, None], dlp, lp.dtype.type(0)).astype(lp.dtype, copy=False)
    return cast("np.ndarray", dlp if cache.batched else dlp[:, 0, :])
