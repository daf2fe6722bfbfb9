"""Embedding: a lookup table of learnable vectors, indexed by integer arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._array import as_numpy
from .. import functional as F
from .. import init
from ..functional.sparse import check_indices
from ..parameter import Parameter
from ._checks import check_size
from .module import Module, resolve_dtype

__all__ = ["Embedding"]


def _normalize_padding_idx(padding_idx: int | None, num_embeddings: int) -> int | None:
    """A negative padding_idx counts from the end, as in torch."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        # torch raises AssertionError here; a bad value is a ValueError in scratch
        raise ValueError(f"Embedding: padding_idx must be within num_embeddings: expected "
                         f"{-num_embeddings} <= padding_idx < {num_embeddings}, got {padding_idx}")
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


class Embedding(Module):
    r"""A lookup table: row ``idx`` of ``weight`` for every index of the input.

    Forward: y[i..., :] = W[idx[i...], :]. With ``max_norm``, each distinct looked-up row whose
    ``norm_type``-norm exceeds it is first rescaled in place, W[k] *= max_norm / (‖W[k]‖ + 1e-7),
    as torch does (this modifies ``weight``, and the rescaling has no gradient).

    Backward: dL/dW[k] = sum_{i: idx_i = k} s_i dL/dy_i (scatter-add), with s_i = 1 / count(idx_i) in
    this batch when ``scale_grad_by_freq``, else 1; the ``padding_idx`` row gets no gradient. The
    indices have none: ``backward`` returns None.

    Args:
        num_embeddings: size of the dictionary.
        embedding_dim: size of each embedding vector.
        padding_idx: row that gets no gradient and starts as zeros; negative counts from the end.
        max_norm: renormalize looked-up rows with a larger norm to this norm. Default: None.
        norm_type: the p of the p-norm for max_norm. Default: 2.
        scale_grad_by_freq: scale gradients by the inverse frequency of the indices in the batch.
        sparse: accepted for torch compatibility; the gradient is always a dense array (same values).
        _weight: initial weight of shape (num_embeddings, embedding_dim), copied (torch shares it).
        _freeze: if True, the weight does not require grad.
        dtype: floating NumPy dtype of the weight (default float32; ignored when ``_weight`` is given).
        rng: ``np.random.Generator`` for the initial weight (keyword-only; default: scratch's global one).

    Shape:
        - Input: (*), integer indices (int64 or int32), any shape, 0-d included.
        - Output: (*, H), H = embedding_dim.

    Attributes:
        weight: (num_embeddings, embedding_dim), initialized from N(0, 1), the padding row zeroed.
    """

    _input_kind = "index"  # an ndarray (see ``_checks``); ``check_indices`` checks the integers

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.num_embeddings = check_size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_size("Embedding", "embedding_dim", embedding_dim)
        self.padding_idx = _normalize_padding_idx(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=resolve_dtype(dtype)),
                                    requires_grad=not _freeze)
            self.reset_parameters(rng=rng)
        else:
            weight = as_numpy(_weight)
            if weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: shape of weight {weight.shape} does not match "
                                 f"(num_embeddings, embedding_dim) = ({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(weight, requires_grad=not _freeze)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        init.normal_(self.weight, rng=rng)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input: np.ndarray) -> np.ndarray:
        input = check_indices(input, self.num_embeddings)
        if self.max_norm is not None:
            F.embedding_renorm_(self.weight.data, input, self.max_norm, self.norm_type)
        out, cache = F.embedding_forward(input, self.weight.data, self.padding_idx, self.scale_grad_by_freq)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> None:
        """Accumulates dL/dW into ``weight.grad``; returns None (indices have no gradient)."""
        self.weight.accumulate_grad(F.embedding_backward(grad_output, self._saved(grad_output)))
        return None

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is a copy of the 2-D ``embeddings``; frozen unless ``freeze=False``."""
        embeddings = as_numpy(embeddings)
        if embeddings.ndim != 2:
            # torch raises AssertionError here; a bad shape is a ValueError in scratch
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-dimensional, got shape "
                             f"{embeddings.shape}")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            text += ", sparse=True"
        return text
