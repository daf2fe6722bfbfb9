"""A group of small parameters updated as one flat array: one pass of each NumPy operation for the whole
group instead of one per parameter, which is what an update of many small arrays spends its time on
(torch's ``foreach`` path does the same). Every element goes through the same operations, so the
results are bit-identical to updating each parameter on its own."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.parameter import Parameter

#: a group up to this many elements is updated flat; above it the per-parameter, cache-blocked path is faster
FLAT_LIMIT = 1 << 16


class FlatGroup:
    """The parameters of one group as flat ``data`` and ``grad`` arrays, and their state buffers as one
    flat array each, whose slices are the per-parameter state arrays (so ``state_dict`` is unchanged)."""

    def __init__(self, params: list[Parameter], buffers: tuple[str, ...]) -> None:
        self.params = params
        self.buffers = buffers
        dtype, sizes = params[0].data.dtype, [p.data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        total = self.offsets[-1]
        self.data, self.grad = np.empty(total, dtype), np.empty(total, dtype)
        self.state: dict[str, Any] = {name: np.zeros(total, dtype) for name in buffers}
        self.scratch = [np.empty(total, dtype), np.empty(total, dtype)]
        # each parameter's slice of the flat arrays, made once: making views costs more than a small update
        self.data_views = [self.view(self.data, index) for index in range(len(params))]
        self.buffer_views = {name: [self.view(self.state[name], index) for index in range(len(params))]
                             for name in buffers}

    def matches(self, params: list[Parameter]) -> bool:
        return len(params) == len(self.params) and all(
            p is q and p.data.shape == q.data.shape and p.data.dtype == self.data.dtype
            for p, q in zip(params, self.params))

    def view(self, flat: np.ndarray, index: int) -> np.ndarray:
        param = self.params[index]
        return flat[self.offsets[index]:self.offsets[index + 1]].reshape(param.data.shape)

    def link(self, states: list[dict[str, Any]]) -> None:
        """Make each parameter's state buffers views of the flat ones (copying in what a per-parameter step
        or ``load_state_dict`` left there; a new state starts at step 0 with zeros, as torch's)."""
        for index, state in enumerate(states):
            if not state:
                state["step"] = 0.0
            for name in self.buffers:
                current, view = state.get(name), self.buffer_views[name][index]
                if current is view:
                    continue
                if current is None:
                    view.fill(0)
                else:
                    np.copyto(view, current)
                state[name] = view

    def gather(self) -> None:
        np.concatenate([p.data.reshape(-1) for p in self.params], out=self.data)
        np.concatenate([p.grad.reshape(-1) for p in self.params], out=self.grad)

    def scatter(self) -> None:
        for param, view in zip(self.params, self.data_views):
            np.copyto(param.data, view)


def flat_candidate(params: list[Parameter], states: list[dict[str, Any]]) -> bool:
    """Whether a group can be updated flat: several distinct small parameters of one dtype, every one
    with a gradient of that dtype, all at the same step."""
    if len(params) < 2 or sum(p.data.size for p in params) > FLAT_LIMIT:
        return False
    if len({id(p) for p in params}) != len(params):  # a parameter listed twice is updated twice, as in torch
        return False
    dtype = params[0].data.dtype
    if any(p.grad is None or p.data.dtype != dtype or p.grad.dtype != dtype for p in params):
        return False
    steps = {state.get("step") for state in states}
    return len(steps) == 1
