r"""Adaptive softmax (torch's ``AdaptiveLogSoftmaxWithLoss``, Grave et al. 2016) as pure pieces around the
module's linear layers: ``adaptive_partition`` assigns each target to the head's shortlist or to a tail cluster,
``adaptive_log_softmax_forward`` / ``_backward`` take the logits of the head and of each cluster's rows.

With cutoffs :math:`c_0 < c_1 < \dots < c_K = n\_classes`, the head has :math:`c_0 + K` outputs: the shortlist
classes :math:`0 \dots c_0 - 1` and one per cluster; cluster :math:`k` (classes :math:`[c_{k-1}, c_k)`) has its
own logits :math:`u^{(k)}`. For a row :math:`n` with target :math:`t_n`, :math:`h = \log\mathrm{softmax}(z_n)`
the head's log-probabilities:

.. math::
    o_n = h_{t_n} \quad (t_n < c_0), \qquad
    o_n = h_{c_0 + k - 1} + \log\mathrm{softmax}(u^{(k)}_n)_{t_n - c_{k-1}} \quad (c_{k-1} \le t_n < c_k),

    \ell = -\frac{1}{N} \sum_n o_n.

Gradients, with :math:`g_n = \partial L/\partial o_n - \frac{1}{N} \partial L/\partial \ell` (both upstream
gradients may be given), :math:`e_j` the one-hot vector and :math:`j_n` the head column of row n (its target or its
cluster's):

.. math::
    \frac{\partial L}{\partial z_n} = g_n (e_{j_n} - \mathrm{softmax}(z_n)), \qquad
    \frac{\partial L}{\partial u^{(k)}_n} = g_n (e_{t_n - c_{k-1}} - \mathrm{softmax}(u^{(k)}_n)).

Vectorized over the rows; a loop over the K clusters only. Shapes: head logits (N, c_0 + K), cluster k's
logits (N_k, c_k - c_{k-1}) for its N_k rows; target (N,); output (N,), loss ().
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..softmax import log_softmax

__all__ = ["adaptive_log_softmax_backward", "adaptive_log_softmax_forward", "adaptive_partition"]


class Cluster(NamedTuple):
    """A tail cluster's rows: its index k among the tails (0-based), the rows whose target is in it, and
    those targets relative to the cluster's first class."""

    tail: int
    rows: np.ndarray
    relative: np.ndarray


class AdaptiveCache(NamedTuple):
    head_logprob: np.ndarray  # (N, c_0 + K)
    columns: np.ndarray  # (N,): each row's head column
    clusters: list[Cluster]
    cluster_logprobs: list[np.ndarray]  # (N_k, size_k) for each cluster with rows


def adaptive_partition(target: np.ndarray, cutoffs: list[int], owner: str = "AdaptiveLogSoftmaxWithLoss"
                       ) -> tuple[np.ndarray, list[Cluster]]:
    """Each row's head column (its target in the shortlist, ``c_0 + k`` in cluster k) and the clusters with rows,
    ``cutoffs`` ending with n_classes. A target outside [0, n_classes - 1] is an IndexError with torch's message (a
    RuntimeError in torch; an IndexError as scratch's other losses' out-of-range targets)."""
    n_classes = cutoffs[-1]
    if target.size and (target.min() < 0 or target.max() >= n_classes):
        raise IndexError(f"{owner}: Target values should be in [0, {n_classes - 1}], but values in range "
                           f"[{target.min()}, {target.max()}] were found. ")
    bounds = np.asarray(cutoffs, dtype=np.int64)
    which = np.searchsorted(bounds, target, side="right")  # 0: shortlist, k: tail cluster k - 1
    columns = np.where(which == 0, target, cutoffs[0] + which - 1).astype(np.int64)
    clusters = []
    for k in range(1, len(cutoffs)):
        rows = np.flatnonzero(which == k)
        if rows.size:
            clusters.append(Cluster(k - 1, rows, (target[rows] - cutoffs[k - 1]).astype(np.int64)))
    return columns, clusters


@np.errstate(invalid="ignore", over="ignore", divide="ignore")  # inf and NaN pass through, as in torch
def adaptive_log_softmax_forward(head_logits: np.ndarray, cluster_logits: list[np.ndarray], columns: np.ndarray,
                                 clusters: list[Cluster]) -> tuple[tuple[np.ndarray, np.ndarray], AdaptiveCache]:
    """``(output, loss), cache``: the target log-probabilities :math:`o_n` and :math:`\\ell = -\\mathrm{mean}(o)`
    (NaN for an empty batch, as torch's mean)."""
    batch = np.arange(head_logits.shape[0])
    head_logprob = log_softmax(head_logits, 1)
    output = np.zeros(head_logits.shape[0], dtype=head_logits.dtype)
    logprobs = []
    for cluster, logits in zip(clusters, cluster_logits, strict=True):
        logprob = log_softmax(logits, 1)
        output[cluster.rows] = logprob[np.arange(cluster.rows.size), cluster.relative]
        logprobs.append(logprob)
    output += head_logprob[batch, columns]  # torch's order: the cluster's term, then the head's
    loss = -output.mean() if output.size else np.array(np.nan, dtype=output.dtype)
    return (output, np.asarray(loss, dtype=output.dtype)), AdaptiveCache(head_logprob, columns, clusters, logprobs)


@np.errstate(invalid="ignore", over="ignore", divide="ignore")
def adaptive_log_softmax_backward(grad_output: np.ndarray | None, grad_loss: Any, cache: AdaptiveCache
                                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The gradients of the head's logits and of each cluster's (in ``cache.clusters``' order), from the
    gradients of the output (None: zero) and of the loss (None: zero)."""
    head_logprob, columns = cache.head_logprob, cache.columns
    n = head_logprob.shape[0]
    g = np.zeros(n, dtype=head_logprob.dtype) if grad_output is None else grad_output.astype(head_logprob.dtype)
    if grad_loss is not None and n:
        g = g - np.asarray(grad_loss, dtype=head_logprob.dtype) / n
    dhead = np.exp(head_logprob) * -g[:, np.newaxis]
    dhead[np.arange(n), columns] += g
    dclusters = []
    for cluster, logprob in zip(cache.clusters, cache.cluster_logprobs, strict=True):
        rows_g = g[cluster.rows]
        dlogits = np.exp(logprob) * -rows_g[:, np.newaxis]
        dlogits[np.arange(cluster.rows.size), cluster.relative] += rows_g
        dclusters.append(dlogits)
    return dhead, dclusters
