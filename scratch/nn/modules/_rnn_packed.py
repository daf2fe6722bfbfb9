r"""RNN, LSTM and GRU on a ``PackedSequence``: the packed path of ``RNNBase``, as torch's ``RNNBase.forward``.

The packed data (S, H_in) runs through ``F.rnn_forward`` with its ``batch_sizes``: step t updates only the
first ``batch_sizes[t]`` rows of the state (the sequences still running, a prefix since the batch is sorted
by decreasing length), so each sequence's final state is the one after its own last step and the reverse
direction starts at each sequence's own last element. The states follow the batch's original order, the
packed rows the sorted one: as torch's ``permute_hidden``, h_0 (and c_0) enter as ``hx[:, sorted_indices]``
and h_n (and c_n) leave as ``state[:, unsorted_indices]``; backward permutes their gradients the other way.

Shape (S = sum(batch_sizes), N = batch_sizes[0], D = 2 if bidirectional else 1, H = hidden_size):
    - input: PackedSequence with data (S, H_in); output: PackedSequence with data (S, D * H) and the
      input's batch_sizes, sorted_indices and unsorted_indices.
    - each initial/final state: (num_layers * D, N, H) (P features for h with an LSTM's proj_size = P).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import functional as F
from ..functional.rnn import RNNCache
from ..utils.rnn import PackedSequence

__all__: list[str] = []


class _Saved(NamedTuple):
    """What an RNN's forward keeps for its backward."""

    cache: RNNCache  #: ``F.rnn_forward``'s cache
    batched: bool  #: whether the input had a batch axis
    hx_given: bool  #: whether forward was given initial states (backward then returns their gradients)
    out_shape: tuple[int, ...]  #: the output's shape (a packed output's data's), as returned to the caller
    state_shapes: tuple[tuple[int, ...], ...]  #: the shape of each final state, as returned to the caller
    #: a packed input's (batch_sizes, sorted_indices, unsorted_indices), else None
    packed: tuple[Any, Any, Any] | None = None


def _check_batch_sizes(name: str, batch_sizes: Any, rows: int) -> tuple[int, ...]:
    """A PackedSequence's batch_sizes: 1-D integers, positive, non-increasing, summing to the data's rows."""
    sizes = np.asarray(batch_sizes)
    if sizes.ndim != 1 or sizes.size == 0 or sizes.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected a PackedSequence's batch_sizes to be a non-empty 1-D integer array, "
                         f"got {sizes.dtype} of shape {sizes.shape}")
    if sizes.min() <= 0 or np.any(np.diff(sizes) > 0) or sizes.sum() != rows:
        raise ValueError(f"{name}: expected a PackedSequence's batch_sizes to be positive, non-increasing and to "
                         f"sum to the data's {rows} rows, got {sizes.tolist()}")
    return tuple(sizes.tolist())


class PackedRNNMixin:
    """The packed path of ``RNNBase`` (see the module docstring)."""

    dropout_masks: list[np.ndarray | None]

    def _forward_packed(self: Any, input: PackedSequence,
                        hx: tuple[np.ndarray, ...] | None) -> tuple[PackedSequence, tuple[np.ndarray, ...]]:
        name, dtype, data = type(self).__name__, self._own_dtype(), input.data
        if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != self.input_size:
            raise ValueError(f"{name}: expected a PackedSequence's data of shape (S, {self.input_size}) "
                             f"(input_size={self.input_size}), got "
                             f"{data.shape if isinstance(data, np.ndarray) else type(data).__name__}")
        batch_sizes = _check_batch_sizes(name, input.batch_sizes, data.shape[0])
        sorted_indices, unsorted_indices = input.sorted_indices, input.unsorted_indices
        states = self._initial_states(hx, batch_sizes[0], True, dtype)
        if hx is not None and sorted_indices is not None:  # torch's permute_hidden(hx, sorted_indices)
            states = tuple(state[:, sorted_indices] for state in states)
        (out, state_n), cache = F.rnn_forward(data, states, self._weights(), self.mode, self.num_layers,
                                              self.bidirectional, self.dropout, self.training, rng=self.rng,
                                              batch_sizes=batch_sizes)
        self.dropout_masks = [dropout.keep for dropout in cache.dropout_caches]
        if unsorted_indices is not None:  # torch's permute_hidden(hidden, unsorted_indices)
            state_n = tuple(state[:, unsorted_indices] for state in state_n)
        packed = (input.batch_sizes, sorted_indices, unsorted_indices)
        self._save(_Saved(cache, True, hx is not None, out.shape, tuple(s.shape for s in state_n), packed))
        return PackedSequence(out, input.batch_sizes, sorted_indices, unsorted_indices), state_n

    def _backward_packed(self: Any, grad_output: np.ndarray, dstates: list[np.ndarray],
                         saved: _Saved) -> tuple[PackedSequence, tuple[np.ndarray, ...] | None]:
        """dL/d(input data) as a PackedSequence, and dL/dhx (None unless forward was given hx)."""
        assert saved.packed is not None
        batch_sizes, sorted_indices, unsorted_indices = saved.packed
        if sorted_indices is not None:  # h_n = state[:, unsorted]: its gradient enters at [:, sorted]
            dstates = [grad[:, sorted_indices] for grad in dstates]
        dx, dhx, dweights = F.rnn_backward(np.ascontiguousarray(grad_output), tuple(dstates), saved.cache)
        self._parameter_grads(dweights)
        if unsorted_indices is not None:
            dhx = tuple(grad[:, unsorted_indices] for grad in dhx)
        return PackedSequence(dx, batch_sizes, sorted_indices, unsorted_indices), (dhx if saved.hx_given else None)
