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
        # data and grad: the two halves of one array, so that ``gather`` fills both with one call
        both = np.empty(2 * total, dtype)
        self.data, self.grad = both[:total], both[total:]
        self.both = both
        self.state: dict[str, Any] = {name: np.zeros(total, dtype) for name in buffers}
        self.scratch = [np.empty(total, dtype), np.empty(total, dtype)]
        # each parameter's slice of the flat arrays, made once: making views costs more than a small update
        self.data_views = [self.view(self.data, index) for index in range(len(params))]
        self.grad_views = [self.view(self.grad, index) for index in range(len(params))]
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

    def ready(self, states: list[dict[str, Any] | None]) -> list[np.ndarray] | None:
        """The gradients, if every parameter has one of the group's dtype and all are at the same step (what
        ``gather`` copies); else None."""
        dtype = self.data.dtype
        # a plain Parameter's gradient read from its slot, without the property's call (a subclass's property kept)
        grads = [p._grad if type(p) is Parameter else p.grad for p in self.params]
        for grad in grads:  # loops, not generators: their setup costs more than a few small parameters
            if grad is None or grad.dtype != dtype:
                return None
        step = None if states[0] is None else states[0].get("step")
        for state in states:
            if (None if state is None else state.get("step")) != step:
                return None
        return grads  # type: ignore[return-value]  # none is None

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

    def gather(self, grads: list[np.ndarray]) -> None:
        """Copy the parameters and ``grads``, their gradients (``ready``'s list), into the flat arrays.

        Fast path: each array is assigned to its view (``view[...] = array``, about 0.1 us each) instead of one
        ``np.concatenate`` of them all (2.4 us for the 8 arrays of a 2-layer MLP): the same elements, copied
        in the same order. The data's shapes are the views' (``matches``); a gradient of another shape (its
        parameter's data replaced since, by one of another shape) must not be broadcast, so then the
        gradients are flattened by ``concatenate`` as before (with its error when a size differs)."""
        for view, param in zip(self.data_views, self.params):
            view[...] = param.data
        for view, grad in zip(self.grad_views, grads):
            if grad.shape != view.shape:
                np.concatenate(grads, axis=None, out=self.grad)
                return
            view[...] = grad

    def scatter(self) -> None:
        """Copy the updated values back. ``data[...] = view`` is ``np.copyto(data, view)`` here (the same shape
        and dtype: ``matches``) without copyto's Python dispatcher."""
        for param, view in zip(self.params, self.data_views):
            param.data[...] = view


def flat_candidate(params: list[Parameter]) -> bool:
    """Whether a group's parameters can share flat arrays: several distinct small ones of one dtype."""
    if len(params) < 2 or sum(p.data.size for p in params) > FLAT_LIMIT:
        return False
    if len({id(p) for p in params}) != len(params):  # a parameter listed twice is updated twice, as in torch
        return False
    return all(p.data.dtype == params[0].data.dtype for p in params)
