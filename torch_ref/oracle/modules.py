"""The module oracle: one case (``module_cases.py``) run in scratch and in torch, and compared.

- **Construction.** torch's module is ``cls(*args, **kwargs).to(dtype).train(training)``, as torch's own
  ``test_forward``; scratch's is built from the *same* constructor arguments (``arguments.py``) and
  ``.to(dtype).train(training)``. This tests scratch's constructor (names, defaults, options it refuses),
  where ``from_torch`` would test the twin factory instead. scratch's state_dict must then have torch's keys,
  shapes and dtypes and its buffers torch's initial values; torch's weights are loaded into scratch.
- **Lazy modules** (``LazyConv1d`` ...) have weights only after their first forward: torch's module runs its
  forward pre-hook (``_infer_parameters``) on the case's input ahead of the pass, and scratch's lazy module is
  materialized by loading those weights (as torch's ``_lazy_load_hook``), its layout checked after the load; its
  first call then infers ``in_channels`` from the loaded weight. (Initialization from scratch's own generator
  is tested in parity_tests/test_lazy.py.)
- **Random modules** (torch's ``_DropoutNd`` family) in training mode draw their own masks, so the torch side
  is ``to_torch(scratch_module)`` instead, whose twin applies scratch's last mask, and scratch runs first.
  module_db has no such class in torch 2.13; parity_tests/test_oracle_modules.py exercises the path.
- **The pass.** Both run the same forward arguments (nested ones such as an LSTM's ``(h_0, c_0)``
  flattened); one random upstream gradient per differentiable output leaf (never ``.sum()``) goes into
  scratch's ``backward`` and torch's autograd. Compared: every output leaf, the gradient of every floating
  input (a loss's ``target*`` inputs excepted: scratch's losses give dL/dinput only), every parameter
  gradient, and every buffer after the pass.
- **Tolerance** is ``rtol(dtype, n)`` (torch_ref/tolerance.py) with n the largest element count of any float
  input, output or parameter, a bound on the longest reduction any of these modules performs. A gradient
  torch gives as exactly 0 (a saturated Hardtanh) must be exactly 0 in scratch too; any other gradient must
  be non-trivial (``MIN_GRAD_NORM``). A gradient that is a cancellation of larger terms is judged against
  those terms (``gradient_scale.py``).
- **Skips.** Only where torch itself skips the CPU case (its ModuleInfo's DecorateInfos: ``test_forward``
  skips the case, ``test_grad``, float64 only as in torch, the gradients) or raises on its input
  (``TorchSkipError``). Whatever scratch cannot take is a failing comparison with scratch's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn.modules.lazy import LazyModuleMixin

from ..arrays import named_leaves, named_tree_map, random_like, to_numpy
from ..convert import NUMPY_DTYPES, to_torch
from ..report import Comparison, ParityResult, compare_arrays
from ..tolerance import MIN_GRAD_NORM, rtol
from .arguments import forward_slots, scratch_kwargs, to_scratch_value, torch_copy
from .gradient_scale import Pass, gradient_scale
from .module_cases import SEED, ModuleCase, case_class
from .skips import TorchSkipError


def _failed(result: ParityResult, quantity: str, problem: str, tol: float = 0.0) -> None:
    result.comparisons.append(Comparison(quantity, np.inf, np.inf, tol, False, problem))


def _raised(result: ParityResult, stage: str, exc: BaseException) -> None:
    _failed(result, stage, f"scratch raised {type(exc).__name__}: {exc}")


@dataclass
class _Run:
    """One side-by-side pass: torch's module, forward arguments and input leaves; scratch's module; outputs."""

    case: ModuleCase
    torch_module: torch.nn.Module
    n_args: int
    slots: dict[str, Any]  # torch's forward arguments by name (fresh leaves)
    leaves: dict[str, torch.Tensor]  # the leaves whose gradient is compared, by path
    initial: dict[str, tuple[np.ndarray, np.ndarray]]  # buffer -> (scratch's, torch's) before the pass
    scratch_module: Any = None
    torch_out: Any = None
    scratch_out: Any = None

    def call(self, module: Any, slots: dict[str, Any]) -> Any:
        values, names = list(slots.values()), list(slots)
        return module(*values[: self.n_args], **dict(zip(names[self.n_args:], values[self.n_args:])))

    def run_torch(self) -> None:
        inputs = named_tree_map(lambda p, t: t.clone() if p in self.leaves else t, self.slots)
        try:
            self.torch_out = self.call(self.torch_module, inputs)
        except Exception as exc:
            raise TorchSkipError(f"torch raises on this input: {type(exc).__name__}: {exc}") from exc


def _torch_module(case: ModuleCase, sample: Any) -> torch.nn.Module:
    torch.manual_seed(SEED)
    args, kwargs = torch_copy(sample.constructor_input.args), torch_copy(sample.constructor_input.kwargs)
    try:
        return case.info.module_cls(*args, **kwargs).to(case.dtype).train(case.training)
    except Exception as exc:
        raise TorchSkipError(f"torch raises constructing: {type(exc).__name__}: {exc}") from exc


def _prepare(case: ModuleCase, sample: Any) -> _Run:
    """torch's module and fresh input leaves; the gradient is compared for each floating leaf outside a
    loss's ``target*`` arguments."""
    module = _torch_module(case, sample)
    slots = forward_slots(case.info.module_cls, sample.forward_input.args, sample.forward_input.kwargs)
    if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params():
        # torch's first forward pre-hook, run ahead: the weights exist (and can be loaded into scratch) only then
        module._infer_parameters(module, sample.forward_input.args, sample.forward_input.kwargs)
    leaves: dict[str, torch.Tensor] = {}

    def fresh(path: str, value: Any) -> Any:
        if not isinstance(value, torch.Tensor):
            return value
        leaf = value.detach().clone()
        if leaf.is_floating_point() and "target" not in path.split("[")[0]:
            leaves[path] = leaf.requires_grad_(True)
        return leaf

    torch_slots = named_tree_map(fresh, slots)
    initial = {name: (np.empty(0), to_numpy(b, copy=True)) for name, b in module.named_buffers()}
    return _Run(case, module, len(sample.forward_input.args), torch_slots, leaves, initial)


def _layout_problem(module: Any, torch_module: torch.nn.Module) -> str:
    """'' if scratch's state_dict has torch's keys, shapes and dtypes, else what differs."""
    ours = {k: (v.shape, v.dtype) for k, v in module.state_dict().items()}
    theirs = {k: (tuple(v.shape), to_numpy(v).dtype) for k, v in torch_module.state_dict().items()}
    diff = {k: (ours.get(k), theirs.get(k)) for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k)}
    return f"scratch's layout differs from torch's, key: (scratch, torch): {diff}" if diff else ""


def _build_scratch(run: _Run, sample: Any, result: ParityResult) -> bool:
    """scratch's module from torch's constructor arguments, its layout checked, torch's weights loaded."""
    c = sample.constructor_input
    try:
        module = case_class(run.case.name)(*to_scratch_value(c.args), **scratch_kwargs(c.kwargs))
        module.to(NUMPY_DTYPES[run.case.dtype]).train(run.case.training)
    except Exception as exc:
        _raised(result, "constructor", exc)
        return False
    lazy = bool(getattr(module, "has_uninitialized_params", lambda: False)())
    if not lazy:  # a lazy module has no shapes until torch's weights, loaded, materialize it
        problem = _layout_problem(module, run.torch_module)
        if problem:
            _failed(result, "state_dict", problem)
            return False
    buffers = dict(module.named_buffers())
    run.initial = {name: (np.array(buffers[name]), theirs) for name, (_, theirs) in run.initial.items()}
    try:
        module.load_state_dict(run.torch_module.state_dict())
    except Exception as exc:
        _raised(result, "load_state_dict", exc)
        return False
    if lazy and _layout_problem(module, run.torch_module):
        _failed(result, "state_dict", _layout_problem(module, run.torch_module))
        return False
    run.scratch_module = module
    return True


def _forward(run: _Run, result: ParityResult) -> bool:
    """Both forwards, scratch's first when the torch twin replays scratch's dropout masks."""
    random = run.case.training and any(isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0
                                       for m in run.torch_module.modules())
    scratch_slots = {k: to_scratch_value(v) for k, v in run.slots.items()}
    if not random:
        run.run_torch()
    try:
        run.scratch_out = run.call(run.scratch_module, scratch_slots)
    except Exception as exc:
        _raised(result, "forward", exc)
        return False
    if random:
        run.torch_module = to_torch(run.scratch_module)
        run.run_torch()
    return True


def _tolerance(run: _Run) -> float:
    """rtol(dtype, n), n the largest element count of a float input, output or parameter."""
    tensors = [*run.leaves.values(), *run.torch_module.parameters()]
    tensors += [t for _, t in named_leaves(run.torch_out) if isinstance(t, torch.Tensor)]
    return rtol(NUMPY_DTYPES[run.case.dtype], max([t.numel() for t in tensors if t.is_floating_point()], default=1))


def _add_gradient(result: ParityResult, quantity: str, ours: Any, theirs: Any, tol: float, scale: float) -> None:
    """A gradient, compared (its scale at least ``scale``), and non-trivial where torch's is: its finite part
    (torch's samples can hold NaN, as KLDivLoss's logs of negative numbers) must have a norm above
    MIN_GRAD_NORM, unless torch's is exactly 0 there (a saturated Hardtanh), which scratch's must then equal."""
    if ours is None:
        _failed(result, quantity, "scratch left no gradient", tol)
        return
    theirs = to_numpy(theirs)
    comparison = compare_arrays(quantity, ours, theirs, tol, scale=scale)
    result.comparisons.append(comparison)
    result.arrays[quantity] = (np.asarray(ours), theirs)
    finite = theirs[np.isfinite(theirs)].astype(np.float64)
    if not comparison.ok or theirs.size == 0:
        return
    if not np.any(finite):
        comparison.problem = "(torch's gradient is exactly 0 or non-finite on this input; scratch's equals it)"
    elif not np.linalg.norm(finite) > MIN_GRAD_NORM:
        comparison.ok = False
        comparison.problem = f"trivial: torch's norm {np.linalg.norm(finite):.3e} is not above {MIN_GRAD_NORM:.1e}"


def _scratch_backward(run: _Run, grads: Any, result: ParityResult) -> Any:
    """scratch's gradients of its inputs for the upstream ``grads``; None (a failure recorded) if it raises."""
    try:
        if isinstance(run.scratch_out, tuple):
            return run.scratch_module.backward(*grads)
        return run.scratch_module.backward(grads)
    except Exception as exc:
        _raised(result, "backward", exc)
        return None


def _backward(run: _Run, result: ParityResult, tol: float, rng: np.random.Generator) -> None:
    """One random upstream gradient per differentiable output leaf, into both engines; compare the gradients
    of the inputs and of every parameter."""
    def upstream(_: str, t: Any) -> Any:
        return random_like(to_numpy(t), rng) if isinstance(t, torch.Tensor) and t.requires_grad else None

    grads = named_tree_map(upstream, run.torch_out)
    pairs = [(t, torch.from_numpy(g)) for (_, t), (_, g) in zip(named_leaves(run.torch_out), named_leaves(grads))
             if g is not None]
    if not pairs:
        return
    scratch_grads = _scratch_backward(run, grads, result)
    if scratch_grads is None:
        return
    torch.autograd.backward([t for t, _ in pairs], [g for _, g in pairs])
    scales = gradient_scale(run.case.name, Pass(run.torch_module, run.slots, run.torch_out, grads))
    ours = [g for _, g in named_leaves(scratch_grads) if g is not None]
    if len(ours) != len(run.leaves):
        _failed(result, "grad_input", f"scratch's backward returned {len(ours)} gradients for the "
                f"{len(run.leaves)} float inputs {list(run.leaves)}", tol)
    for (path, leaf), grad in zip(run.leaves.items(), ours):
        _add_gradient(result, f"grad_{path}", grad, leaf.grad, tol, scales.get(path, 0.0))
    scratch_params = dict(run.scratch_module.named_parameters())
    for name, param in run.torch_module.named_parameters():
        theirs = param.grad if param.grad is not None else torch.zeros_like(param)
        _add_gradient(result, f"{name}.grad", scratch_params[name].grad, theirs, tol, 0.0)


def _compare_outputs(run: _Run, result: ParityResult, tol: float) -> bool:
    """Buffers before the pass, then every output leaf; False if the output structures differ."""
    for name, (ours, theirs) in run.initial.items():
        result.add(f"initial {name}", ours, theirs, tol)
    torch_outs, scratch_outs = named_leaves(run.torch_out, "output"), named_leaves(run.scratch_out, "output")
    if [p for p, _ in torch_outs] != [p for p, _ in scratch_outs]:
        _failed(result, "output", f"scratch's output structure {[p for p, _ in scratch_outs]} is not torch's "
                f"{[p for p, _ in torch_outs]}", tol)
        return False
    for (path, theirs), (_, ours) in zip(torch_outs, scratch_outs):
        result.add(path, ours, theirs, tol)
    return True


def run_module_case(case: ModuleCase, *, mirror_torch_skips: bool = True,
                    rng: np.random.Generator | None = None) -> ParityResult:
    """Run one case in both engines and compare (see the module docstring); raises ``TorchSkipError`` where
    torch itself skips the case or raises on its input."""
    why = case.skipped_by_torch("case")
    if why and mirror_torch_skips:
        raise TorchSkipError(why)
    rng = np.random.default_rng(SEED) if rng is None else rng
    sample, result = case.module_input(), ParityResult()
    run = _prepare(case, sample)
    if not (_build_scratch(run, sample, result) and _forward(run, result)):
        return result
    tol = _tolerance(run)
    if not _compare_outputs(run, result, tol):
        return result
    if not (case.skipped_by_torch("gradients") and mirror_torch_skips):
        _backward(run, result, tol, rng)
    scratch_buffers = dict(run.scratch_module.named_buffers())
    for name, buffer in run.torch_module.named_buffers():
        result.add(name, scratch_buffers.get(name, np.empty(0)), buffer, tol)
    return result
