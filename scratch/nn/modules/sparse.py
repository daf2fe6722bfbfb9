"""Embedding (a lookup table of learnable vectors, indexed by integer arrays) and EmbeddingBag (bags of rows
reduced by sum, mean or max)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..._array import as_numpy
from .. import functional as F
from .. import init
from ..functional.sparse import check_indices
from ..parameter import Parameter
from ._checks import check_array, check_device, check_float, check_size
from .module import Module, resolve_dtype

__all__ = ["Embedding", "EmbeddingBag"]


def _normalize_padding_idx(padding_idx: int | None, num_embeddings: int, owner: str = "Embedding") -> int | None:
    """A negative padding_idx counts from the end, as in torch."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        # torch raises AssertionError here; a bad value is a ValueError in scratch
        raise ValueError(f"{owner}: padding_idx must be within num_embeddings: expected "
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


class EmbeddingBag(Module):
    r"""Sums, averages or takes the maximum of bags of embedding rows, without the rows in between.

    Bag b holds the positions of row b of a 2-D input, or offsets[b] <= p < offsets[b + 1] of a 1-D
    input (the last bag ends at the end of the input; with ``include_last_offset`` offsets has one
    more entry, which must be len(input)); positions whose index is
    ``padding_idx`` are left out. With r_p = W[idx_p]:

    - ``sum``: y_b = sum_{p in b} w_p r_p (w_p the ``per_sample_weights``, else 1);
    - ``mean``: y_b = (1 / |b|) sum_{p in b} r_p;
    - ``max``: y_b[d] = max_{p in b} r_p[d] (the first maximum, as torch's scan);
    an empty bag gives zeros. ``max_norm`` rescales the looked-up rows in place first, as Embedding.

    Backward: dL/dW[k] = sum_{p: idx_p = k} s_p c_p dL/dy_{bag(p)} with c_p = w_p, 1 / |bag| or 1 and
    s_p = 1 / count(idx_p) with ``scale_grad_by_freq``; max: dL/dW[k, d] sums dL/dy_b[d] over the bags
    whose maximum in feature d is row k. dL/dw_p = <r_p, dL/dy_{bag(p)}>. ``backward`` returns
    ``(None, None, dL/dper_sample_weights)`` when per-sample weights were given, else None.

    Shape:
        - input: (B, N) (offsets None) or (P,) with offsets (B,), or (B + 1,) with ``include_last_offset``.
        - per_sample_weights: like input (``mode='sum'`` only).
        - Output: (B, embedding_dim).

    Attributes:
        weight: (num_embeddings, embedding_dim), initialized from N(0, 1), the padding row zeroed.
    """

    _input_kind = "index"  # see ``_checks``; ``check_indices`` checks the integers

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Any = None, include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_device("EmbeddingBag", device)
        self.num_embeddings = check_size("EmbeddingBag", "num_embeddings", num_embeddings)
        self.embedding_dim = check_size("EmbeddingBag", "embedding_dim", embedding_dim)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _normalize_padding_idx(padding_idx, num_embeddings, "EmbeddingBag")
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=resolve_dtype(dtype)))
            self.reset_parameters(rng=rng)
        else:
            weight = as_numpy(_weight)
            if weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"EmbeddingBag: shape of weight {weight.shape} does not match "
                                 f"(num_embeddings, embedding_dim) = ({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(weight)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        init.normal_(self.weight, rng=rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def _check_options(self, per_sample_weights: Any, input: np.ndarray) -> None:
        if self.mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {self.mode!r}")
        if self.mode == "max" and self.scale_grad_by_freq:
            raise ValueError("EmbeddingBag: max mode does not support scaling the gradient by the frequency")
        if per_sample_weights is None:
            return
        check_float("EmbeddingBag", "per_sample_weights", per_sample_weights)
        if self.mode != "sum":
            raise ValueError(f"EmbeddingBag: per_sample_weights is only supported for mode='sum' "
                             f"(got mode={self.mode!r})")
        if per_sample_weights.shape != input.shape:
            raise ValueError(f"EmbeddingBag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                             f"must have the same shape as the input ({input.shape})")
        if per_sample_weights.dtype != self.weight.dtype:
            raise TypeError(f"EmbeddingBag: per_sample_weights of dtype {per_sample_weights.dtype} does not match the "
                            f"weight's dtype {self.weight.dtype}")

    def forward(self, input: np.ndarray, offsets: np.ndarray | None = None,
                per_sample_weights: np.ndarray | None = None) -> np.ndarray:
        self._check_options(per_sample_weights, input)
        if offsets is not None:
            check_array("EmbeddingBag", "offsets", offsets)
        indices = check_indices(input, self.num_embeddings, "EmbeddingBag")
        if self.max_norm is not None:
            F.embedding_renorm_(self.weight.data, indices.reshape(-1), self.max_norm, self.norm_type)
        out, cache = F.embedding_bag_forward(indices, self.weight.data, offsets, self.mode, per_sample_weights,
                                             self.include_last_offset, self.padding_idx, self.scale_grad_by_freq)
        self._save((cache, None if per_sample_weights is None else per_sample_weights.shape))
        return out

    def backward(self, grad_output: np.ndarray) -> tuple[None, None, np.ndarray] | None:
        """Accumulates dL/dW into ``weight.grad``; returns (None, None, dL/dper_sample_weights) or None."""
        cache, psw_shape = self._saved(grad_output)
        grad_weight, grad_psw = F.embedding_bag_backward(grad_output, cache)
        self.weight.accumulate_grad(grad_weight)
        return None if psw_shape is None else (None, None, cast("np.ndarray", grad_psw).reshape(psw_shape))

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is a copy of the 2-D ``embeddings``; frozen unless ``freeze=False``."""
        embeddings = as_numpy(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-dimensional, got shape "
                             f"{embeddings.shape}")
        num_embeddings, embedding_dim = embeddings.shape
        bag = cls(num_embeddings, embedding_dim, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse, _weight=embeddings,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx!r}"
        return text
