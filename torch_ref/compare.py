"""One comparison of a scratch array against torch's, and the side-by-side runs built on it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from scratch import nn

from .convert import TORCH_DTYPES, to_torch
from .tolerance import reduction_length, relative_error, rtol


@dataclass
class Comparison:
    """How one quantity (``"output"``, ``"grad_input"``, ``"weight.grad"``, ...) compares."""

    quantity: str
    max_abs_err: float
    max_rel_err: float
    tol: float
    ok: bool
    problem: str = ""  # a shape/dtype mismatch or a trivial gradient, when there is one

    def describe(self, actual: Any = None, expected: Any = None) -> str:
        text = (f"{self.quantity}: max abs err {self.max_abs_err:.3e}, max rel err {self.max_rel_err:.3e} "
                f"(tol {self.tol:.3e}) {self.problem}")
        if actual is not None:
            text += f"\n  scratch: {np.array2string(np.asarray(actual), threshold=20)}"
            text += f"\n  torch:   {np.array2string(np.asarray(expected), threshold=20)}"
        return text


def to_numpy(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def compare(quantity: str, actual: Any, expected: Any, tol: float, *, min_norm: float | None = None) -> Comparison:
    """Compare shape, dtype and values; with ``min_norm``, torch's value must also be non-trivial."""
    a, b = np.asarray(actual), to_numpy(expected)
    if a.shape != b.shape or a.dtype != b.dtype:
        return Comparison(quantity, np.inf, np.inf, tol, False,
                          f"shape/dtype mismatch: scratch {a.shape} {a.dtype} vs torch {b.shape} {b.dtype}")
    max_abs, max_rel = relative_error(a, b)
    if min_norm is not None and not np.linalg.norm(b.astype(np.float64)) > min_norm:
        return Comparison(quantity, max_abs, max_rel, tol, False,
                          f"trivial: torch's norm {np.linalg.norm(b):.3e} is not above {min_norm:.1e}")
    return Comparison(quantity, max_abs, max_rel, tol, max_rel <= tol)


@dataclass
class ParityResult:
    """Every comparison made for one component, with the arrays behind each for reporting."""

    comparisons: list[Comparison] = field(default_factory=list)
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def add(self, quantity: str, actual: Any, expected: Any, tol: float, min_norm: float | None = None) -> None:
        self.comparisons.append(compare(quantity, actual, expected, tol, min_norm=min_norm))
        self.arrays[quantity] = (np.asarray(actual), to_numpy(expected))

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    def failures(self) -> list[str]:
        return [c.describe(*self.arrays.get(c.quantity, ())) for c in self.comparisons if not c.ok]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "comparisons": [asdict(c) for c in self.comparisons]}


MIN_GRAD_NORM = 1e-6  # a compared gradient must exceed this, so zeros never "match" zeros


def random_like(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random upstream gradient of ``array``'s shape and dtype (never all ones: that hides bugs)."""
    return rng.standard_normal(np.shape(array)).astype(np.asarray(array).dtype)


def leaves(tree: Any) -> list:
    """The arrays of a nested tuple or list, in order; a lone array is its own single leaf."""
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree]


def tree_map(fn: Any, tree: Any) -> Any:
    """``tree`` with ``fn`` applied to every leaf, nested tuples and lists kept (as tuples)."""
    if isinstance(tree, (tuple, list)):
        return tuple(tree_map(fn, item) for item in tree)
    return fn(tree)


def _is_float(x: Any) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def _names(base: str, count: int) -> list[str]:
    return [base] if count == 1 else [f"{base}[{i}]" for i in range(count)]


def module_parity(module: nn.Module, *inputs: Any, rng: np.random.Generator | None = None,
                  grad_output: Any = None, tol: float | None = None) -> ParityResult:
    """Run ``module`` and its torch twin on the same inputs and upstream gradient; compare every
    output, dL/d(every float input), every parameter gradient and, after the pass, every buffer.

    Inputs and outputs may be nested tuples (an RNN's ``(x, h_0)`` and ``(output, h_n)``): a module
    with several outputs gets ``backward(*grads)``, one gradient per output in the same structure,
    and returns one gradient per float input. Several leaves are named ``output[i]``, ``grad_input[i]``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    twin = to_torch(module)
    params = dict(module.named_parameters())
    flat_inputs = leaves(inputs)
    if tol is None:
        arrays = [x for x in flat_inputs if _is_float(x)] + [p.data for p in params.values()]
        tol = rtol(module_dtype(module, flat_inputs), reduction_length(*arrays))
    # torch's leaves are made before scratch runs (an in-place module overwrites its input) and fed as
    # clones, so an in-place twin is not applied to a leaf that requires grad
    torch_leaves = {id(x): torch.tensor(np.array(x), requires_grad=_is_float(x)) for x in flat_inputs}
    torch_inputs = tree_map(lambda x: torch_leaves[id(x)].clone() if _is_float(x) else torch_leaves[id(x)], inputs)
    out = module(*inputs)
    if grad_output is None:
        grad_output = tree_map(lambda o: random_like(o, rng), out)
    grad_input = module.backward(*grad_output) if isinstance(out, tuple) else module.backward(grad_output)
    torch_outs = leaves(twin(*torch_inputs))
    pairs = [(t, torch.from_numpy(np.array(g))) for t, g in zip(torch_outs, leaves(grad_output)) if t.requires_grad]
    torch.autograd.backward([t for t, _ in pairs], [g for _, g in pairs])
    result = ParityResult()
    outs = leaves(out)
    for name, ours, theirs in zip(_names("output", len(outs)), outs, torch_outs, strict=True):
        result.add(name, ours, theirs, tol)
    ours_grads = [g for g in leaves(grad_input) if g is not None]
    theirs_grads = [torch_leaves[id(x)].grad for x in flat_inputs if _is_float(x)]
    if len(ours_grads) != len(theirs_grads):
        result.comparisons.append(Comparison("grad_input", np.inf, np.inf, tol, False, f"backward returned "
                                             f"{len(ours_grads)} gradients for {len(theirs_grads)} float inputs"))
    for name, ours, theirs in zip(_names("grad_input", len(theirs_grads)), ours_grads, theirs_grads):
        result.add(name, ours, theirs, tol, MIN_GRAD_NORM)
    torch_params = dict(twin.named_parameters())
    for name, param in params.items():
        result.add(f"{name}.grad", param.grad, torch_params[name].grad, tol, MIN_GRAD_NORM)
    torch_buffers = dict(twin.named_buffers())
    for name, buffer in module.named_buffers():
        result.add(name, buffer, torch_buffers.get(name, np.empty(0)), tol)
    return result


def loss_parity(criterion: nn.Module, input: np.ndarray | tuple[np.ndarray, ...], target: np.ndarray, *,
                rng: np.random.Generator | None = None, tol: float | None = None) -> ParityResult:
    """Like ``module_parity`` for a loss: the upstream gradient is a random scalar for a reduced
    loss (so the scaling by it is checked too) or a random array for reduction='none'.

    ``input`` may be a tuple of float inputs (CosineEmbeddingLoss's ``input1, input2``): the loss is
    then called as ``criterion(*input, target)``, its ``backward`` returns one gradient per input,
    and each is compared as ``grad_input[i]``.
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
    for i, (ours, theirs) in enumerate(zip(grad_inputs, torch_inputs, strict=True)):
        name = "grad_input" if len(inputs) == 1 else f"grad_input[{i}]"
        result.add(name, ours, theirs.grad, tol, MIN_GRAD_NORM)
    return result


def module_dtype(module: nn.Module, inputs: tuple = ()) -> np.dtype:
    for param in module.parameters():
        return param.dtype
    for x in inputs:
        if np.issubdtype(np.asarray(x).dtype, np.floating):
            return np.asarray(x).dtype
    return np.dtype(np.float32)


__all__ = ["TORCH_DTYPES", "Comparison", "ParityResult", "compare", "loss_parity", "module_parity", "random_like"]
