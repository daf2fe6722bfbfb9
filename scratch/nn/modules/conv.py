"""Convolution: Conv1d, Conv2d, Conv3d and ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, one N-d
implementation (``scratch.nn.functional.conv``) for all."""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._checks import check_size
from .module import Module, resolve_dtype

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}  #: the spatial axes named in an error

PADDING_STRINGS = {"same", "valid"}
PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _tuple(value: Any, n: int, name: str, owner: str) -> tuple[int, ...]:
    """torch's _single / _pair: an int repeated n times, or a sequence of n ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{owner}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in values)


class _ConvNd(Module):
    r"""What every convolution shares: argument checks (torch's), the parameters
    and their initialization, and the input checks."""

    _input_kind = "float"  # see ``_checks``
    _transposed = False
    _lazy = False  # a LazyConv*d's (lazy.py)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, output_padding: Any, groups: int, bias: bool, padding_mode: str, dtype: Any,
                 rng: np.random.Generator | None, dims: int) -> None:
        super().__init__()
        name = type(self).__name__
        # torch fails at forward on 0; a lazy convolution (lazy.py) has 0 until its first input
        check_size(name, "in_channels", in_channels, minimum=0 if self._lazy else 1)
        check_size(name, "out_channels", out_channels, minimum=1)
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups, got {in_channels} and {groups}")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels must be divisible by groups, got {out_channels} and {groups}")
        self.kernel_size = _tuple(kernel_size, dims, "kernel_size", name)
        self.stride = _tuple(stride, dims, "stride", name)
        if isinstance(padding, str):
            if padding not in PADDING_STRINGS:
                raise ValueError(f"{name}: Invalid padding string {padding!r}, should be one of {PADDING_STRINGS}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions, got stride="
                                 f"{self.stride}")
        else:
            padding = _tuple(padding, dims, "padding", name)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        self.dilation = _tuple(dilation, dims, "dilation", name)
        self.output_padding = _tuple(output_padding, dims, "output_padding", name)
        self._check_ranges(padding)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.padding, self.groups, self.padding_mode = padding, groups, padding_mode
        shape = (in_channels, out_channels // groups) if self._transposed else (out_channels, in_channels // groups)
        dtype = resolve_dtype(dtype)
        if self._lazy:  # LazyConv*d: uninitialized parameters, shaped by the first input
            self._lazy_parameters(bias, dtype, rng)
            return
        self.weight = Parameter(np.empty((*shape, *self.kernel_size), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng=rng)

    def _check_ranges(self, padding: Any) -> None:
        """torch rejects these at the first forward (RuntimeError); rejected here at construction."""
        for label, values, low in (("kernel_size", self.kernel_size, 1), ("stride", self.stride, 1),
                                   ("dilation", self.dilation, 1), ("output_padding", self.output_padding, 0),
                                   ("padding", () if isinstance(padding, str) else padding, 0)):
            if any(v < low for v in values):
                raise ValueError(f"{type(self).__name__}: {label} must be >= {low}, got {values}")

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        """Weight ~ kaiming_uniform_(a=sqrt(5)), bias ~ U(±1/sqrt(fan_in)), fan_in from the weight's
        layout (for a transposed convolution: out_channels / groups * prod(kernel_size)), as torch."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, rng=rng)

    def _padding_pairs(self) -> tuple[tuple[int, int], ...]:
        """(before, after) per spatial axis; 'same' puts the odd extra after, as torch does."""
        if self.padding == "valid":
            return tuple((0, 0) for _ in self.kernel_size)
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return tuple((t // 2, t - t // 2) for t in totals)
        return tuple((p, p) for p in self.padding)

    def _batched(self, input: np.ndarray) -> tuple[np.ndarray, bool]:
        """The input with a batch axis, and whether one was added; checks rank and channels."""
        name, dims = type(self).__name__, len(self.kernel_size)
        if input.ndim not in (dims + 1, dims + 2):
            raise ValueError(f"{name}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, "
                             f"got shape {input.shape}")
        x = input if input.ndim == dims + 2 else input[None]
        if x.shape[1] != self.in_channels:
            spatial = SPATIAL[dims]
            raise ValueError(f"{name}: expected input of shape (N, {self.in_channels}, {spatial}) or "
                             f"({self.in_channels}, {spatial}) (in_channels={self.in_channels}), got {input.shape}")
        return x, input.ndim == dims + 1

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        cache, unbatched = self._saved(grad_output)
        dout = grad_output[None] if unbatched else grad_output
        if self._transposed:
            grad_input, grad_weight, grad_bias = F.conv_transpose_backward(dout, cache)
        else:  # the cache is used up after this backward: its im2col buffer is reused, here and by the next forward
            grad_input, grad_weight, grad_bias = F.conv_backward(dout, cache, reuse_cols=True)
            self.__dict__["_workspace"] = cache.cols
        self.weight.accumulate_grad(grad_weight, fresh=True)  # fresh: kept, not copied, when grad is None
        if self.bias is not None:  # then it has a gradient
            self.bias.accumulate_grad(cast("np.ndarray", grad_bias), fresh=True)
        return grad_input[0] if unbatched else grad_input

    def __getstate__(self) -> dict[str, Any]:
        """The module's state without its im2col workspace (scratch memory, often tens of MB, refilled by
        the next forward): copy.deepcopy and pickle leave it out."""
        state = self.__dict__.copy()
        state.pop("_workspace", None)
        return state

    def extra_repr(self) -> str:
        dims = len(self.kernel_size)
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * dims:
            s += f", padding={self.padding}"  # torch prints a padding string unquoted
        if self.dilation != (1,) * dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d / Conv2d / Conv3d forward: pad, check sizes, one windowed GEMM.

    The module keeps the im2col buffer its last backward used up (``_workspace``) and the next forward of
    the same size fills it again instead of mapping a new one (tens of MB, page-faulted afresh at each call
    above malloc's 32 MiB mmap threshold); a forward takes it, so a cache a backward still needs is never
    written. copy.deepcopy and pickle leave it out."""

    def forward(self, input: np.ndarray) -> np.ndarray:
        x, unbatched = self._batched(input)
        pairs = self._padding_pairs()
        self._check_sizes(x.shape[2:], pairs)
        bias = None if self.bias is None else self.bias.data
        # the buffer the last backward used up (None after a forward): never one a pending backward still needs
        workspace = self.__dict__.pop("_workspace", None)
        out, cache = F.conv_forward(x, self.weight.data, bias, self.stride, pairs, self.dilation, self.groups,
                                    self.padding_mode, workspace)
        self._save((cache, unbatched))
        return out[0] if unbatched else out

    def _check_sizes(self, size: tuple[int, ...], pairs: tuple[tuple[int, int], ...]) -> None:
        name = type(self).__name__
        if self.padding_mode in ("reflect", "circular"):  # torch's limits on F.pad
            for s, (lo, hi) in zip(size, pairs):
                if (self.padding_mode == "reflect" and max(lo, hi) >= s) or max(lo, hi) > s:
                    raise ValueError(f"{name}: padding {pairs} too large for padding_mode='{self.padding_mode}' "
                                     f"and an input of spatial size {size}")
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, pairs))
        extent = tuple(d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel_size))
        if any(p < e for p, e in zip(padded, extent)):
            raise ValueError(f"{name}: padded input of spatial size {padded} is smaller than the dilated kernel "
                             f"{extent} (kernel_size={self.kernel_size}, dilation={self.dilation})")


class Conv1d(_Conv):
    r"""1-D cross-correlation over an (N, C_in, L) signal, as torch.nn.Conv1d:

    .. math:: y[n, o, l] = b[o] + \sum_{c \in g(o)} \sum_k x_p[n, c, l\,s + k\,d]\, W[o, c, k]

    with :math:`x_p` the input padded by ``padding`` (zeros, or 'reflect' / 'replicate' /
    'circular'). Backward: :math:`\partial L/\partial W = \sum_{n,l} \delta\, x_p` windows (one
    GEMM), :math:`\partial L/\partial x` the correlation of the padded :math:`\delta` with the flipped
    kernel (stride 1) or col2im (one GEMM of :math:`\delta` with W, one strided add per kernel offset),
    :math:`\partial L/\partial b = \sum_{n,l} \delta`.

    Args: in_channels, out_channels, kernel_size, stride=1, padding=0 (int, tuple, 'same', 'valid';
        'same' puts an odd extra pad on the right, and is rejected with stride > 1), dilation=1,
        groups=1, bias=True, padding_mode='zeros', dtype (default float32), rng (keyword-only).

    Shape:
        - Input: (N, C_in, L_in) or (C_in, L_in).
        - Output: (N, C_out, L_out) or (C_out, L_out),
          L_out = floor((L_in + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1.

    Attributes:
        weight: (C_out, C_in / groups, kernel_size), U(-sqrt(k), sqrt(k)), k = groups / (C_in kernel_size).
        bias: (C_out,), same distribution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, dtype, rng, dims=1)


class Conv2d(_Conv):
    r"""2-D cross-correlation over an (N, C_in, H, W) image, as torch.nn.Conv2d:

    .. math:: y[n, o, i, j] = b[o] + \sum_{c \in g(o)} \sum_{u, v}
              x_p[n, c, i\,s_h + u\,d_h, j\,s_w + v\,d_w]\, W[o, c, u, v]

    Backward as Conv1d's, over both spatial axes: dW is one GEMM of the im2col windows with
    :math:`\delta`; dx is one windowed GEMM of the padded :math:`\delta` with the flipped kernel (stride 1)
    or col2im (one GEMM of :math:`\delta` with W, one strided add per kernel offset), its padding folded
    back; db sums :math:`\delta`.

    Args: as Conv1d, each of kernel_size, stride, padding, dilation an int or a pair (H, W).

    Shape:
        - Input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in).
        - Output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out),
          H_out = floor((H_in + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1) / stride[0]) + 1, W alike.

    Attributes:
        weight: (C_out, C_in / groups, kH, kW), U(-sqrt(k), sqrt(k)), k = groups / (C_in kH kW).
        bias: (C_out,), same distribution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, dtype, rng, dims=2)


class Conv3d(_Conv):
    r"""3-D cross-correlation over an (N, C_in, D, H, W) volume, as torch.nn.Conv3d:

    .. math:: y[n, o, p] = b[o] + \sum_{c \in g(o)} \sum_{k \in K} x_p[n, c, p\,s + k\,d]\, W[o, c, k]

    with p, k, s, d triples over (D, H, W); forward and backward as Conv2d's, over three spatial axes
    (the same N-d pair). Args: as Conv1d, each of kernel_size, stride, padding, dilation an int or a triple.

    Shape:
        - Input: (N, C_in, D_in, H_in, W_in) or (C_in, D_in, H_in, W_in).
        - Output: (N, C_out, D_out, H_out, W_out) or unbatched, D_out = floor((D_in + 2 padding[0]
          - dilation[0] (kD - 1) - 1) / stride[0]) + 1, H and W alike.

    Attributes:
        weight: (C_out, C_in / groups, kD, kH, kW), U(-sqrt(k), sqrt(k)), k = groups / (C_in kD kH kW).
        bias: (C_out,), same distribution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, dtype, rng, dims=3)


class _ConvTransposeNd(_ConvNd):
    r"""Transposed convolution, as torch.nn.ConvTranspose{1,2,3}d: the gradient of a convolution with
    respect to its input, with weight (C_in, C_out / groups, *K) in that convolution's layout:

    .. math:: y[n, o, q] = b[o] + \sum_{c \in g(o)} \sum_{p, k:\ p\,s + k\,d = q + \text{pad}}
              x[n, c, p]\, W[c, o, k]

    computed as the convolution's input gradient (col2im, or a windowed GEMM for stride 1). Backward is
    the convolution's forward: :math:`\partial L/\partial x` is the convolution of the zero-padded
    :math:`\delta` with W, :math:`\partial L/\partial W` the GEMM of its windows with x, and
    :math:`\partial L/\partial b = \sum \delta`.

    Args: in_channels, out_channels, kernel_size, stride=1, padding=0 (ints only), output_padding=0
        (extra elements after, each smaller than the stride or the dilation), groups=1, bias=True,
        dilation=1, padding_mode='zeros' (the only mode, as torch), dtype, rng (keyword-only);
        forward(input, output_size=None): ``output_size`` (the spatial sizes, or the whole output shape)
        picks the output_padding that gives it, as torch.

    Shape:
        - Input: (N, C_in, *S_in) or (C_in, *S_in).
        - Output: (N, C_out, *S_out) or (C_out, *S_out), S_out = (S_in - 1) stride - 2 padding
          + dilation (K - 1) + output_padding + 1 per spatial axis.

    Attributes:
        weight: (C_in, C_out / groups, *K), U(-sqrt(k), sqrt(k)), k = groups / (C_out prod(K))
            (torch's fan_in comes from the weight's layout).
        bias: (C_out,), same distribution.
    """

    _transposed = True
    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):  # torch's _pair would split the string and fail later
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                         bias, padding_mode, dtype, rng, dims=self._dims)

    def forward(self, input: np.ndarray, output_size: Any = None) -> np.ndarray:
        x, unbatched = self._batched(input)
        output_padding = self._output_padding(x, input.ndim, output_size)
        if any(op >= s and op >= d for op, s, d in zip(output_padding, self.stride, self.dilation)):
            raise ValueError(f"{type(self).__name__}: output padding must be smaller than either stride or "
                             f"dilation, got output_padding={output_padding}, stride={self.stride}, "
                             f"dilation={self.dilation}")
        size = tuple(s + op for s, op in zip(self._min_sizes(x), output_padding))
        if any(s < 0 for s in size) or (x.size and 0 in size):  # torch allows an empty output of an empty input
            raise ValueError(f"{type(self).__name__}: input of shape {input.shape} gives a negative or zero "
                             f"output size {size}")
        bias = None if self.bias is None else self.bias.data
        out, cache = F.conv_transpose_forward(x, self.weight.data, bias, self.stride, self.padding, output_padding,
                                              self.dilation, self.groups)
        self._save((cache, unbatched))
        return out[0] if unbatched else out

    def _min_sizes(self, x: np.ndarray) -> list[int]:
        return [(s_in - 1) * s - 2 * p + d * (k - 1) + 1 for s_in, s, p, d, k in
                zip(x.shape[2:], self.stride, self.padding, self.dilation, self.kernel_size)]

    def _output_padding(self, x: np.ndarray, ndim: int, output_size: Any) -> tuple[int, ...]:
        """``output_padding``, or what makes the output ``output_size`` (spatial sizes, or the full
        shape of an ``ndim``-D output), as torch."""
        if output_size is None:
            return self.output_padding
        dims = self._dims  # sliced, not converted: torch's message prints the requested sizes as given
        if len(output_size) == ndim:
            output_size = output_size[ndim - dims:]
        if len(output_size) != dims:
            raise ValueError(f"ConvTranspose{dims}D: for {ndim}D input, output_size must have {dims} or "
                             f"{ndim} elements (got {len(output_size)})")
        min_sizes = self._min_sizes(x)
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        if any(not lo <= size <= hi for size, lo, hi in zip(output_size, min_sizes, max_sizes)):
            raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {min_sizes} "
                             f"to {max_sizes} (for an input of {x.shape[2:]})")
        return tuple(size - lo for size, lo in zip(output_size, min_sizes))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L) or (C_in, L): see ``_ConvTransposeNd``; weight
    (C_in, C_out / groups, kernel_size)."""

    _dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) or (C_in, H, W): see ``_ConvTransposeNd``; weight
    (C_in, C_out / groups, kH, kW)."""

    _dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C_in, D, H, W) or (C_in, D, H, W): see ``_ConvTransposeNd``;
    weight (C_in, C_out / groups, kD, kH, kW)."""

    _dims = 3
