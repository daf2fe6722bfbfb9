"""Instance normalization: InstanceNorm1d, InstanceNorm2d, InstanceNorm3d."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import functional as F
from .normalization import _accumulate, _BatchNorm

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_BatchNorm):
    r"""Instance normalization over the spatial axes of each (sample, channel) plane (see ``InstanceNorm1d``).

    The parameters and buffers are batch normalization's (torch's ``_NormBase``); only the defaults
    differ: ``affine=False``, ``track_running_stats=False``.
    """

    _no_batch_dim: int  #: the number of dimensions of an unbatched input

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, dtype: Any = None, *, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias=bias, rng=rng)

    def _check_input_dim(self, input: np.ndarray) -> None:
        dims = (self._no_batch_dim, self._no_batch_dim + 1)
        if input.ndim not in dims:
            raise ValueError(f"{type(self).__name__}: expected {dims[0]}D or {dims[1]}D input (got {input.ndim}D "
                             f"input of shape {input.shape})")

    def forward(self, input: np.ndarray) -> np.ndarray:
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{type(self).__name__}: expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          UserWarning, stacklevel=3)
        batched = input if input.ndim > self._no_batch_dim else input[np.newaxis]
        # torch's quirks: momentum=None is a factor of 0 (the running statistics never move), and
        # num_batches_tracked is never counted
        out, cache = F.instance_norm_forward(
            batched, self.running_mean, self.running_var, None if self.weight is None else self.weight.data,
            None if self.bias is None else self.bias.data, self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum, self.eps, owner=type(self).__name__)
        self._save(cache)
        return out.reshape(input.shape)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        cache = self._saved(grad_output)
        grad_input, dweight, dbias = F.instance_norm_backward(grad_output.reshape(cache.input_shape), cache)
        _accumulate(self, dweight, dbias)
        return grad_input.reshape(grad_output.shape)


class InstanceNorm1d(_InstanceNorm):
    r"""Instance normalization of a (N, C, L) or unbatched (C, L) input: each channel of each sample
    normalized over its own positions, in training and eval alike (unless running statistics are tracked):

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \gamma + \beta

    with the biased variance over the n spatial values of the plane. With ``track_running_stats``, training
    updates ``running_mean``/``running_var`` with the planes' statistics averaged over the batch (the unbiased
    variance), and eval mode normalizes with them. ``momentum=None`` is taken as 0, so the running
    statistics never move, and ``num_batches_tracked`` stays 0 (torch's behaviour).

    Backward, with :math:`s = \gamma / \sqrt{\sigma^2 + \epsilon}`: with the plane's statistics
    :math:`dx = \frac{s}{n}(n\,dy - \sum dy - \hat x \sum dy\,\hat x)` over the plane; with the running
    statistics :math:`dx = s\,dy`; :math:`d\gamma = \sum dy\,\hat x`, :math:`d\beta = \sum dy` over
    the batch and spatial axes.

    A channel count other than num_features is an error with affine, else a warning (as in torch).
    Training on one spatial element per plane is a ValueError, as in torch.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance. Default: 1e-5.
        momentum: factor of the running averages (None: 0). Default: 0.1.
        affine: learn ``weight`` (ones) and ``bias`` (zeros). Default: False.
        track_running_stats: keep ``running_mean``, ``running_var``, ``num_batches_tracked`` and use them
            in eval mode. Default: False.
        dtype: floating dtype of the parameters and running statistics. Default: float32.
        bias: with affine, learn ``bias`` too. Default: True.
        rng: accepted for a uniform constructor; unused (the initialization is deterministic).

    Shape:
        - Input: :math:`(N, C, L)` or :math:`(C, L)`.
        - Output: the same as the input.
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    r"""Instance normalization of a (N, C, H, W) or unbatched (C, H, W) input, each plane over its H*W values.

    The math, arguments, quirks and running statistics are ``InstanceNorm1d``'s.

    Shape:
        - Input: :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        - Output: the same as the input.
    """

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    r"""Instance normalization of a (N, C, D, H, W) or unbatched (C, D, H, W) input, each plane over its
    D*H*W values.

    The math, arguments, quirks and running statistics are ``InstanceNorm1d``'s.

    Shape:
        - Input: :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`.
        - Output: the same as the input.
    """

    _no_batch_dim = 4
