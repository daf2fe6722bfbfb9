r"""Embedding and EmbeddingBag: pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs,
and the in-place max_norm renormalization torch applies before a lookup.

Forward is a row lookup, y[i..., :] = W[idx[i...], :]. Its gradient with respect to W is a
scatter-add of the upstream rows, dL/dW[k] = sum_{i: idx_i = k} s_i dL/dy_i, where s_i = 1, or
1 / count(idx_i) with ``scale_grad_by_freq`` (counts over this batch), and the ``padding_idx``
row gets nothing. The indices have no gradient.
"""

from __future__ import annotations

from typing import NamedTuple, cast

import numpy as np

__all__ = ["embedding_backward", "embedding_bag_backward", "embedding_bag_forward", "embedding_forward",
           "embedding_renorm_"]


class EmbeddingCache(NamedTuple):
    """What ``embedding_backward`` needs from ``embedding_forward``."""

    input: np.ndarray  #: the indices looked up, as intp
    num_embeddings: int
    padding_idx: int | None
    scale_grad_by_freq: bool


def check_indices(input: np.ndarray, num_embeddings: int, what: str = "Embedding") -> np.ndarray:
    """``input`` as an integer ndarray with every index in [0, num_embeddings), or a clear error."""
    input = np.asarray(input)
    if input.dtype.kind not in "iu":
        raise TypeError(f"{what}: expected integer indices (int64 or int32), got dtype {input.dtype}")
    if input.size:
        low, high = int(input.min()), int(input.max())
        bad = low if low < 0 else high
        if low < 0 or high >= num_embeddings:
            raise IndexError(f"{what}: index {bad} is out of range for num_embeddings={num_embeddings} "
                             f"(valid indices are 0 to {num_embeddings - 1})")
    return input.astype(np.intp, copy=False)


def embedding_renorm_(weight: np.ndarray, input: np.ndarray, max_norm: float, norm_type: float = 2.0) -> np.ndarray:
    r"""Rescale, in place, each distinct looked-up row of ``weight`` whose ``norm_type``-norm exceeds
    ``max_norm``: W[k] *= max_norm / (‖W[k]‖_p + 1e-7), as torch's embedding_renorm_ (no gradient).

    Shape: weight (num_embeddings, embedding_dim), input (*) integer indices.
    """
    rows = np.unique(input)
    norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1).astype(np.float64)
    over = norms > max_norm
    # torch computes the scale in double and multiplies the row in the weight's dtype
    scale = (max_norm / (norms[over] + 1e-7)).astype(weight.dtype)
    weight[rows[over]] *= scale[:, None]
    return weight


def embedding_forward(input: np.ndarray, weight: np.ndarray, padding_idx: int | None = None,
                      scale_grad_by_freq: bool = False) -> tuple[np.ndarray, EmbeddingCache]:
    r"""y[i..., :] = W[idx[i...], :].

    Shape: input (*) integer indices, weight (num_embeddings, embedding_dim),
    output (*, embedding_dim).
    """
    input = check_indices(input, weight.shape[0])
    out = weight[input]
    return out, EmbeddingCache(input, weight.shape[0], padding_idx, scale_grad_by_freq)


def embedding_backward(dout: np.ndarray, cache: EmbeddingCache) -> np.ndarray:
    r"""dL/dW[k] = sum_{i: idx_i = k, k != padding_idx} s_i dL/dy_i, a vectorized scatter-add
    (np.add.at), with s_i = 1 / count(idx_i) when ``scale_grad_by_freq`` (torch computes the scale
    in double and applies it in the weight's dtype), else 1.

    Shape: dout (*, embedding_dim); returns dL/dW of shape (num_embeddings, embedding_dim).
    """
    num_embeddings, padding_idx = cache.num_embeddings, cache.padding_idx
    flat = cache.input.reshape(-1)
    rows = dout.reshape(flat.size, dout.shape[-1])
    if cache.scale_grad_by_freq:
        counts = np.bincount(flat, minlength=num_embeddings)
        rows = rows * (1.0 / counts[flat]).astype(dout.dtype)[:, None]
    if padding_idx is not None:
        keep = flat != padding_idx
        flat, rows = flat[keep], rows[keep]
    grad_weight = np.zeros((num_embeddings, dout.shape[-1]), dtype=dout.dtype)
    np.add.at(grad_weight, flat, rows)
    return grad_weight


class EmbeddingBagCache(NamedTuple):
    """What ``embedding_bag_backward`` needs: the kept (non-padding) positions and how they reduce."""

    flat: np.ndarray  #: every position's index, (len(input),)
    bag: np.ndarray  #: each kept position's bag, (P,), non-decreasing
    scale: np.ndarray | None  #: per kept position: its per-sample weight (sum) or 1 / bag size (mean); None: 1
    argmax: np.ndarray | None  #: max mode: (B, D) index of the row each output took, -1 for an empty bag
    rows: np.ndarray | None  #: with per_sample_weights: the looked-up rows (P, D), for their gradient
    keep: np.ndarray  #: which input positions are kept (not padding_idx), (len(input),)
    num_embeddings: int
    scale_grad_by_freq: bool

    @property
    def index(self) -> np.ndarray:  # type: ignore[override]  # shadows tuple.index, never called on the cache
        """The kept positions' indices."""
        return cast("np.ndarray", self.flat[self.keep])


def _freq_scale(flat: np.ndarray, index: np.ndarray, num_embeddings: int) -> np.ndarray:
    """torch's scale_grad_by_freq in its EmbeddingBag backward: the g-th distinct index (ascending, padding_idx
    included) is scaled by 1 / count(sorted_indices[g]), the count of the index at *position g* of the sorted
    input, not of itself (a torch quirk, matched); each kept position's scale."""
    counts = np.bincount(flat, minlength=num_embeddings)
    distinct = np.unique(flat)
    scale = np.zeros(num_embeddings)
    scale[distinct] = 1.0 / counts[np.sort(flat)[: len(distinct)]]
    return cast("np.ndarray", scale[index])


def bags(input: np.ndarray, offsets: np.ndarray | None, include_last_offset: bool,
         owner: str = "EmbeddingBag") -> tuple[np.ndarray, np.ndarray, int]:
    """The flat indices, each position's bag and the number of bags, from a 2-D input (one bag per row) or
    a 1-D input cut at ``offsets``, checked as torch does. With ``include_last_offset``, offsets[-1] must be
    len(input) (the CSR format torch documents): torch's CPU kernels disagree otherwise (float32 sum and
    mean end the last bag at offsets[-1], float64, max and padding_idx at the end of the input)."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{owner}: if input is 2D, then offsets has to be None, as input is treated is a "
                             "mini-batch of fixed length sequences")
        if input.shape[1] == 0 and input.shape[0] > 0:
            raise ValueError(f"{owner}: a 2-D input needs at least one index per bag, got shape {input.shape}")
        return input.reshape(-1), np.repeat(np.arange(input.shape[0]), input.shape[1]), input.shape[0]
    if input.ndim != 1:
        raise ValueError(f"{owner}: input has to be 1D or 2D, but got an array of dimension {input.ndim}")
    if offsets is None or np.ndim(offsets) != 1:
        raise ValueError(f"{owner}: offsets has to be a 1D array for a 1-D input, got "
                         f"{None if offsets is None else np.shape(offsets)}")
    if np.asarray(offsets).dtype.kind not in "iu":
        raise TypeError(f"{owner}: offsets must be integers (int64 or int32), got dtype {np.asarray(offsets).dtype}")
    offsets = np.asarray(offsets, dtype=np.intp)
    count = len(offsets) - (1 if include_last_offset else 0)
    if count < 1:  # torch's kernel crashes (segmentation fault) here
        raise ValueError(f"{owner}: offsets must give at least one bag, got {len(offsets)} offsets with "
                         f"include_last_offset={include_last_offset}")
    if offsets[0] != 0:
        raise ValueError(f"{owner}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                         f"from position 0. However, got {offsets[0]}")
    if offsets[-1] > len(input):
        raise ValueError(f"{owner}: offsets[-1] can not be greater than input's length {len(input)} but got "
                         f"offsets[-1] of {offsets[-1]}")
    if include_last_offset and offsets[-1] != len(input):
        raise ValueError(f"{owner}: with include_last_offset=True, offsets[-1] must be the input's length "
                         f"{len(input)} (the CSR format), got {offsets[-1]}")
    if np.any(np.diff(offsets) < 0):  # torch computes something meaningless there
        raise ValueError(f"{owner}: offsets must be non-decreasing, got {offsets.tolist()}")
    bag = np.searchsorted(offsets[:count], np.arange(len(input)), side="right") - 1
    return input, bag, count


def _runs(bag: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sizes of the bags, the non-empty ones, and where each of those starts among the kept positions."""
    sizes = np.bincount(bag, minlength=count)
    full = np.flatnonzero(sizes)
    return sizes, full, (np.cumsum(sizes) - sizes)[full]


def _bag_max(rows: np.ndarray, full: np.ndarray, starts: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Per bag and feature, torch's scan ``if first or w > current: take w``: the first maximum wins, a
    nan is kept only when it comes first. Returns the maxima (B, D) and the kept position each took."""
    with np.errstate(invalid="ignore"):
        key = np.where(np.isnan(rows), -np.inf, rows)
        best = np.maximum.reduceat(key, starts, axis=0)
        position = np.arange(len(rows))[:, None]
        where = np.where(key == np.repeat(best, np.diff(np.append(starts, len(rows))), axis=0), position, len(rows))
    taken = np.minimum.reduceat(where, starts, axis=0)
    taken = np.where(np.isnan(rows[starts]), starts[:, None], taken)  # a leading nan stays
    out = np.zeros((count, rows.shape[1]), dtype=rows.dtype)
    chosen = np.full((count, rows.shape[1]), -1, dtype=np.intp)
    out[full] = np.take_along_axis(rows, taken, axis=0)
    chosen[full] = taken
    return out, chosen


def embedding_bag_forward(input: np.ndarray, weight: np.ndarray, offsets: np.ndarray | None = None,
                          mode: str = "mean", per_sample_weights: np.ndarray | None = None,
                          include_last_offset: bool = False, padding_idx: int | None = None,
                          scale_grad_by_freq: bool = False,
                          owner: str = "EmbeddingBag") -> tuple[np.ndarray, EmbeddingBagCache]:
    r"""Bag b holds the positions p of its run (a row of a 2-D input, or offsets[b] <= p < offsets[b+1]),
    without those whose index is ``padding_idx``; with rows r_p = W[idx_p]:

        sum:  y_b = sum_{p in b} w_p r_p   (w_p the per-sample weight, else 1)
        mean: y_b = (1 / |b|) sum_{p in b} r_p
        max:  y_b[d] = max_{p in b} r_p[d]  (torch's scan: the first maximum, a leading nan kept)

    An empty bag gives zeros. Computed as segmented reductions over the (contiguous) bags
    (``np.add.reduceat``, ``np.maximum.reduceat``), no loop over bags.

    Shape: input (B, N) or (P,) with offsets (B,) (or (B + 1,) with ``include_last_offset``);
    weight (num_embeddings, D); per_sample_weights like input; output (B, D).
    """
    flat, bag, count = bags(input, offsets, include_last_offset, owner)
    flat = check_indices(flat, weight.shape[0], owner)
    keep = np.ones(flat.shape, dtype=bool) if padding_idx is None else flat != padding_idx
    index, bag = flat[keep], bag[keep]
    sizes, full, starts = _runs(bag, count)
    rows = weight[index]
    argmax, scale, saved_rows = None, None, None
    if mode == "max":
        out, argmax = _bag_max(rows, full, starts, count)
    else:
        if per_sample_weights is not None:
            scale = per_sample_weights.reshape(-1)[keep]
            saved_rows = rows
        elif mode == "mean":
            scale = (1 / np.maximum(sizes, 1))[bag].astype(weight.dtype)
        terms = rows if scale is None else rows * scale[:, None]
        out = np.zeros((count, weight.shape[1]), dtype=weight.dtype)
        if len(full):
            out[full] = np.add.reduceat(terms, starts, axis=0)
    return out, EmbeddingBagCache(flat, bag, scale, argmax, saved_rows, keep, weight.shape[0], scale_grad_by_freq)


def embedding_bag_backward(dout: np.ndarray, cache: EmbeddingBagCache) -> tuple[np.ndarray, np.ndarray | None]:
    r"""dL/dW[k] = sum_{p: idx_p = k} s_p c_p dL/dy_{bag(p)}, with c_p the per-sample weight (sum), 1 / |bag|
    (mean) or 1; s_p = 1 / count(idx_p) in the input with ``scale_grad_by_freq``, else 1. max:
    dL/dW[k, d] = sum of dL/dy_b[d] over the bags b whose maximum in feature d came from row k.
    dL/dw_p = <r_p, dL/dy_{bag(p)}> for each per-sample weight (0 at padding positions).
    The scatters onto rows of W are ``np.add.at`` (any index may repeat anywhere).

    Shape: dout (B, D); returns (dL/dW (num_embeddings, D), dL/dper_sample_weights flat (P,) or None).
    """
    grad_weight = np.zeros((cache.num_embeddings, dout.shape[1]), dtype=dout.dtype)
    if cache.argmax is not None:
        bag, feature = np.nonzero(cache.argmax >= 0)
        np.add.at(grad_weight, (cache.index[cache.argmax[bag, feature]], feature), dout[bag, feature])
        return grad_weight, None
    index, terms = cache.index, dout[cache.bag]
    if cache.scale is not None:
        terms = terms * cache.scale[:, None]
    if cache.scale_grad_by_freq:
        terms = terms * _freq_scale(cache.flat, index, cache.num_embeddings).astype(dout.dtype)[:, None]
    np.add.at(grad_weight, index, terms)
    if cache.rows is None:
        return grad_weight, None
    grad_psw = np.zeros(cache.keep.shape, dtype=dout.dtype)
    grad_psw[cache.keep] = np.einsum("pd,pd->p", cache.rows, dout[cache.bag])
    return grad_weight, grad_psw
