r"""Recurrent layers: RNN, LSTM, GRU, on a shared ``RNNBase`` that holds the parameter bookkeeping.

The math is in ``scratch.nn.functional.rnn`` (BPTT delta rules) and ``scratch.nn.functional.rnn_cell`` (cell
equations).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, cast

import numpy as np

from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ._rnn_packed import PackedRNNMixin, _Saved
from .module import Module, resolve_dtype

__all__ = ["GRU", "LSTM", "RNN", "RNNBase"]

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(PackedRNNMixin, Module):
    r"""Base class of RNN, LSTM and GRU: validates the options like torch and registers, per layer l and
    direction, ``weight_ih_l{l}``, ``weight_hh_l{l}``, ``bias_ih_l{l}``, ``bias_hh_l{l}`` and, for an LSTM with
    ``proj_size`` > 0, ``weight_hr_l{l}`` (then the same with suffix ``_reverse``), in torch's order, so
    state_dict keys and order equal torch's.

    Every parameter starts from :math:`U(-\sqrt{k}, \sqrt{k})`, :math:`k = 1 / H` (hidden_size).
    In training, ``dropout`` = p > 0 zeroes each output element of every layer but the last with
    probability p and scales the rest by 1 / (1 - p), like ``nn.Dropout``; the masks are drawn from
    ``rng`` (keyword-only, which also draws the initial weights; default: scratch's global generator)
    and kept in ``dropout_masks``.

    Shape (L sequence length, N batch, D = 2 if bidirectional else 1, H = hidden_size):
        - input: (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in).
        - each initial/final state: (num_layers * D, N, H), or (num_layers * D, H) unbatched.
        - output: (L, N, D * H), (N, L, D * H) with batch_first, or (L, D * H) unbatched.
        - or a ``PackedSequence`` input (data (S, H_in)) and output (data (S, D * H)), batch_first ignored as
          in torch; the states are then (num_layers * D, batch_sizes[0], H) (see ``_rnn_packed``).
        With proj_size = P > 0 (LSTM), h_0, h_n and the output have P features in place of H.
    """

    _state_names: tuple[str, ...] = ("h_0",)
    _input_kind = "float"  # see ``_checks``

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        _validate(type(self).__name__, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        if mode not in GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        if proj_size and mode != "LSTM":  # torch's RNN and GRU refuse the argument with this message
            raise ValueError(f"{type(self).__name__}: proj_size argument is only supported for LSTM, not RNN or GRU")
        dtype = resolve_dtype(dtype)
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.rng = rng
        #: The boolean keep-masks of the last forward's dropout between layers, one per gap between layers,
        #: each (L, N, D * H) (time-major, as the layers see them); empty in eval mode or with dropout=0.
        self.dropout_masks: list[np.ndarray | None] = []
        directions = 2 if bidirectional else 1
        gate_size, real_hidden = GATES[mode] * hidden_size, proj_size or hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes: dict[str, tuple[int, ...]] = {"weight_ih": (gate_size, layer_input),
                                                      "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes.update(weight_hr=(proj_size, hidden_size))
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(np.empty(shape, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters(rng=rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv, rng=rng)

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _weight_kinds(self) -> tuple[str, ...]:
        """The parameters of one layer and direction, in the order of ``F.rnn_forward``'s weights."""
        return ("weight_ih", "weight_hh", "bias_ih", "bias_hh") + (("weight_hr",) if self.proj_size > 0 else ())

    def _weights(self) -> list[tuple[Any, ...]]:
        """(W_ih, W_hh, b_ih, b_hh[, W_hr]) arrays per layer and direction (None for an absent bias), in the order
        of ``F.rnn_forward``."""
        weights = []
        for layer in range(self.num_layers):
            for direction in range(self._directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                params = [getattr(self, name + suffix, None) for name in self._weight_kinds]
                weights.append(tuple(None if param is None else param.data for param in params))
        return weights

    def _parameter_grads(self, dweights: list[tuple[Any, ...]]) -> None:
        for layer in range(self.num_layers):
            for direction in range(self._directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                grads = dweights[layer * self._directions + direction]
                for name, grad in zip(self._weight_kinds, grads):
                    if grad is not None:
                        getattr(self, name + suffix).accumulate_grad(grad)

    # ---------------------------------------------------------------- forward
    def _check_input_dtype(self, args: tuple[Any, ...]) -> None:
        """The input only: ``_initial_states`` checks h_0 (and c_0) and names them. A float input of another
        dtype than the weights' is a ValueError, as torch's ``RNNBase.check_input`` raises."""
        if args and isinstance(args[0], PackedSequence):
            args = (args[0].data, *args[1:])
        dtype, input = self._own_dtype(), args[0] if args else None
        if isinstance(input, np.ndarray) and input.dtype.kind == "f" and input.dtype != dtype:
            raise ValueError(f"{type(self).__name__}: input dtype ({input.dtype}) does not match weight dtype "
                             f"({dtype}); convert the input or call .to(np.{input.dtype}) on the module")
        super()._check_input_dtype(args[:1])

    def _forward(self, input: np.ndarray | PackedSequence,
                 hx: tuple[Any, ...] | None) -> tuple[Any, tuple[Any, ...]]:
        """Shared forward: ``hx`` is None or a tuple of states (h,) or (h, c)."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name = type(self).__name__
        dtype = cast("np.dtype", self._own_dtype())  # that input is a float array of this dtype, __call__ checked
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (L, N, {self.input_size}) or unbatched (L, "
                             f"{self.input_size}) (input_size={self.input_size}), got {input.shape}")
        if input.shape[-2 if input.ndim == 3 and self.batch_first else 0] == 0:
            raise ValueError(f"{name}: expected a sequence of length at least 1, got input of shape {input.shape}")
        batched = input.ndim == 3
        x = input if batched else input[:, None, :]
        x = x.transpose(1, 0, 2) if batched and self.batch_first else x
        states = self._initial_states(hx, x.shape[1], batched, dtype)
        (out, state_n), cache = F.rnn_forward(x, states, self._weights(), self.mode, self.num_layers,
                                              self.bidirectional, self.dropout, self.training, rng=self.rng)
        self.dropout_masks = [None if dropout.keep is None else dropout.keep.reshape(*x.shape[:2], -1)
                              for dropout in cache.dropout_caches]  # None: an empty batch draws nothing
        out = out.transpose(1, 0, 2) if batched and self.batch_first else out
        if not batched:
            out, state_n = out[:, 0], tuple(s[:, 0] for s in state_n)
        self._save(_Saved(cache, batched, hx is not None, out.shape, tuple(state.shape for state in state_n)))
        return out, state_n

    def _initial_states(self, hx: tuple[Any, ...] | None, batch: int, batched: bool, dtype: np.dtype) -> tuple[Any,
                        ...]:
        """h_0 (and c_0) checked, or zeros; h has proj_size features where an LSTM has a projection."""
        name = type(self).__name__
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)
        shapes = [(self.num_layers * self._directions, batch, size) for size in sizes[:len(self._state_names)]]
        if hx is None:
            return tuple(np.zeros(shape, dtype=dtype) for shape in shapes)
        for state_name, state, shape in zip(self._state_names, hx, shapes):
            expected = shape if batched else (shape[0], shape[2])
            if not isinstance(state, np.ndarray):
                raise TypeError(f"{name}: expected {state_name} to be a numpy.ndarray, got {type(state).__name__}")
            if state.dtype != dtype:
                raise TypeError(f"{name}: expected {state_name} of dtype {dtype} (the dtype of its parameters), "
                                f"got {state.dtype}")
            if state.shape != expected:
                size = "proj_size" if self.proj_size and state_name == "h_0" else "hidden_size"
                raise ValueError(f"{name}: expected {state_name} of shape {expected} (num_layers * num_directions, "
                                 f"{'N, ' if batched else ''}{size}) for a {'3' if batched else '2'}-D input, "
                                 f"got {state.shape}")
        return tuple(state if batched else state[:, None, :] for state in hx)

    # --------------------------------------------------------------- backward
    def _backward(self, grad_output: Any, grads: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...] | None]:
        """Shared backward: ``grads`` holds dL/d(final state) per state, each possibly None.
        Returns dL/dx and, when forward was given initial states, their gradients (else None). After a packed
        input, ``grad_output`` is the gradient of the output's data (or a PackedSequence of it) and dL/dx a
        PackedSequence of the gradient of the input's data."""
        name = type(self).__name__
        if isinstance(grad_output, PackedSequence):
            grad_output = grad_output.data
        saved = self._saved(grad_output)
        cache, batched, hx_given, out_shape, state_shapes, _ = saved
        dtype = cast("np.dtype", self._own_dtype())  # an RNN has parameters
        _check_grad(name, "grad_output", grad_output, out_shape, dtype)
        dstates = []
        for state_name, grad, state_shape in zip(self._state_names, grads, state_shapes):
            final = state_name.replace("_0", "_n")
            if grad is None:
                grad = np.zeros(state_shape, dtype=dtype)
            _check_grad(name, f"grad of {final}", grad, state_shape, dtype)
            dstates.append(grad if batched else grad[:, None, :])
        if saved.packed is not None:
            return self._backward_packed(grad_output, dstates, saved)
        dout = grad_output if batched else grad_output[:, None, :]
        dout = dout.transpose(1, 0, 2) if batched and self.batch_first else dout
        dx, dhx, dweights = F.rnn_backward(np.ascontiguousarray(dout), tuple(dstates), cache)
        self._parameter_grads(dweights)
        dx = dx.transpose(1, 0, 2) if batched and self.batch_first else dx
        if not batched:
            dx, dhx = dx[:, 0], tuple(d[:, 0] for d in dhx)
        return dx, (dhx if hx_given else None)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _validate(name: str, input_size: Any, hidden_size: Any, num_layers: Any, bias: Any, batch_first: Any,
              dropout: Any, proj_size: Any) -> None:
    """torch's constructor checks, in torch's order."""
    # torch's check, verbatim: a complex dropout raises TypeError in the comparison, as in torch
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:  # type: ignore[operator]
        raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of an "
                         f"element being zeroed, got {dropout!r}")
    if dropout > 0 and num_layers == 1:  # type: ignore[operator]  # a real number here
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                      f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                      stacklevel=3)
    for arg, value in (("bias", bias), ("batch_first", batch_first)):
        if not isinstance(value, bool):
            raise TypeError(f"{name}: {arg} should be of type bool, got: {type(value).__name__}")
    for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int):
            raise TypeError(f"{name}: {arg} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name}: {arg} must be greater than zero, got {value}")
    if num_layers <= 0:
        raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers}")
    if proj_size < 0:
        raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError(f"{name}: proj_size has to be smaller than hidden_size")


def _check_grad(name: str, what: str, grad: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if not isinstance(grad, np.ndarray):
        raise TypeError(f"{name}.backward: expected {what} to be a numpy.ndarray, got {type(grad).__name__}")
    if grad.shape != shape or grad.dtype != dtype:
        raise ValueError(f"{name}.backward: expected {what} of shape {shape} and dtype {dtype}, got shape "
                         f"{grad.shape} and dtype {grad.dtype}")


class _OneStateRNN(RNNBase):
    """RNN and GRU carry one state h: ``forward(x, h_0=None) -> (output, h_n)`` and
    ``backward(grad_output, grad_h_n=None) -> dL/dx``, or ``(dL/dx, dL/dh_0)`` when h_0 was given."""

    def forward(self, input: np.ndarray | PackedSequence, hx: np.ndarray | None = None) -> tuple[Any, np.ndarray]:
        out, (h_n,) = self._forward(input, None if hx is None else (hx,))
        return out, h_n

    def backward(self, grad_output: np.ndarray, grad_h_n: np.ndarray | None = None) -> Any:
        dx, dhx = self._backward(grad_output, (grad_h_n,))
        return dx if dhx is None else (dx, dhx[0])


class RNN(_OneStateRNN):
    r"""Elman RNN: :math:`h_t = \phi(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})`, with
    :math:`\phi` = tanh or ReLU (``nonlinearity``); layer l > 0 takes layer l - 1's outputs as x_t.

    ``forward(input, hx=None)`` returns ``(output, h_n)``; hx defaults to zeros.
    ``backward(grad_output, grad_h_n=None)`` returns dL/dx, or ``(dL/dx, dL/dh_0)`` when forward was
    given h_0, and accumulates every parameter's gradient. See ``RNNBase`` for the shapes and
    ``scratch.nn.functional.rnn`` for BPTT.

    Args: input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, dtype=None (float32), rng (keyword: initial weights, dropout masks).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, dtype=dtype, rng=rng)
        # torch's quirk, matched: RNNBase.extra_repr never shows nonlinearity, so RNN(4, 6, nonlinearity='relu')
        # prints as RNN(4, 6)


class LSTM(RNNBase):
    r"""Long short-term memory, gates in torch's order i, f, g, o:

    .. math::
        i_t = \sigma(x_t W_{ii}^T + b_{ii} + h_{t-1} W_{hi}^T + b_{hi}),\ f_t, o_t \text{ likewise},\
        g_t = \tanh(\dots),\ c_t = f_t \odot c_{t-1} + i_t \odot g_t,\ h_t = o_t \odot \tanh(c_t),

    or, with ``proj_size`` = P > 0 (LSTM with projections), :math:`h_t = (o_t \odot \tanh c_t) W_{hr}^T`
    with ``weight_hr_l{k}`` (P, H): h_0, h_n and the output then have P features, c_0 and c_n keep H.

    ``forward(input, hx=None)`` with hx = (h_0, c_0) returns ``(output, (h_n, c_n))``.
    ``backward(grad_output, grad_state=None)``, grad_state = (grad_h_n, grad_c_n), either entry may be
    None, returns dL/dx, or ``(dL/dx, (dL/dh_0, dL/dc_0))`` when forward was given hx.
    See ``RNNBase`` for the shapes.
    """

    _state_names = ("h_0", "c_0")

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, dtype=dtype, rng=rng)

    def forward(self, input: np.ndarray | PackedSequence,
                hx: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[Any, tuple[np.ndarray, np.ndarray]]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTM: expected hx to be a tuple (h_0, c_0), got {type(hx).__name__}")
        out, (h_n, c_n) = self._forward(input, None if hx is None else tuple(hx))
        return out, (h_n, c_n)

    def backward(self, grad_output: np.ndarray, grad_state: tuple[Any, ...] | None = None) -> Any:
        grads = (None, None) if grad_state is None else tuple(grad_state)
        if len(grads) != 2:
            raise TypeError("LSTM.backward: expected grad_state to be a tuple (grad_h_n, grad_c_n)")
        dx, dhx = self._backward(grad_output, grads)
        return dx if dhx is None else (dx, dhx)


class GRU(_OneStateRNN):
    r"""Gated recurrent unit, gates in torch's order r, z, n:

    .. math::
        r_t = \sigma(x_t W_{ir}^T + b_{ir} + h_{t-1} W_{hr}^T + b_{hr}),\ z_t \text{ likewise},\
        n_t = \tanh(x_t W_{in}^T + b_{in} + r_t \odot (h_{t-1} W_{hn}^T + b_{hn})),\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.

    ``forward(input, hx=None)`` returns ``(output, h_n)``; ``backward(grad_output, grad_h_n=None)``
    returns dL/dx, or ``(dL/dx, dL/dh_0)`` when forward was given h_0. See ``RNNBase`` for the shapes.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype, rng=rng)

