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
        # what ``matches`` and ``link`` compare with on every step, made once
        self.layout = [(view.shape, view.dtype) for view in self.data_views]
        self.links = [[(name, self.buffer_views[name][index]) for name in buffers] for index in range(len(params))]

    def matches(self, params: list[Parameter], buffers: tuple[str, ...]) -> bool:
        """Whether this flat group still fits ``params`` (the same ones, shapes and dtype) and ``buffers``.
        (The list comparison is one of identities: a Parameter compares equal to itself only.)"""
        return buffers == self.buffers and params == self.params and \
            [(p.data.shape, p.data.dtype) for p in params] == self.layout

    def ready(self, states: list[dict[str, Any] | None]) -> bool:
        """Whether every parameter has a gradient of the group's dtype and all are at the same step."""
        dtype = self.data.dtype
        for p in self.params:  # loops, not generators: their setup costs more than a few small parameters
            grad = p.grad
            if grad is None or grad.dtype != dtype:
                return False
        step = None if states[0] is None else states[0].get("step")
        for state in states:
            if not ((None if state is None else state.get("step")) == step):
                return False
        return True

    def view(self, flat: np.ndarray, index: int) -> np.ndarray:
        param = self.params[index]
        return flat[self.offsets[index]:self.offsets[index + 1]].reshape(param.data.shape)

    def link(self, states: list[dict[str, Any]]) -> None:
        """Make each parameter's state buffers views of the flat ones (copying in what a per-parameter step
        or ``load_state_dict`` left there; a new state starts at step 0 with zeros, as torch's)."""
        for state, links in zip(states, self.links):
            if not state:
                state["step"] = 0.0
            for name, view in links:
                current = state.get(name)
                if current is view:
                    continue
                if current is None:
                    view.fill(0)
                else:
                    np.copyto(view, current)
                state[name] = view

    def gather(self) -> None:
        """Copy the parameters and gradients (every one has one: ``ready``) into the flat arrays. axis=None:
        ``concatenate`` flattens each in C order itself, as ``reshape(-1)`` would, without a call per array."""
        np.concatenate([p.data for p in self.params], axis=None, out=self.data)
        np.concatenate([p.grad for p in self.params], axis=None, out=self.grad)  # type: ignore[misc]

    def scatter(self) -> None:
        for param, view in zip(self.params, self.data_views):
            np.copyto(param.data, view)


def flat_candidate(params: list[Parameter]) -> bool:
    """Whether a group's parameters can share flat arrays: several distinct small ones of one dtype."""
    if len(params) < 2 or sum(p.data.size for p in params) > FLAT_LIMIT:
        return False
    if len({id(p) for p in params}) != len(params):  # a parameter listed twice is updated twice, as in torch
        return False
    return all(p.data.dtype == params[0].data.dtype for p in params)
