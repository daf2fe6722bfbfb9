r"""Embedding: pure ``op_forward -> (out, cache)`` / ``op_backward(dout, cache)`` pairs, and the
in-place max_norm renormalization torch applies before a lookup.

Forward is a row lookup, y[i..., :] = W[idx[i...], :]. Its gradient with respect to W is a
scatter-add of the upstream rows, dL/dW[k] = sum_{i: idx_i = k} s_i dL/dy_i, where s_i = 1, or
1 / count(idx_i) with ``scale_grad_by_freq`` (counts over this batch), and the ``padding_idx``
row gets nothing. The indices have no gradient.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["embedding_backward", "embedding_forward", "embedding_renorm_"]


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
