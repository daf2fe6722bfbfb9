"""Localizing a divergence: rerun one module of the tree so that only its own computation is judged.

A module's own computation is what it computes between the inputs it is given and the results of its
recorded descendants: the module is rerun (a deep copy) on torch's inputs (and, for the backward, torch's
grad_output), and each descendant that both engines recorded at this step stands in with torch's
recorded results (its output in the forward, its grad_input in the backward). For a leaf that is
everything it computes; for a container or composite layer it is its glue (a residual sum, a reshape,
the sum of an attention's three input gradients). So one rule names the innermost module at fault: a
composite whose child is wrong agrees once the child's torch results stand in, and a composite whose
children agree but whose own glue is wrong does not.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from scratch import nn

from ..report import Comparison, compare_arrays
from .recording import Tape, copy_tree, count, fill, pairs, ran_alike


def rerun(module: nn.Module, name: str, tapes: dict[str, Tape], backward: bool,
          grads: bool = True) -> tuple[list, list, dict]:
    """The module's own results (see the module docstring): outputs, grad_inputs and parameter gradients.

    ``name`` is the module's name in the model (the criterion's is not a prefix of any other); ``grads``
    False calls ``backward()`` without an upstream gradient (a loss).
    """
    clone = copy.deepcopy(module)
    prefix = f"{name}." if name else ""
    for sub_name, sub in clone.named_modules():
        full = prefix + sub_name if sub_name else name
        for attr in ("forward", "backward"):
            sub.__dict__.pop(attr, None)
        if sub_name and _recorded_by_both(tapes, full, backward):
            _stand_in(sub, full, tapes)
        else:
            _replay_generator(sub, full, tapes)
    for param in clone.parameters():
        param.grad = None
    ours, theirs = tapes["scratch"].inputs[name], tapes["torch"].inputs.get(name, ())
    inputs = [t if isinstance(t, np.ndarray) and np.issubdtype(t.dtype, np.floating) else o
              for o, t in zip(ours, theirs, strict=False)]
    inputs += list(ours[len(inputs):])
    out = clone(*inputs, **tapes["scratch"].kwargs.get(name, {}))
    if not backward:
        return copy_tree(out), [], {}
    grad_input = clone.backward(*tapes["torch"].grad_outputs[name]) if grads else clone.backward()
    return copy_tree(out), copy_tree(grad_input), {n: p.grad for n, p in clone.named_parameters()}


def _recorded_by_both(tapes: dict[str, Tape], name: str, backward: bool) -> bool:
    """Whether torch's results for module ``name`` fit where scratch's went (same number of arrays)."""
    ours, theirs = tapes["scratch"], tapes["torch"]
    if ours.order.count(name) != theirs.order.count(name):
        return False
    if name not in ours.output_skeletons or count(ours.output_skeletons[name]) != len(theirs.outputs.get(name, [])):
        return False
    if not backward:
        return True
    return (name in ours.grad_input_skeletons and name in theirs.grad_inputs
            and count(ours.grad_input_skeletons[name]) == len(theirs.grad_inputs[name]))


def _stand_in(module: nn.Module, name: str, tapes: dict[str, Tape]) -> None:
    """Make ``module`` return torch's recorded results for it instead of computing them."""

    def forward(*args: Any, **kwargs: Any) -> Any:
        return fill(tapes["scratch"].output_skeletons[name], tapes["torch"].outputs[name])

    def backward(*grads: Any) -> Any:
        return fill(tapes["scratch"].grad_input_skeletons[name], tapes["torch"].grad_inputs[name])

    object.__setattr__(module, "forward", forward)
    object.__setattr__(module, "backward", backward)


def _replay_generator(module: nn.Module, name: str, tapes: dict[str, Tape]) -> None:
    """Give a random module the generator state it drew from, so a Dropout draws the same mask again."""
    state = tapes["scratch"].rng_states.get(name)
    if state is not None:
        generator = np.random.default_rng()
        generator.bit_generator.state = copy.deepcopy(state)
        module.rng = generator


def inner_rows(model: nn.Module, tapes: dict[str, Tape], tol: float) -> list[Comparison]:
    """The output and grad_input rows of every module inside ``model`` that both engines ran (``record_tree``),
    each named by its path, forward ones in the order their forward finished, then backward ones likewise;
    a module whose rows fail is judged on its own computation (see the module docstring)."""
    ours, theirs = tapes["scratch"], tapes["torch"]
    modules = dict(model.named_modules())
    rows = []
    for backward, order, torch_order, record, base in (
            (False, ours.order, theirs.order, theirs.outputs, "output"),
            (True, ours.backward_order, theirs.backward_order, theirs.grad_inputs, "grad_input")):
        for name in (n for n in ran_alike(order, torch_order) if n in modules):
            mine = (ours.grad_inputs if backward else ours.outputs).get(name, [])

            def local(name: str = name, backward: bool = backward, base: str = base, record: dict = record) -> list:
                outputs, grad_inputs, _ = rerun(modules[name], name, tapes, backward)
                return pairs(base, grad_inputs if backward else outputs, record[name])

            rows += _judged(name, pairs(base, mine, record[name]), local, tol)
    return rows


def _judged(name: str, raw: list, local: Callable[[], list], tol: float) -> list[Comparison]:
    """``raw``'s comparisons or, when one fails, those of ``local()`` (its own computation), marked local."""
    rows = _compared(name, raw, tol)
    if all(row.ok for row in rows):
        return rows
    try:
        rows = _compared(name, local(), tol)
    except Exception as error:  # a rerun that fails leaves the raw verdict, with the reason
        for row in rows:
            row.problem = f"{row.problem} (local rerun failed: {error})".strip()
        return rows
    for row in rows:
        row.local = True
    return rows


def _compared(name: str, triples: list, tol: float) -> list[Comparison]:
    rows = []
    for quantity, ours, theirs in triples:
        if ours is None or theirs is None:
            if ours is not None or theirs is not None:
                problem = f"missing in {'scratch' if ours is None else 'torch'}"
                rows.append(Comparison(quantity, math.inf, math.inf, tol, False, problem, name))
            continue
        row = compare_arrays(quantity, ours, theirs, tol)
        row.module = name
        rows.append(row)
    return rows
