"""One component of scratch side by side with its torch twin: a module, a loss or an optimizer.

Each function feeds both engines the same inputs and the same random upstream gradients and returns a
``ParityResult`` with one comparison per quantity, judged by the tolerance policy (``tolerance.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

import scratch.optim
from scratch import nn
from scratch.nn import Parameter

from .arrays import indexed_names, is_float, leaves, random_like, to_numpy, tree_map
from .convert import to_torch, to_torch_optimizer
from .oracle import objective
from .report import Comparison, ParityResult, allow_atol, compare_arrays, within_atol
from .tolerance import MIN_GRAD_NORM, reduction_length, rtol, trajectory_rtol

__all__ = ["loss_parity", "module_dtype", "module_parity", "optimizer_parity"]


def module_dtype(module: nn.Module, inputs: Sequence[Any] = ()) -> np.dtype:
    """The dtype a module computes in: its parameters', else its first float input's, else float32."""
    for param in module.parameters():
        return param.dtype
    for x in inputs:
        if is_float(x):
            return np.asarray(x).dtype
    return np.dtype(np.float32)


def module_parity(module: nn.Module, *inputs: Any, rng: np.random.Generator | None = None,
                  grad_output: Any = None, tol: float | None = None, atol: float | None = None) -> ParityResult:
    """Run ``module`` and its torch twin on the same inputs and upstream gradient; compare every
    output, dL/d(every float input), every parameter gradient and, after the pass, every buffer.

    Inputs and outputs may be nested tuples (an RNN's ``(x, h_0)`` and ``(output, h_n)``): a module
    with several outputs gets ``backward(*grads)``, one gradient per output in the same structure,
    and returns one gradient per float input. Several leaves are named ``output[i]``, ``grad_input[i]``.

    A module with children (a container, a composite layer) also gets the output and grad_input rows of
    every module inside it that both engines call, named by its path (``Comparison.module``), forward ones
    in the order they finish, then backward ones; a failing one is judged on its own computation, as in
    ``torch_ref.training`` (fed torch's inputs, the modules inside it standing in with torch's results),
    so the innermost module at fault is the one whose rows fail.

    ``tol`` replaces the policy's relative tolerance; a comparison within ``atol`` (absolute) passes too.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    twin = to_torch(module)
    params = dict(module.named_parameters())
    flat_inputs = leaves(inputs)
    if tol is None:
        arrays = [x for x in flat_inputs if is_float(x)] + [p.data for p in params.values()]
        tol = rtol(module_dtype(module, flat_inputs), reduction_length(*arrays))
    # torch's leaves are made before scratch runs (an in-place module overwrites its input) and fed as
    # clones, so an in-place twin is not applied to a leaf that requires grad
    torch_leaves = {id(x): torch.tensor(np.array(x), requires_grad=is_float(x)) for x in flat_inputs}
    torch_inputs = tree_map(lambda x: torch_leaves[id(x)].clone() if is_float(x) else torch_leaves[id(x)], inputs)
    from .training.recording import record_tree  # here: torch_ref.training imports this module

    with record_tree(module, twin) if any(True for _ in module.children()) else nullcontext() as tapes:
        out, grad_output, grad_input, torch_outs = _run_both(module, twin, inputs, torch_inputs, grad_output, rng)
    result = ParityResult()
    outs = leaves(out)
    for name, ours, theirs in zip(indexed_names("output", len(outs)), outs, torch_outs, strict=True):
        result.add(name, ours, theirs, tol)
    ours_grads = [g for g in leaves(grad_input) if g is not None]
    theirs_grads = [torch_leaves[id(x)].grad for x in flat_inputs if is_float(x)]
    if len(ours_grads) != len(theirs_grads):
        result.comparisons.append(Comparison("grad_input", np.inf, np.inf, tol, False, f"backward returned "
                                             f"{len(ours_grads)} gradients for {len(theirs_grads)} float inputs"))
    for name, ours, theirs in zip(indexed_names("grad_input", len(theirs_grads)), ours_grads, theirs_grads):
        result.add(name, ours, theirs, tol, MIN_GRAD_NORM)
    torch_params = dict(twin.named_parameters())
    for name, param in params.items():
        theirs = torch_params[name].grad
        if param.grad is None or theirs is None:  # reached by no backward (an adaptive softmax's idle cluster)
            if param.grad is not theirs:
                result.comparisons.append(Comparison(f"{name}.grad", np.inf, np.inf, tol, False, "a gradient in "
                                                     f"{'torch' if param.grad is None else 'scratch'} only"))
            continue
        result.add(f"{name}.grad", param.grad, theirs, tol, MIN_GRAD_NORM)
    torch_buffers = dict(twin.named_buffers())
    for name, buffer in module.named_buffers():
        result.add(name, buffer, torch_buffers.get(name, np.empty(0)), tol)
    if tapes is not None:
        from .training.localize import inner_rows

        result.comparisons += inner_rows(module, tapes, tol)
    return allow_atol(result, atol)


def _run_both(module: nn.Module, twin: torch.nn.Module, inputs: tuple, torch_inputs: tuple, grad_output: Any,
              rng: np.random.Generator) -> tuple[Any, Any, Any, list]:
    """Forward and backward of both engines (scratch first): (out, grad_output, grad_input, torch's outputs)."""
    out = module(*inputs)
    if grad_output is None:
        grad_output = tree_map(lambda o: random_like(o, rng), out)
    grad_input = module.backward(*grad_output) if isinstance(out, tuple) else module.backward(grad_output)
    torch_outs = leaves(twin(*torch_inputs))
    pairs = [(t, torch.from_numpy(np.array(g))) for t, g in zip(torch_outs, leaves(grad_output)) if t.requires_grad]
    torch.autograd.backward([t for t, _ in pairs], [g for _, g in pairs])
    return out, grad_output, grad_input, torch_outs


def loss_parity(criterion: nn.Module, input: np.ndarray | tuple[np.ndarray, ...], target: np.ndarray, *,
                rng: np.random.Generator | None = None, tol: float | None = None,
                atol: float | None = None) -> ParityResult:
    """Like ``module_parity`` for a loss: the upstream gradient is a random scalar for a reduced
    loss (so the scaling by it is checked too) or a random array for reduction='none'.

    ``input`` may be a tuple of float inputs (CosineEmbeddingLoss's ``input1, input2``): the loss is
    then called as ``criterion(*input, target)``, its ``backward`` returns one gradient per input,
    and each is compared as ``grad_input[i]``. A loss with parameters (LinearCrossEntropyLoss's Linear)
    also gets each parameter's gradient compared.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    inputs = tuple(input) if isinstance(input, (tuple, list)) else (input,)
    twin = to_torch(criterion)
    tol = rtol(inputs[0].dtype, reduction_length(*inputs)) if tol is None else tol
    loss = criterion(*inputs, target)
    grad = random_like(loss, rng)
    grad_inputs = criterion.backward(grad)
    grad_inputs = tuple(grad_inputs) if len(inputs) > 1 else (grad_inputs,)
    torch_inputs = [torch.tensor(x, requires_grad=True) for x in inputs]
    torch_loss = twin(*torch_inputs, torch.tensor(target))
    torch_loss.backward(torch.from_numpy(np.array(grad)))
    result = ParityResult()
    result.add("output", loss, torch_loss, tol)
    for name, ours, theirs in zip(indexed_names("grad_input", len(inputs)), grad_inputs, torch_inputs, strict=True):
        result.add(name, ours, theirs.grad, tol, MIN_GRAD_NORM)
    torch_params = dict(twin.named_parameters())
    for name, param in criterion.named_parameters():  # a loss with a layer inside (LinearCrossEntropyLoss)
        result.add(f"{name}.grad", param.grad, torch_params[name].grad, tol, MIN_GRAD_NORM)
    return allow_atol(result, atol)


def loss_parity_of(criterion: nn.Module, args: Sequence[Any], differentiable: Sequence[int], *,
                   rng: np.random.Generator | None = None, tol: float | None = None) -> ParityResult:
    """``loss_parity`` for a loss whose target sits between its float inputs (GaussianNLLLoss's ``input, target,
    var``): ``criterion(*args)``, and ``backward`` returns the gradients of ``args[i]`` for i in ``differentiable``
    (None for a float argument, such as a float var), each compared with torch's as ``grad_input[i]``."""
    rng = np.random.default_rng(0) if rng is None else rng
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    tol = rtol(arrays[0].dtype, reduction_length(*arrays)) if tol is None else tol
    twin = to_torch(criterion)
    loss = criterion(*args)
    grad = random_like(loss, rng)
    ours = criterion.backward(grad)
    theirs = [torch.tensor(a, requires_grad=i in differentiable) if isinstance(a, np.ndarray) else a
              for i, a in enumerate(args)]
    torch_loss = twin(*theirs)
    torch_loss.backward(torch.from_numpy(np.array(grad)))
    result = ParityResult()
    result.add("output", loss, torch_loss, tol)
    for i, g in zip(differentiable, ours, strict=True):
        if isinstance(args[i], np.ndarray):
            result.add(f"grad_input[{i}]", g, theirs[i].grad, tol, MIN_GRAD_NORM)
    return result


# ------------------------------------------------------------------------------------ optimizers
#: The parameters an optimizer is run on: a matrix, a vector, a 0-d scalar and a frozen one.
PARAMETER_SHAPES: dict[str, tuple[int, ...]] = {"weight": (4, 3), "bias": (4,), "scalar": (), "frozen": (2, 2)}
#: Optimizers that take matrices only (torch's Muon: "Muon only supports 2D parameters"; torch's own tests give
#: it the weight alone, ``params = [weight] if optim_cls.__name__ != "Muon" else [weight]``), run instead on
#: ``MATRIX_PARAMETER_SHAPES``: a tall, a wide and a square matrix and a frozen one.
MATRIX_ONLY = frozenset({"Muon"})
MATRIX_PARAMETER_SHAPES: dict[str, tuple[int, ...]] = {"weight": (4, 3), "wide": (3, 5), "square": (3, 3),
                                                      "frozen": (2, 2)}
SKIPPED_EVERY = 7  # the second parameter gets no gradient on every 7th step, as a layer that a step did not use
#: Optimizers whose ``step`` needs a closure (optim_db's ``step_requires_closure``): instead of random gradients
#: they minimize the oracle's function (torch_ref/oracle/objective.py, a new target each step) over every
#: parameter but the frozen one, through a closure each engine evaluates on its own parameters.
CLOSURE_STEP = frozenset({"LBFGS"})


def optimizer_parity(optimizer: str | type, groups: dict | list[dict], *, dtype: Any = np.float64,
                     rng: np.random.Generator | None = None, steps: int = 20, rtol: float | None = None,
                     atol: float | None = None) -> ParityResult:
    r"""Run ``scratch.optim.<optimizer>`` and its torch twin from the same parameters for ``steps`` steps.

    ``groups`` is one group's options, or a list of them (the parameters, ``parameter_shapes(optimizer)``, are
    dealt out to the groups in order). Each step both engines get the same random gradients (none for the
    frozen parameter, none for the second one every ``SKIPPED_EVERY``-th step; a ``CLOSURE_STEP`` optimizer
    instead minimizes the oracle's function through a closure); after it every parameter and
    every optimizer state entry is compared, step s held to ``trajectory_rtol(dtype, 1, s)`` (an update is
    elementwise: no reduction), relative to the largest magnitude the quantity has held so far: a buffer is a
    running sum of earlier terms, so its round-off scales with them, and a buffer that cancels to near 0 (an
    exp_avg whose gradients change sign) carries the error of the terms that cancelled. The result keeps, for
    each quantity, its first failing comparison or else its worst one; then each trained parameter must have
    moved as torch's did (``<name>.change``) and the frozen one not at all.
    ``rtol`` replaces every step's tolerance; a comparison within ``atol`` (absolute) passes too.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    ours, theirs = twin_parameters(dtype, rng, parameter_shapes(optimizer))
    start = {name: p.data.copy() for name, p in ours.items()}
    opt = _build_optimizer(optimizer, ours, groups)
    torch_opt = to_torch_optimizer(opt, {id(p): theirs[name] for name, p in ours.items()})
    worst: dict[str, tuple[Comparison, np.ndarray, np.ndarray]] = {}
    peak: dict[str, float] = {}  # the largest magnitude each quantity has held so far
    closure = type(opt).__name__ in CLOSURE_STEP
    for step in range(1, steps + 1):
        if closure:
            _closure_step(ours, theirs, opt, torch_opt, rng)
        else:
            feed_gradients(ours, theirs, rng, step)
            opt.step()
            torch_opt.step()
        tol = trajectory_rtol(ours["weight"].dtype, 1, step) if rtol is None else rtol
        for quantity, actual, expected in optimizer_quantities(ours, theirs, opt, torch_opt):
            expected = to_numpy(expected)
            peak[quantity] = max(peak.get(quantity, 0.0), float(np.max(np.abs(expected), initial=0.0)))
            comparison = within_atol(compare_arrays(quantity, actual, expected, tol, scale=peak[quantity]), atol)
            if _worse(comparison, worst.get(quantity)):  # copies: the arrays change in place at the next step
                worst[quantity] = (comparison, np.array(actual), np.array(expected, copy=True))
    result = ParityResult()
    for quantity, (comparison, actual, expected) in worst.items():
        result.comparisons.append(comparison)
        result.arrays[quantity] = (actual, expected)
    tol = trajectory_rtol(ours["weight"].dtype, 1, steps) if rtol is None else rtol
    for name, p in ours.items():  # trained parameters moved (a no-op optimizer cannot pass), the frozen one did not
        change, torch_change = p.data - start[name], theirs[name].detach().numpy() - start[name]
        result.add(f"{name}.change", change, torch_change, tol, None if name == "frozen" else MIN_GRAD_NORM)
    return allow_atol(result, atol)


def parameter_shapes(optimizer: str | type) -> dict[str, tuple[int, ...]]:
    """The parameters ``optimizer`` (a scratch.optim class or its name) runs on: ``MATRIX_PARAMETER_SHAPES`` for
    a ``MATRIX_ONLY`` one (or a subclass of one), else ``PARAMETER_SHAPES``."""
    names = {optimizer} if isinstance(optimizer, str) else {cls.__name__ for cls in optimizer.__mro__}
    return MATRIX_PARAMETER_SHAPES if names & MATRIX_ONLY else PARAMETER_SHAPES


def twin_parameters(dtype: Any, rng: np.random.Generator, shapes: dict[str, tuple[int, ...]] = PARAMETER_SHAPES
                    ) -> tuple[dict[str, Parameter], dict[str, Any]]:
    """``shapes`` as scratch Parameters of ``dtype`` (the frozen one without requires_grad) and their torch
    twins holding the same values, by name."""
    ours = {name: Parameter(rng.standard_normal(shape).astype(dtype)) for name, shape in shapes.items()}
    ours["frozen"].requires_grad = False
    theirs = {name: torch.nn.Parameter(torch.tensor(p.data), requires_grad=p.requires_grad) for name, p in ours.items()}
    return ours, theirs


def feed_gradients(ours: dict[str, Parameter], theirs: dict[str, Any], rng: np.random.Generator, step: int) -> None:
    """The same random gradients into both sets; none for the frozen parameter, none for the second one (the
    bias) at every ``SKIPPED_EVERY``-th step."""
    second = list(ours)[1]
    for name, p in ours.items():
        skipped = name == "frozen" or (name == second and step % SKIPPED_EVERY == 0)
        p.grad = None if skipped else rng.standard_normal(p.shape).astype(p.dtype)
        theirs[name].grad = None if skipped else torch.tensor(p.grad)


def _closure_step(ours: dict[str, Parameter], theirs: dict[str, Any], opt: Any, torch_opt: Any,
                  rng: np.random.Generator) -> None:
    """One step of a ``CLOSURE_STEP`` optimizer in both engines, on objective.py's function with a new target
    (the frozen parameter is left out: it keeps no gradient)."""
    trained = [name for name in ours if name != "frozen"]
    target = objective.new_target(rng, {name: ours[name] for name in trained}, ours["weight"].dtype)
    opt.step(objective.scratch_closure({name: ours[name] for name in trained}, target))
    torch_opt.step(objective.torch_closure({name: theirs[name] for name in trained}, target))


def _build_optimizer(optimizer: str | type, params: dict[str, Parameter], groups: dict | list[dict]) -> Any:
    cls = getattr(scratch.optim, optimizer) if isinstance(optimizer, str) else optimizer
    if isinstance(groups, dict):
        return cls(list(params.values()), **groups)
    names = list(params)
    split = np.array_split(np.arange(len(names)), len(groups))
    return cls([{"params": [params[names[i]] for i in idx], **options} for idx, options in zip(split, groups)])


def _worse(comparison: Comparison, kept: tuple | None) -> bool:
    """Whether ``comparison`` replaces the one kept for its quantity: none kept yet, its first failure, or,
    while all pass, a larger error for its tolerance."""
    if kept is None:
        return True
    if not kept[0].ok:
        return False
    return not comparison.ok or comparison.max_rel_err / comparison.tol > kept[0].max_rel_err / kept[0].tol


def optimizer_quantities(params: dict, twins: dict, scratch_opt: Any, torch_opt: Any) -> list[tuple]:
    """(quantity, scratch value, torch value) for every parameter and state entry; a missing or
    extra state key is compared against an empty array, so it fails with a shape mismatch."""
    quantities = []
    for key, p in params.items():
        quantities.append((key, p.data, twins[key]))
        ours, theirs = scratch_opt.state.get(p, {}), torch_opt.state.get(twins[key], {})
        for entry in sorted(set(ours) | set(theirs)):
            actual, expected = ours.get(entry, np.empty(0)), theirs.get(entry, np.empty(0))
            if entry == "step":  # torch keeps a float32 tensor, scratch a Python float: compare the counts
                actual, expected = np.float64(actual), np.float64(to_numpy(expected))
            quantities += _state_entry(f"state.{key}.{entry}", actual, expected)
    return quantities


def _state_entry(quantity: str, actual: Any, expected: Any) -> list[tuple]:
    """A state entry; a list (LBFGS's history) as its length, then item by item (for a slot one engine has
    not filled yet, a None, whether both have filled it)."""
    if not isinstance(actual, list) and not isinstance(expected, list):
        return [(quantity, actual, expected)]
    actual, expected = [x if isinstance(x, list) else [] for x in (actual, expected)]
    entries = [(f"{quantity}.len", np.float64(len(actual)), np.float64(len(expected)))]
    for index, (a, b) in enumerate(zip(actual, expected)):
        if a is None or b is None:
            entries.append((f"{quantity}[{index}].filled", np.float64(a is None), np.float64(b is None)))
        else:
            entries.append((f"{quantity}[{index}]", a, b))
    return entries
