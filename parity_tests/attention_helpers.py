"""Parity for modules called with keyword arguments (masks, flags) and returning several outputs, some
possibly None (MultiheadAttention's weights): ``torch_ref.module_parity``'s comparisons, with keywords."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from scratch import nn
from torch_ref.arrays import leaves, random_like
from torch_ref.convert import to_torch
from torch_ref.report import ParityResult
from torch_ref.tolerance import MIN_GRAD_NORM, reduction_length, rtol


def _is_float(x: Any) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _torch_value(x: Any) -> Any:
    return torch.from_numpy(np.array(x)) if isinstance(x, np.ndarray) else x


def _min_norm(expected: torch.Tensor, nonzero: bool) -> float | None:
    """A torch gradient must be non-trivial, unless it is empty or holds NaN (a fully masked row's, as torch),
    or the caller knows it is 0 (``nonzero=False``: an empty batch gives zero weight gradients)."""
    values = expected.detach().numpy()
    return MIN_GRAD_NORM if nonzero and values.size and np.isfinite(values).all() else None


def call_parity(module: nn.Module, *args: Any, rng: np.random.Generator | None = None, tol: float | None = None,
                grad_all_outputs: bool = True, twin: torch.nn.Module | None = None, nonzero: bool = True,
                **kwargs: Any) -> ParityResult:
    """Run ``module(*args, **kwargs)`` and its torch twin (``to_torch(module)`` unless given) on the same
    inputs and random upstream gradients; compare every output, the gradient of every float positional
    input (summed over the positions one array fills, as autograd sums: ``mha(x, x, x)``) and every
    parameter's. Non-array keywords pass as they are; arrays become tensors. ``grad_all_outputs=False``
    sends a gradient into the first output only; ``nonzero=False`` accepts zero gradients (an empty batch)."""
    rng = np.random.default_rng(0) if rng is None else rng
    twin = to_torch(module) if twin is None else twin
    floats = {id(x): x for x in args if _is_float(x)}
    params = dict(module.named_parameters())
    if tol is None:
        dtype = next(iter(params.values())).dtype if params else next(iter(floats.values())).dtype
        tol = rtol(dtype, reduction_length(*floats.values(), *(p.data for p in params.values())))
    torch_leaves = {key: torch.tensor(np.array(x), requires_grad=True) for key, x in floats.items()}
    out = module(*args, **kwargs)
    outs = list(out) if isinstance(out, tuple) else [out]
    grads = [None if o is None or (i and not grad_all_outputs) else random_like(o, rng) for i, o in enumerate(outs)]
    grad_input = module.backward(*grads) if isinstance(out, tuple) else module.backward(grads[0])
    torch_args = [torch_leaves[id(x)] if _is_float(x) else _torch_value(x) for x in args]
    torch_out = twin(*torch_args, **{k: _torch_value(v) for k, v in kwargs.items()})
    torch_outs = list(torch_out) if isinstance(torch_out, tuple) else [torch_out]
    pairs = [(t, torch.from_numpy(np.array(g))) for t, g in zip(torch_outs, grads) if g is not None]
    torch.autograd.backward([t for t, _ in pairs], [g for _, g in pairs])
    result = ParityResult()
    _compare_outputs(result, outs, torch_outs, tol)
    theirs_grads = {key: leaf.grad for key, leaf in torch_leaves.items()}
    _compare_input_grads(result, [x for x in args if _is_float(x)], leaves(grad_input), theirs_grads, tol, nonzero)
    torch_params = dict(twin.named_parameters())
    for name, param in params.items():
        theirs = torch_params[name].grad
        result.add(f"{name}.grad", param.grad, theirs, tol, _min_norm(theirs, nonzero))
    return result


def _compare_outputs(result: ParityResult, outs: list, torch_outs: list, tol: float) -> None:
    """Every output; one that is None (MultiheadAttention's weights with need_weights=False) in both."""
    for i, (ours, theirs) in enumerate(zip(outs, torch_outs, strict=True)):
        name = "output" if len(outs) == 1 else f"output[{i}]"
        if ours is None or theirs is None:
            assert ours is None and theirs is None, f"{name}: scratch {type(ours)}, torch {type(theirs)}"
            continue
        result.add(name, ours, theirs, tol)


def _compare_input_grads(result: ParityResult, float_args: list, ours_grads: list, theirs: dict, tol: float,
                         nonzero: bool) -> None:
    """scratch's gradient per positional input, summed per array (autograd's sum), against torch's leaf's."""
    assert len(ours_grads) == len(float_args), f"backward returned {len(ours_grads)} gradients for {len(float_args)}"
    summed: dict[int, np.ndarray] = {}
    for x, g in zip(float_args, ours_grads):
        summed[id(x)] = g if id(x) not in summed else summed[id(x)] + g
    for i, (key, grad) in enumerate(summed.items()):
        name = "grad_input" if len(summed) == 1 else f"grad_input[{i}]"
        result.add(name, grad, theirs[key], tol, _min_norm(theirs[key], nonzero))


def assert_call_parity(module: nn.Module, *args: Any, seed: int = 0, **kwargs: Any) -> ParityResult:
    result = call_parity(module, *args, rng=np.random.default_rng(seed), **kwargs)
    assert result.comparisons, "nothing was compared"
    assert result.ok, f"{type(module).__name__} differs from torch:\n" + "\n".join(result.failures())
    return result


def normal(dtype: Any, *shape: int, seed: int = 1, scale: float = 1.0) -> np.ndarray:
    """Standard normal data; seed 1 by default, not the upstream gradients' 0 (g = x hides wrong Jacobians)."""
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
