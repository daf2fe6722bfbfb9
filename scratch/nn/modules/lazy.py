r"""Lazy modules, as torch.nn's: ``LazyLinear`` and ``LazyConv1d`` ... ``LazyConvTranspose3d`` infer ``in_features``
/ ``in_channels`` from their first input, ``LazyBatchNorm1d`` ... ``LazyInstanceNorm3d`` their ``num_features``.

Until then their ``weight`` and ``bias`` are ``UninitializedParameter``\ s (no shape, no data; reading either
raises), and a lazy normalization's ``running_mean`` / ``running_var`` are ``UninitializedBuffer``\ s. The first
call (``m(x)``, before ``forward``, as torch's forward pre-hook) reads the size off the input, materializes them
and initializes them with the non-lazy class's ``reset_parameters``, drawing from the ``rng`` given to the
constructor (or scratch's global generator) exactly as ``Linear`` / ``Conv2d`` built with that size would; then
the module *becomes* that class (``self.__class__ = cls_to_become``, as torch).

``load_state_dict`` into a lazy module materializes each parameter and buffer with the loaded array's shape
(torch's ``_lazy_load_hook``), without drawing; ``state_dict`` of an uninitialized one holds the uninitialized
parameters and buffers.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..parameter import Parameter, UninitializedBuffer, UninitializedParameter, is_lazy
from ._checks import check_size
from ._state_dict import materialize
from .conv import SPATIAL, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear
from .module import Module, resolve_dtype
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm

__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear"]
# LazyModuleMixin: not in torch.nn's namespace either


class LazyModuleMixin:
    """What every lazy module shares (torch's ``torch.nn.modules.lazy.LazyModuleMixin``): the first call runs
    ``initialize_parameters(*args, **kwargs)``, then checks that nothing is left uninitialized and turns the
    module into ``cls_to_become`` (if set). Mixed in before a ``Module`` class."""

    cls_to_become: type | None = None

    if TYPE_CHECKING:  # what the Module class it is mixed into provides
        weight: Any  # an UninitializedParameter until the first call, then a Parameter
        bias: Any  # the same, or None
        _rng: np.random.Generator | None
        _parameters: OrderedDict[str, Parameter | None]

        def _check_input_dtype(self, args: tuple[Any, ...]) -> None: ...
        def register_parameter(self, name: str, param: Parameter | None) -> None: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.__dict__.get("_lazy_done"):
            self._check_input_dtype(args)  # a bad input gets the module's error and leaves it lazy
            self._infer_parameters(*args, **kwargs)
        return Module.__call__(self, *args, **kwargs)  # type: ignore[arg-type]

    def _lazy_parameters(self, bias: bool, dtype: np.dtype, rng: np.random.Generator | None) -> None:
        """``weight`` and (with ``bias``) ``bias`` uninitialized, in torch's order; ``rng`` kept for the
        initialization at the first call."""
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self._rng = rng

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module (not of its children) is still uninitialized (torch's
        name, and torch's check of both)."""
        module = cast(Module, self)
        return any(is_lazy(p) for p in (*module._parameters.values(), *module._buffers.values()))

    def _materialize(self, name: str, shape: tuple[int, ...]) -> None:
        """The uninitialized parameter or buffer ``name`` given ``shape`` (torch's ``materialize``; a buffer's
        array takes the ``UninitializedBuffer``'s place)."""
        module = cast(Module, self)
        materialize(module, "_parameters" if name in module._parameters else "_buffers", name, shape)

    def _infer_parameters(self, *args: Any, **kwargs: Any) -> None:
        self.initialize_parameters(*args, **kwargs)
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {type(self).__name__} has not been fully initialized")
        self.__dict__.pop("_rng", None)
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become
        else:
            self.__dict__["_lazy_done"] = True


class LazyLinear(LazyModuleMixin, Linear):
    r"""A ``Linear`` whose ``in_features`` is inferred from the first input's last dimension, as torch.nn.LazyLinear.

    Args: out_features, bias=True, dtype (default float32), rng (keyword-only: the generator of the
        initialization at the first call; default scratch's global one).

    Shape: as ``Linear``. Attributes: ``weight`` :math:`(H_{out}, H_{in})` and ``bias`` :math:`(H_{out})`,
    uninitialized until the first call, then drawn as ``Linear``'s: :math:`U(-\sqrt{k}, \sqrt{k})`,
    :math:`k = 1 / H_{in}`. Forward and backward: ``Linear``'s (the module becomes a ``Linear``).
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        Module.__init__(self)
        self.in_features = 0
        self.out_features = check_size("LazyLinear", "out_features", out_features)
        self._lazy_parameters(bias, resolve_dtype(dtype), rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters(rng=rng)

    def initialize_parameters(self, input: np.ndarray) -> None:
        """``in_features = input.shape[-1]``, the parameters materialized and initialized as ``Linear``'s; after a
        ``load_state_dict`` (parameters already there), the input's size is checked against the weight."""
        if input.ndim == 0:
            raise ValueError(f"LazyLinear: expected input of shape (*, in_features), got {input.shape}")
        if self.has_uninitialized_params():
            self.in_features = int(input.shape[-1])
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
                if self.in_features == 0:  # torch leaves it torch.empty's garbage; Linear(0, n)'s is U(0, 0)
                    self.bias.data[...] = 0
            self.reset_parameters(rng=self._rng)
        if self.in_features == 0:
            if input.shape[-1] != self.weight.shape[-1]:  # torch's AssertionError, scratch's shape error
                raise ValueError(f"LazyLinear: the in_features inferred from input: {input.shape[-1]} is not equal "
                                 f"to in_features from self.weight: {self.weight.shape[-1]}")
            self.in_features = int(input.shape[-1])


class _LazyConvXdMixin(LazyModuleMixin):
    """What the lazy convolutions share (torch's ``_LazyConvXdMixin``): ``in_channels`` from the input's channel
    dimension (dim 1, or 0 for an unbatched input)."""

    _lazy = True
    _dims = 1

    if TYPE_CHECKING:  # the convolution's, set by its __init__
        in_channels: int
        out_channels: int
        groups: int
        kernel_size: tuple[int, ...]
        _transposed: bool

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters(rng=rng)  # type: ignore[misc]

    def initialize_parameters(self, input: np.ndarray, *args: Any, **kwargs: Any) -> None:
        """The parameters materialized in the layout of ``cls_to_become`` and initialized as its own. After a
        ``load_state_dict``, ``in_channels`` is read off the loaded weight (torch leaves it 0 there, in its repr
        too; scratch's convolutions check the input's channels against it)."""
        name = type(self).__name__
        if not self.has_uninitialized_params():
            if self.in_channels == 0:
                self.in_channels = self.weight.shape[0] if self._transposed else self.weight.shape[1] * self.groups
            return
        in_channels = self._get_in_channels(input)
        if in_channels == 0:
            raise ValueError(f"{name}: in_channels inferred from the input must be >= 1, got input of shape "
                             f"{input.shape}")
        if in_channels % self.groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups, got {in_channels} (from the input of "
                             f"shape {input.shape}) and {self.groups}")
        self.in_channels = in_channels
        per_group = (in_channels, self.out_channels // self.groups) if self._transposed else \
            (self.out_channels, in_channels // self.groups)
        self.weight.materialize((*per_group, *self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters(rng=self._rng)

    def _get_in_channels(self, input: np.ndarray) -> int:
        dims = self._dims
        if input.ndim not in (dims + 1, dims + 2):
            raise ValueError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                             f"{type(self).__name__}, but got input of size: {input.shape} (shape (N, C_in, "
                             f"{SPATIAL[dims]}) or (C_in, {SPATIAL[dims]}))")
        return int(input.shape[1] if input.ndim == dims + 2 else input.shape[0])


_CONV_ARGS = """Args: out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
    padding_mode='zeros', dtype (default float32), rng (keyword-only: the generator of the initialization at the
    first call); as ``{0}``'s, less ``in_channels``. Shapes, forward and backward: ``{0}``'s (the module
    becomes one)."""
_TRANSPOSED_ARGS = _CONV_ARGS.replace("dilation=1, groups=1, bias=True", "output_padding=0, groups=1, bias=True, "
                                      "dilation=1")


class _LazyConv(_LazyConvXdMixin):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        # cls_to_become's __init__ on self, as torch's lazy convolutions (each subclass sets the class)
        self.cls_to_become.__init__(self, 0, out_channels, kernel_size, stride,  # type: ignore[misc]
                                    padding, dilation, groups, bias, padding_mode, dtype, rng=rng)


class _LazyConvTranspose(_LazyConvXdMixin):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        # cls_to_become's __init__ on self, as torch's lazy convolutions (each subclass sets the class)
        self.cls_to_become.__init__(self, 0, out_channels, kernel_size, stride,  # type: ignore[misc]
                                    padding, output_padding, groups, bias, dilation, padding_mode, dtype, rng=rng)


class LazyConv1d(_LazyConv, Conv1d):
    __doc__ = "A ``Conv1d`` whose ``in_channels`` is inferred from the first input, as torch.nn.LazyConv1d.\n\n" \
        + _CONV_ARGS.format("Conv1d")
    cls_to_become = Conv1d
    _dims = 1


class LazyConv2d(_LazyConv, Conv2d):
    __doc__ = "A ``Conv2d`` whose ``in_channels`` is inferred from the first input, as torch.nn.LazyConv2d.\n\n" \
        + _CONV_ARGS.format("Conv2d")
    cls_to_become = Conv2d
    _dims = 2


class LazyConv3d(_LazyConv, Conv3d):
    __doc__ = "A ``Conv3d`` whose ``in_channels`` is inferred from the first input, as torch.nn.LazyConv3d.\n\n" \
        + _CONV_ARGS.format("Conv3d")
    cls_to_become = Conv3d
    _dims = 3


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    __doc__ = "A ``ConvTranspose1d`` whose ``in_channels`` is inferred from the first input, as " \
        "torch.nn.LazyConvTranspose1d.\n\n" + _TRANSPOSED_ARGS.format("ConvTranspose1d")
    cls_to_become = ConvTranspose1d
    _dims = 1


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    __doc__ = "A ``ConvTranspose2d`` whose ``in_channels`` is inferred from the first input, as " \
        "torch.nn.LazyConvTranspose2d.\n\n" + _TRANSPOSED_ARGS.format("ConvTranspose2d")
    cls_to_become = ConvTranspose2d
    _dims = 2


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    __doc__ = "A ``ConvTranspose3d`` whose ``in_channels`` is inferred from the first input, as " \
        "torch.nn.LazyConvTranspose3d.\n\n" + _TRANSPOSED_ARGS.format("ConvTranspose3d")
    cls_to_become = ConvTranspose3d
    _dims = 3


class _LazyNormBase(LazyModuleMixin):
    """What the lazy normalizations share (torch's ``_LazyNormBase``): ``num_features`` from the input's dim 1;
    ``weight`` / ``bias`` uninitialized parameters and ``running_mean`` / ``running_var`` uninitialized buffers
    (``num_batches_tracked`` a plain 0, as torch's), materialized with ``(num_features,)`` at the first call and
    set as the plain class sets them (ones, zeros; running statistics 0 and 1)."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype: Any = None, *, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        dtype = resolve_dtype(dtype)
        _BatchNorm.__init__(self, 0, eps, momentum, False, False, dtype, bias=False)  # type: ignore[arg-type]
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = np.array(0, dtype=np.int64)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: np.ndarray) -> None:
        """``num_features = input.shape[1]`` (torch's ``input.size(1)``, for an unbatched instance norm's input too:
        torch's quirk, which the plain class's channel check then reports) and the members materialized. When
        nothing was uninitialized (loaded, or neither affine nor tracking), torch leaves ``num_features`` 0, in its
        repr too; scratch reads it off the loaded arrays (or the input), as its norms check the input against it."""
        self._check_input_dim(input)  # type: ignore[attr-defined]
        if self.has_uninitialized_params():
            self.num_features = int(input.shape[1])
            for name in ("weight", "bias", "running_mean", "running_var"):
                if is_lazy(getattr(self, name)):
                    self._materialize(name, (self.num_features,))
            self.reset_parameters()
        elif self.num_features == 0:
            loaded = next((v for v in (self.weight, self.running_mean) if v is not None), None)
            self.num_features = int(input.shape[1] if loaded is None else loaded.shape[0])


_NORM_ARGS = """Args: eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype (default float32), bias=True
    (keyword-only), rng (keyword-only, unused); as ``{0}``'s less ``num_features``{1}. Shapes, math, forward and
    backward: ``{0}``'s (the module becomes one)."""
_INSTANCE = ", but with affine=True and track_running_stats=True by default (torch's quirk: its docstring says False)"


def _norm_doc(eager: str, differences: str = "") -> str:
    """The docstring of the lazy twin of normalization class ``eager``."""
    article = "An" if eager[0] in "AEIOU" else "A"
    return (f"{article} ``{eager}`` whose ``num_features`` is inferred from the first input, as "
            f"torch.nn.Lazy{eager}.\n\n" + _NORM_ARGS.format(eager, differences))


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    __doc__ = _norm_doc("BatchNorm1d")
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    __doc__ = _norm_doc("BatchNorm2d")
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    __doc__ = _norm_doc("BatchNorm3d")
    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    __doc__ = _norm_doc("InstanceNorm1d", _INSTANCE)
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    __doc__ = _norm_doc("InstanceNorm2d", _INSTANCE)
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    __doc__ = _norm_doc("InstanceNorm3d", _INSTANCE)
    cls_to_become = InstanceNorm3d
