"""Normalization: BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, GroupNorm, RMSNorm."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from .. import functional as F
from ..parameter import Parameter
from ._checks import check_device, check_input_kind, check_size
from .module import Module, resolve_dtype

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm", "RMSNorm"]


def _affine_parameters(module: Module, shape: tuple[int, ...], affine: bool, bias: bool, dtype: np.dtype) -> None:
    """``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None, registered in torch's order."""
    if affine:
        module.weight = Parameter(np.ones(shape, dtype=dtype))
        if bias:
            module.bias = Parameter(np.zeros(shape, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _accumulate(module: Module, dweight: np.ndarray | None, dbias: np.ndarray | None) -> None:
    if module.weight is not None and dweight is not None:
        module.weight.accumulate_grad(dweight)
    if module.bias is not None and dbias is not None:
        module.bias.accumulate_grad(dbias)


class _BatchNorm(Module):
    r"""Batch normalization over every axis but the channel axis 1 (see ``BatchNorm1d``)."""

    _input_kind = "float"  # see ``_checks``
    # torch fills a missing num_batches_tracked in for checkpoints older than BatchNorm's version 2
    optional_state = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype: Any = None, *, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        dtype = resolve_dtype(dtype)
        self.num_features = check_size(type(self).__name__, "num_features", num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, (num_features,), affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def _check_input_dtype(self, args: tuple[Any, ...]) -> None:
        """The input's kind only: ``F.batch_norm_forward`` checks its dtype against the parameters' and the
        running statistics' where torch's kernel does, after the batch size and eps (torch rejects mixed
        dtypes, and a bad eps is reported first)."""
        check_input_kind(type(self).__name__, self._input_kind, args)

    def _check_input_dim(self, input: np.ndarray) -> None:
        raise NotImplementedError

    def forward(self, input: np.ndarray) -> np.ndarray:
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected input with {self.num_features} channels in dim 1 "
                             f"(num_features={self.num_features}), got input of shape {input.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            # as torch, the count goes up before the batch is validated, so a rejected batch still counts
            self.num_batches_tracked[...] += 1
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_buffers = not self.training or self.track_running_stats
        out, cache = F.batch_norm_forward(
            input, self.running_mean if use_buffers else None, self.running_var if use_buffers else None,
            None if self.weight is None else self.weight.data, None if self.bias is None else self.bias.data,
            bn_training, factor, self.eps, owner=type(self).__name__)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, dweight, dbias = F.batch_norm_backward(grad_output, self._saved(grad_output))
        _accumulate(self, dweight, dbias)
        return grad_input

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    r"""Batch normalization of a 2-D or 3-D input, per channel over the batch (and length) axes:

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \gamma + \beta

    In training the batch's mean and biased variance normalize, and (with track_running_stats)
    ``running_mean <- (1 - momentum) running_mean + momentum E[x]`` and likewise ``running_var`` with
    the unbiased variance; ``momentum=None`` uses the cumulative average, factor 1 / num_batches_tracked.
    In eval mode the running statistics normalize (the batch's, when they are not tracked).

    Backward, with :math:`\hat x` the normalized input and :math:`s = \gamma / \sqrt{\sigma^2 + \epsilon}`:
    training :math:`dx = \frac{s}{n}(n\,dy - \sum dy - \hat x \sum dy\,\hat x)`; eval :math:`dx = s\,dy`;
    :math:`d\gamma = \sum dy\,\hat x`, :math:`d\beta = \sum dy`, sums over the n values of each channel.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance. Default: 1e-5.
        momentum: factor of the running averages, or None for the cumulative average. Default: 0.1.
        affine: learn ``weight`` (ones) and ``bias`` (zeros). Default: True.
        track_running_stats: keep ``running_mean``, ``running_var``, ``num_batches_tracked``. Default: True.
        dtype: floating dtype of the parameters and running statistics. Default: float32.
        bias: with affine, learn ``bias`` too. Default: True.
        rng: accepted for a uniform constructor; unused (the initialization is deterministic).

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, L)`.
        - Output: the same as the input.
    """

    def _check_input_dim(self, input: np.ndarray) -> None:
        if input.ndim not in (2, 3):
            raise ValueError(f"BatchNorm1d: expected 2D or 3D input (got {input.ndim}D input of shape {input.shape})")


class BatchNorm2d(_BatchNorm):
    r"""Batch normalization of a 4-D input, per channel over the batch and both spatial axes.

    The math, arguments and running statistics are ``BatchNorm1d``'s.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: the same as the input.
    """

    def _check_input_dim(self, input: np.ndarray) -> None:
        if input.ndim != 4:
            raise ValueError(f"BatchNorm2d: expected 4D input (got {input.ndim}D input of shape {input.shape})")


class BatchNorm3d(_BatchNorm):
    r"""Batch normalization of a 5-D input, per channel over the batch and the three spatial axes.

    The math, arguments and running statistics are ``BatchNorm1d``'s.

    Shape:
        - Input: :math:`(N, C, D, H, W)`.
        - Output: the same as the input.
    """

    def _check_input_dim(self, input: np.ndarray) -> None:
        if input.ndim != 5:
            raise ValueError(f"BatchNorm3d: expected 5D input (got {input.ndim}D input of shape {input.shape})")


class LayerNorm(Module):
    r"""Layer normalization over the last ``len(normalized_shape)`` axes of each sample:

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \gamma + \beta

    with the biased variance, in training and eval alike. Backward, with :math:`g = dy\,\gamma`:
    :math:`dx = \frac{1}{n\sigma}(n g - \sum g - \hat x \sum g \hat x)` over the n normalized values,
    :math:`d\gamma = \sum dy\,\hat x` and :math:`d\beta = \sum dy` over the leading axes.

    Args:
        normalized_shape: an int or a tuple, the trailing shape normalized over.
        eps: added to the variance. Default: 1e-5.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of normalized_shape. Default: True.
        bias: with elementwise_affine, learn ``bias`` too. Default: True.
        dtype: floating dtype of the parameters. Default: float32.

    Shape:
        - Input: :math:`(*, \text{normalized\_shape})`.
        - Output: the same as the input.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
        self.normalized_shape = tuple(check_size("LayerNorm", "normalized_shape", s)
                                      for s in cast("Sequence[int]", shape))
        if not self.normalized_shape:  # torch refuses it at the first forward
            raise ValueError("LayerNorm: expected normalized_shape to be at least 1-dimensional, got ()")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, resolve_dtype(dtype))

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.layer_norm_forward(input, self.normalized_shape,
                                          None if self.weight is None else self.weight.data,
                                          None if self.bias is None else self.bias.data, self.eps)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, dweight, dbias = F.layer_norm_backward(grad_output, self._saved(grad_output))
        _accumulate(self, dweight, dbias)
        return grad_input

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    r"""Group normalization: each sample's channels split into ``num_groups`` groups, each group
    normalized over its channels and spatial positions, then a per-channel affine:

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \gamma_c + \beta_c

    Backward, per (sample, group) of n values, with :math:`g = dy\,\gamma_c`:
    :math:`dx = \frac{1}{n\sigma}(n g - \sum g - \hat x \sum g \hat x)`;
    :math:`d\gamma_c = \sum dy\,\hat x`, :math:`d\beta_c = \sum dy` over the batch and spatial axes.

    Args:
        num_groups: G, which must divide num_channels.
        num_channels: C.
        eps: added to the variance. Default: 1e-5.
        affine: learn per-channel ``weight`` (ones) and ``bias`` (zeros). Default: True.
        dtype: floating dtype of the parameters. Default: float32.
        bias: with affine, learn ``bias`` too. Default: True.

    Shape:
        - Input: :math:`(N, C, *)`.
        - Output: the same as the input.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, dtype: Any = None,
                 *, bias: bool = True, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        # torch divides by num_groups first (ZeroDivisionError for 0): scratch names the bad value instead
        check_size("GroupNorm", "num_groups", num_groups, minimum=1)
        check_size("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, (num_channels,), affine, bias, resolve_dtype(dtype))

    def forward(self, input: np.ndarray) -> np.ndarray:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input of shape (N, {self.num_channels}, *) (num_channels="
                             f"{self.num_channels}), got {input.shape}")
        out, cache = F.group_norm_forward(input, self.num_groups, None if self.weight is None else self.weight.data,
                                          None if self.bias is None else self.bias.data, self.eps)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, dweight, dbias = F.group_norm_backward(grad_output, self._saved(grad_output))
        _accumulate(self, dweight, dbias)
        return grad_input

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    r"""Root mean square layer normalization over the last ``len(normalized_shape)`` axes:

    .. math:: y = \frac{x}{\sqrt{\epsilon + \frac{1}{n}\sum_i x_i^2}} \gamma

    Backward, with :math:`\hat x = x / \mathrm{RMS}(x)` and :math:`g = dy\,\gamma`:
    :math:`dx = (g - \hat x\,\frac{1}{n}\sum g \hat x) / \mathrm{RMS}(x)` over the n normalized values,
    :math:`d\gamma = \sum dy\,\hat x` over the leading axes.

    Args:
        normalized_shape: an int or a tuple, the trailing shape normalized over.
        eps: added to the mean square. Default: None, torch's choice: the machine epsilon of the
            computation type (float32's for float16/float32 inputs, float64's for float64).
        elementwise_affine: learn ``weight`` (ones) of normalized_shape. Default: True.
        device: None or "cpu" (accepted for torch's signature).
        dtype: floating dtype of the weight. Default: float32.

    Shape:
        - Input: :math:`(*, \text{normalized\_shape})`.
        - Output: the same as the input.
    """

    _input_kind = "float"  # see ``_checks``

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_device("RMSNorm", device)
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
        self.normalized_shape = tuple(check_size("RMSNorm", "normalized_shape", s)
                                      for s in cast("Sequence[int]", shape))
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=resolve_dtype(dtype)))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.data[...] = 1

    def forward(self, input: np.ndarray) -> np.ndarray:
        out, cache = F.rms_norm_forward(input, self.normalized_shape,
                                        None if self.weight is None else self.weight.data, self.eps)
        self._save(cache)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, dweight = F.rms_norm_backward(grad_output, self._saved(grad_output))
        if self.weight is not None and dweight is not None:
            self.weight.accumulate_grad(dweight)
        return grad_input

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
