r"""Recurrent cells, one time step each: RNNCell, LSTMCell, GRUCell, on a shared ``RNNCellBase``.

The math (gate equations and their gradients) is in ``scratch.nn.functional.rnn_cell``: the per-step cell pairs,
shared with RNN, LSTM and GRU, and the step with its input projection.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, cast

import numpy as np

from .. import functional as F
from .. import init
from ..functional.rnn_cell import RecurrentCellCache
from ..parameter import Parameter
from ._checks import check_size
from .module import Module, resolve_dtype

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "RNNCellBase"]


class _Saved(NamedTuple):
    """What a cell's forward keeps for its backward."""

    cache: RecurrentCellCache  #: ``F.recurrent_cell_forward``'s cache
    batched: bool  #: whether the input had a batch axis
    hx_given: bool  #: whether forward was given hx (backward then returns its gradient too)
    state_shape: tuple[int, ...]  #: the shape of each state, as returned to the caller


class RNNCellBase(Module):
    r"""Base class of RNNCell, LSTMCell and GRUCell: registers ``weight_ih`` (G, input_size), ``weight_hh``
    (G, hidden_size) and, with ``bias``, ``bias_ih`` and ``bias_hh`` (G,), G = num_chunks * hidden_size, in
    torch's order; the chunks are the gates in torch's order (LSTM: i, f, g, o; GRU: r, z, n).

    Every parameter starts from :math:`U(-\sqrt{k}, \sqrt{k})`, :math:`k = 1 / H` (hidden_size), drawn
    from ``rng`` (keyword-only; default: scratch's global generator).

    Shape (N batch, H = hidden_size):
        - input: (N, input_size) or unbatched (input_size,).
        - each state (h, and c for LSTMCell), given or returned: (N, H), or (H,) unbatched.
    """

    _input_kind = "float"
    _mode = ""  # the key of ``F.rnn_cell.CELLS``, set by each cell
    _state_names: tuple[str, ...] = ("hx",)
    _grad_names: tuple[str, ...] = ("grad_output",)  # backward's arguments, one per new state

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size)
        self.hidden_size = check_size(name, "hidden_size", hidden_size)
        self.bias = bias  # torch keeps the flag as given and tests its truth
        dtype = resolve_dtype(dtype)
        gates = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((gates, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((gates, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(gates, dtype=dtype))
            self.bias_hh = Parameter(np.empty(gates, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters(rng=rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv, rng=rng)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        return s + (f", nonlinearity={nonlinearity}" if nonlinearity != "tanh" else "")

    def _weights(self) -> tuple[Any, ...]:
        biases = (self.bias_ih.data, self.bias_hh.data) if self.bias_ih is not None else (None, None)
        return (self.weight_ih.data, self.weight_hh.data, *biases)

    # ---------------------------------------------------------------- forward
    def _check_input_dtype(self, args: tuple[Any, ...]) -> None:
        """torch checks the inputs' dimensions (ValueError) before its kernel checks their dtypes: so does
        scratch."""
        if args:
            self._check_ndims(args[0], args[1] if len(args) > 1 else None)
        super()._check_input_dtype(args)

    def _check_ndims(self, input: Any, hx: Any) -> None:
        """torch's checks of the forward's Python code: input and each state 1-D or 2-D."""
        name = type(self).__name__
        if isinstance(input, np.ndarray) and input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        states = hx if isinstance(hx, (tuple, list)) else (hx,)
        for what, state in zip(self._state_names, states):
            if isinstance(state, np.ndarray) and state.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected {'hidden' if what == 'hx' else what} to be 1D or 2D, got "
                                 f"{state.ndim}D instead")

    def _step(self, input: np.ndarray, hx: tuple[Any, ...] | None) -> tuple[np.ndarray, ...]:
        """Shared forward: ``hx`` is None or the states (h,) or (h, c); returns the new states."""
        name, dtype = type(self).__name__, cast("np.dtype", self._own_dtype())  # a cell has parameters
        self._check_ndims(input, hx)
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                             f"{self.input_size} (input of shape {input.shape})")
        batched = input.ndim == 2
        x = input if batched else input[None]
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            states = tuple(np.zeros(shape, dtype=dtype) for _ in self._state_names)
        else:
            states = tuple(self._checked_state(state_name, state, shape if batched else shape[1:], dtype)
                           for state_name, state in zip(self._state_names, hx))
            states = states if batched else tuple(state[None] for state in states)
        new_states, cache = F.recurrent_cell_forward(x, states, self._weights(), self._mode)
        self._save(_Saved(cache, batched, hx is not None, shape if batched else shape[1:]))
        return new_states if batched else tuple(state[0] for state in new_states)

    def _checked_state(self, what: str, state: Any, expected: tuple[Any, ...], dtype: np.dtype) -> np.ndarray:
        name = type(self).__name__
        if not isinstance(state, np.ndarray):
            raise TypeError(f"{name}: expected {what} to be a numpy.ndarray, got {type(state).__name__}")
        if state.dtype != dtype:
            raise TypeError(f"{name}: expected {what} of dtype {dtype} (the dtype of its parameters), "
                            f"got {state.dtype}")
        if state.shape != expected:
            raise ValueError(f"{name}: expected {what} of shape {expected} ({'N, ' if len(expected) == 2 else ''}"
                             f"hidden_size={self.hidden_size}) for a {len(expected)}-D input, got {state.shape}")
        return state

    # --------------------------------------------------------------- backward
    def _step_backward(self, grads: tuple[Any, ...], saved: _Saved) -> tuple[np.ndarray, tuple[Any, ...] | None]:
        """Shared backward: ``grads`` holds dL/d(new state) per state, each possibly None. Returns dL/dx and,
        when forward was given hx, the states' gradients (else None); accumulates the parameters' gradients."""
        name, dtype = type(self).__name__, self._own_dtype()
        dstates = []
        for grad_name, grad in zip(self._grad_names, grads):
            if grad is None:
                grad = np.zeros(saved.state_shape, dtype=dtype)
            if not isinstance(grad, np.ndarray):
                raise TypeError(f"{name}.backward: expected {grad_name} to be a numpy.ndarray, "
                                f"got {type(grad).__name__}")
            if grad.shape != saved.state_shape or grad.dtype != dtype:
                raise ValueError(f"{name}.backward: expected {grad_name} of shape "
                                 f"{saved.state_shape} and dtype {dtype}, got shape {grad.shape} and dtype "
                                 f"{grad.dtype}")
            dstates.append(grad if saved.batched else grad[None])
        dx, dhx, dweights = F.recurrent_cell_backward(tuple(dstates), saved.cache)
        for param, grad in zip((self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh), dweights):
            if grad is not None:
                param.accumulate_grad(grad)
        if not saved.batched:
            dx, dhx = dx[0], tuple(d[0] for d in dhx)
        return dx, (dhx if saved.hx_given else None)


class _OneStateCell(RNNCellBase):
    """RNNCell and GRUCell carry one state h: ``forward(input, hx=None) -> h'`` and ``backward(grad_h) ->
    dL/dinput``, or ``(dL/dinput, dL/dhx)`` when forward was given hx."""

    def forward(self, input: np.ndarray, hx: np.ndarray | None = None) -> np.ndarray:
        (h_new,) = self._step(input, None if hx is None else (hx,))
        return h_new

    def backward(self, grad_output: np.ndarray) -> Any:
        saved = self._saved(grad_output)
        dx, dhx = self._step_backward((grad_output,), saved)
        return dx if dhx is None else (dx, dhx[0])


class RNNCell(_OneStateCell):
    r"""Elman RNN cell: :math:`h' = \phi(x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})`, :math:`\phi` = tanh or
    ReLU (``nonlinearity``); hx defaults to zeros.

    ``forward(input, hx=None)`` returns h'; ``backward(grad_output)`` returns dL/dinput, or
    ``(dL/dinput, dL/dhx)`` when forward was given hx, and accumulates every parameter's gradient.
    See ``RNNCellBase`` for the shapes.

    Args: input_size, hidden_size, bias=True, nonlinearity='tanh', dtype=None (float32), rng (keyword).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        # torch accepts any nonlinearity here and raises RuntimeError at the first forward; scratch refuses it now
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity: {nonlinearity!r}; select from 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype, rng=rng)
        self.nonlinearity = nonlinearity

    @property
    def _mode(self) -> str:  # type: ignore[override]  # read at each forward, as torch reads nonlinearity
        return "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"


class GRUCell(_OneStateCell):
    r"""Gated recurrent unit cell, gates in torch's order r, z, n:

    .. math::
        r = \sigma(x W_{ir}^T + b_{ir} + h W_{hr}^T + b_{hr}),\ z \text{ likewise},\
        n = \tanh(x W_{in}^T + b_{in} + r \odot (h W_{hn}^T + b_{hn})),\ h' = (1 - z) \odot n + z \odot h.

    ``forward(input, hx=None)`` returns h'; ``backward(grad_output)`` returns dL/dinput, or
    ``(dL/dinput, dL/dhx)`` when forward was given hx. See ``RNNCellBase`` for the shapes.

    Args: input_size, hidden_size, bias=True, dtype=None (float32), rng (keyword).
    """

    _mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype, rng=rng)


class LSTMCell(RNNCellBase):
    r"""Long short-term memory cell, gates in torch's order i, f, g, o:

    .. math::
        i = \sigma(x W_{ii}^T + b_{ii} + h W_{hi}^T + b_{hi}),\ f, o \text{ likewise},\ g = \tanh(\dots),\
        c' = f \odot c + i \odot g,\ h' = o \odot \tanh(c').

    ``forward(input, hx=None)`` with hx = (h, c) (default zeros) returns ``(h', c')``.
    ``backward(grad_h, grad_c=None)`` (either may be None: zeros) returns dL/dinput, or
    ``(dL/dinput, (dL/dh, dL/dc))`` when forward was given hx. See ``RNNCellBase`` for the shapes.

    Args: input_size, hidden_size, bias=True, dtype=None (float32), rng (keyword).
    """

    _mode = "LSTM"
    _state_names = ("hx[0]", "hx[1]")
    _grad_names = ("grad_h", "grad_c")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype, rng=rng)

    def forward(self, input: np.ndarray,
                hx: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: expected hx to be a tuple (h, c), got {type(hx).__name__}")
        h_new, c_new = self._step(input, None if hx is None else tuple(hx))
        return h_new, c_new

    def backward(self, grad_h: np.ndarray | None, grad_c: np.ndarray | None = None) -> Any:
        dx, dhx = self._step_backward((grad_h, grad_c), self._saved(grad_h))
        return dx if dhx is None else (dx, dhx)
