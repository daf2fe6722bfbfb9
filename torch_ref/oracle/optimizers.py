"""The optimizer oracle: one case (``optimizer_cases.py``) run through scratch's optimizer (and LR schedulers)
and torch's, side by side, and compared.

Kwargs that only pick torch's implementation (``TORCH_ONLY_OPTIONS``: foreach, fused, capturable,
differentiable) go to torch alone, every other kwarg to both; a tensor kwarg (``lr=torch.tensor(0.001)``)
reaches scratch as an ndarray of the tensor's dtype. Both start from the same weight (10, 5), bias (10,) and
0-d scalar (``SHAPES``; an optimizer of matrices only, such as Muon, the weight and a wide (5, 10) matrix,
``MATRIX_SHAPES``) and get the same random gradients for ``STEPS`` steps (the second parameter none at
``NO_GRAD_STEP``); after
every step (and scheduler step) each parameter, state entry and group option is compared
(``trajectory.py``). Where torch itself raises, ``run_optimizer_case`` raises ``TorchSkipError``.

**differentiable=True.** scratch has no autograd: the flag only changes torch's implementation (its update
is written so that autograd can go through it, on non-leaf clones of the parameters, as torch's own tests
give it), and that implementation computes differently from torch's for-loop one, which scratch mirrors:
Adam and AdamW then take their bias corrections from the ``step`` tensor (``beta1 ** step``), and NAdam its
update's coefficients from the ``mu_product`` tensor, each float32 (``_get_scalar_dtype``) even in a float64
run, where the for-loop path computes them in Python floats. So a
differentiable case also runs torch's for-loop optimizer on the same parameters and gradients, and at every
step each quantity of scratch is held to the policy tolerance plus the gap measured there between torch's
two paths (``_gaps``: same measure, same scale). Where torch's paths agree the allowance is 0; it is never
more than torch's disagreement with itself, and a failing comparison names it.
"""

from __future__ import annotations

import copy
import functools
import inspect
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch

from scratch.nn import Parameter
from scratch.optim import lr_scheduler

from ..arrays import to_numpy
from ..component import MATRIX_ONLY
from ..convert import TORCH_ONLY_OPTIONS
from ..report import Comparison, ParityResult
from ..tolerance import MIN_GRAD_NORM
from . import objective
from .optimizer_cases import OptimizerCase, cliquey_inputs, plain_inputs, scratch_optimizer
from .skips import TorchSkipError
from .trajectory import MISSING, Trajectory

STEPS = 20  # torch's goes_right_direction tests take 20 steps; ReduceLROnPlateau needs > 11 to cut the lr
#: an optimizer whose step needs a closure (LBFGS) runs this many steps, each up to max_iter (20) iterations on
#: objective.py's function, beside a torch reference on the function evaluated in another order, whose gap to
#: torch is allowed as a differentiable case's is. With torch's fused add(alpha=) and MKL's dot order scratch's
#: LBFGS equals torch bit for bit in 18 of optim_db's 20 cases; torch's float32 sqrt is not correctly rounded, and
#: in the line search's cubic interpolation that one ulp grows past the policy in one float32 case (a strict
#: xfail with its measurements: gaps.py)
CLOSURE_STEPS = 5
NO_GRAD_STEP = 13  # the second parameter (the bias) gets no gradient at this step
SHAPES: dict[str, tuple[int, ...]] = {"weight": (10, 5), "bias": (10,), "scalar": ()}
#: the parameters of a ``MATRIX_ONLY`` optimizer (Muon): torch's test_optim.py gives Muon its (10, 5) weight
#: alone, and two (10, 5) weights in test_param_group_with_lrscheduler_goes_right_direction; here the second is
#: wide, so that both of Muon's orientations (and learning-rate adjustments) run
MATRIX_SHAPES: dict[str, tuple[int, ...]] = {"weight": (10, 5), "wide": (5, 10)}
SECOND_GROUP_LR = 0.01  # test_param_group_with_lrscheduler_goes_right_direction's second group


@dataclass
class _Side:
    """One engine's optimizer over its parameters (by name), with its schedulers."""

    params: dict[str, Any]
    reordered: bool = False  # a closure case's reference: its function evaluated in another order
    optimizer: Any = None
    schedulers: list = field(default_factory=list)


def run_optimizer_case(case: OptimizerCase) -> ParityResult:
    """Run ``case`` for ``STEPS`` steps in both engines and compare everything after every step. Raises
    ``TorchSkipError`` where torch itself raises; anything scratch raises is a failed comparison.

    torch runs on one thread: its fused CPU kernels take ~15 ms a step on these small tensors with two
    threads (waking the pool), 0.1 ms with one; the updates are elementwise, the same on any thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(case)
    finally:
        torch.set_num_threads(threads)


def _run(case: OptimizerCase) -> ParityResult:
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    shapes = MATRIX_SHAPES if case.optimizer in MATRIX_ONLY else SHAPES
    groups, kwargs = _case_input(case, list(shapes))
    closure = case.info.step_requires_closure
    ours, theirs, reference = _sides(shapes, np.dtype(case.dtype), rng, bool(kwargs.get("differentiable")), closure)
    start = {name: p.data.copy() for name, p in ours.params.items()}
    steps = CLOSURE_STEPS if closure else STEPS
    trajectory = Trajectory(np.dtype(case.dtype), steps)
    _torch_call(lambda: _build_torch(theirs, case, groups, kwargs))
    if reference is not None:
        reference_kwargs = kwargs if closure else {**kwargs, "differentiable": False}
        _torch_call(lambda: _build_torch(reference, case, groups, reference_kwargs))
    if not trajectory.attempt("scratch.__init__", lambda: _build_scratch(ours, theirs, case, groups, kwargs),
                              TorchSkipError):
        return trajectory.result()
    for step in range(steps):
        if not _step(step, rng, ours, [s for s in (theirs, reference) if s is not None], trajectory, closure):
            break
        gaps = _gaps(ours, theirs, reference, trajectory)
        for quantity, mine, torch_value in _quantities(ours, theirs):
            trajectory.add(step, quantity, mine, torch_value, gaps.get(quantity, 0.0))
    result = trajectory.result()
    if not trajectory.failures:
        result.comparisons += [_moved(name, p, theirs.params[name], start[name]) for name, p in ours.params.items()]
    return result


def _gaps(ours: _Side, theirs: _Side, reference: _Side | None, trajectory: Trajectory) -> dict[str, float]:
    """Per quantity, the error of torch's for-loop value against its differentiable one, by the measure that
    judges scratch against the latter (so with scratch equal to the for-loop value, error and gap are equal);
    none without a reference."""
    if reference is None:
        return {}
    forloop = {quantity: value for quantity, _, value in _quantities(ours, reference)}
    return {quantity: trajectory.gap(quantity, forloop.get(quantity, MISSING), value)
            for quantity, _, value in _quantities(ours, theirs)}


def _step(step: int, rng: np.random.Generator, ours: _Side, torch_sides: list[_Side], trajectory: Trajectory,
          closure: bool = False) -> bool:
    """One step (optimizer, then schedulers) in every engine; False if scratch raised. An optimizer whose step
    needs a closure minimizes ``objective.py``'s function (a new target each step), the others get random
    gradients."""
    if closure:
        target = objective.new_target(rng, ours.params, next(iter(ours.params.values())).dtype)
        scratch_step = functools.partial(ours.optimizer.step, objective.scratch_closure(ours.params, target))
        torch_steps = [functools.partial(side.optimizer.step,
                                         objective.torch_closure(side.params, target, side.reordered))
                       for side in torch_sides]
    else:
        _feed_gradients(step, rng, ours, torch_sides)
        scratch_step, torch_steps = ours.optimizer.step, [side.optimizer.step for side in torch_sides]
    if not trajectory.attempt(f"scratch.step (step {step})", scratch_step, TorchSkipError):
        return False
    for torch_step in torch_steps:
        _torch_call(torch_step)
    return trajectory.attempt(f"scratch scheduler.step (step {step})",
                              lambda: _step_schedulers(step, ours, torch_sides), TorchSkipError)


def _moved(name: str, ours: Parameter, theirs: torch.Tensor, start: np.ndarray) -> Comparison:
    """Both engines moved the parameter (so a no-op cannot pass); the values were compared, not the change:
    a cancellation, rounded relative to the parameter."""
    norms = [float(np.linalg.norm((np.asarray(x, np.float64) - start).ravel())) for x in (ours.data, to_numpy(theirs))]
    ok = min(norms) > MIN_GRAD_NORM
    problem = "" if ok else f"did not move: |change| scratch {norms[0]:.2e}, torch {norms[1]:.2e}"
    return Comparison(f"{name}.moved", 0.0 if ok else np.inf, 0.0 if ok else np.inf, 0.0, ok, problem)


def _case_input(case: OptimizerCase, names: list[str]) -> tuple[list[dict] | None, dict[str, Any]]:
    """(param groups by parameter name, or None for all the parameters in one list; the kwargs). The
    param-groups case puts the first of ``names`` in one group, the others in a second with its own lr."""
    if case.schedulers is None:
        if case.input_index is None:
            raise ValueError(f"{case.id}: a plain case needs the index of its input")
        optim_input = cliquey_inputs(case.info, case.dtype)[case.input_index]
    elif case.input_index is not None:
        optim_input = plain_inputs(case.info, case.dtype)[case.input_index]
    else:
        return [{"params": names[:1]}, {"params": names[1:], "lr": SECOND_GROUP_LR}], {}
    if optim_input.params is not None:  # no CPU input of optim_db gives its own parameters (yet)
        raise NotImplementedError(f"{case.id}: OptimizerInput.params {optim_input.params!r}")
    return None, optim_input.kwargs


def _sides(shapes: dict[str, tuple[int, ...]], dtype: np.dtype, rng: np.random.Generator, differentiable: bool,
           closure: bool = False) -> tuple[_Side, _Side, _Side | None]:
    """Twin parameters of ``shapes``: scratch's, torch's (non-leaf clones when its optimizer is differentiable)
    and, for a differentiable case, the for-loop reference's; for a closure case, the reference's on the
    function evaluated in another order."""
    ours = {name: Parameter(rng.standard_normal(shape).astype(dtype)) for name, shape in shapes.items()}
    theirs: dict[str, torch.Tensor] = {name: torch.nn.Parameter(torch.tensor(p.data)) for name, p in ours.items()}
    if not differentiable and not closure:
        return _Side(ours), _Side(theirs), None
    reference = {name: torch.nn.Parameter(torch.tensor(p.data)) for name, p in ours.items()}
    if closure:
        return _Side(ours), _Side(theirs), _Side(reference, reordered=True)
    for name, leaf in theirs.items():
        theirs[name] = leaf.clone()
        theirs[name].retain_grad()
    return _Side(ours), _Side(theirs), _Side(reference)


def _group_list(groups: list[dict] | None, params: dict[str, Any], convert: Callable[[Any], Any]) -> list:
    """The parameters as a list, or as ``groups`` with their options (each ``convert``-ed)."""
    if groups is None:
        return list(params.values())
    return [{**{k: convert(v) for k, v in g.items() if k != "params"}, "params": [params[n] for n in g["params"]]}
            for g in groups]


def _to_scratch(value: Any) -> Any:
    """A kwarg for scratch: a tensor becomes a 0-d (or n-d) ndarray of its dtype, tuples element-wise."""
    if isinstance(value, torch.Tensor):
        return to_numpy(value, copy=True)
    if isinstance(value, tuple):
        return tuple(_to_scratch(v) for v in value)
    return copy.deepcopy(value)


def _build_torch(side: _Side, case: OptimizerCase, groups: list | None, kwargs: dict) -> None:
    """torch's optimizer (kwargs deep-copied: a tensor lr is updated in place) and schedulers."""
    # torch's OptimizerInfo annotates its class object as an Optimizer and leaves scheduler_inputs to inference
    optim_cls = cast("type[torch.optim.Optimizer]", case.info.optim_cls)
    side.optimizer = optim_cls(_group_list(groups, side.params, lambda v: v), **copy.deepcopy(kwargs))
    if case.schedulers is not None:
        makers = cast("list[Callable[[torch.optim.Optimizer], Any]]", case.info.scheduler_inputs[case.schedulers])
        side.schedulers = [make(side.optimizer) for make in makers]


def _build_scratch(ours: _Side, theirs: _Side, case: OptimizerCase, groups: list | None, kwargs: dict) -> None:
    options = {k: _to_scratch(v) for k, v in kwargs.items() if k not in TORCH_ONLY_OPTIONS}
    cls = scratch_optimizer(case.optimizer)
    if cls is None:  # the cases are made for scratch's optimizers only
        raise ValueError(f"{case.id}: scratch.optim has no {case.optimizer}")
    ours.optimizer = cls(_group_list(groups, ours.params, _to_scratch), **options)
    ours.schedulers = [_scratch_scheduler(t, ours.optimizer) for t in theirs.schedulers]


def _scratch_scheduler(theirs: Any, optimizer: Any) -> Any:
    """scratch's scheduler of torch's class, with the arguments read back from torch's instance."""
    cls = getattr(lr_scheduler, type(theirs).__name__)
    kwargs = {}
    for name in list(inspect.signature(cls).parameters)[1:]:
        attr = {"min_lr": "min_lrs"}.get(name, name)  # scratch's argument -> torch's attribute
        if name != "last_epoch" and hasattr(theirs, attr):
            kwargs[name] = copy.deepcopy(getattr(theirs, attr))
    return cls(optimizer, **kwargs)


def _torch_call(fn: Callable[[], Any]) -> Any:
    """``fn()``, torch's side: what it raises makes the case one torch rejects."""
    try:
        return fn()
    except Exception as error:
        raise TorchSkipError(f"torch raised {error!r}") from error


def plateau_metric(step: int) -> float:
    """The metric every ReduceLROnPlateau gets: it improves for 4 steps, then stalls (so the lr is cut)."""
    return 1.0 / (min(step, 3) + 1)


def _step_schedulers(step: int, ours: _Side, torch_sides: list[_Side]) -> None:
    """scratch's schedulers (its errors are scratch's), then torch's (its errors skip the case)."""
    def arguments(scheduler: Any) -> tuple:
        return (plateau_metric(step),) if type(scheduler).__name__ == "ReduceLROnPlateau" else ()

    for scheduler in ours.schedulers:
        scheduler.step(*arguments(scheduler))
    for side in torch_sides:
        for scheduler in side.schedulers:
            _torch_call(functools.partial(scheduler.step, *arguments(scheduler)))


def _feed_gradients(step: int, rng: np.random.Generator, ours: _Side, torch_sides: list[_Side]) -> None:
    """The same random gradient (never a .sum()) into every engine; the second parameter (the bias) gets none
    at NO_GRAD_STEP."""
    second = list(ours.params)[1]
    for name, p in ours.params.items():
        grad = None if name == second and step == NO_GRAD_STEP else rng.standard_normal(p.shape).astype(p.dtype)
        p.grad = grad
        for side in torch_sides:
            side.params[name].grad = None if grad is None else torch.tensor(grad)


def _quantities(ours: _Side, theirs: _Side) -> Iterator[tuple[str, Any, Any]]:
    """(quantity, scratch's value, torch's) for every parameter, state entry and group option."""
    for name, p in ours.params.items():
        t = theirs.params[name]
        yield name, p.data, t
        state, torch_state = ours.optimizer.state.get(p, {}), theirs.optimizer.state.get(t, {})
        for key in sorted(set(state) | set(torch_state)):
            yield from _entries(f"state.{name}.{key}", state.get(key, MISSING), torch_state.get(key, MISSING))
    yield "param_groups.count", len(ours.optimizer.param_groups), len(theirs.optimizer.param_groups)
    for index, (group, torch_group) in enumerate(zip(ours.optimizer.param_groups, theirs.optimizer.param_groups)):
        for key in sorted((set(group) | set(torch_group)) - {"params", *TORCH_ONLY_OPTIONS}):
            yield f"group{index}.{key}", group.get(key, MISSING), torch_group.get(key, MISSING)


def _entries(quantity: str, mine: Any, theirs: Any) -> Iterator[tuple[str, Any, Any]]:
    """A state entry; a list (LBFGS's history) as its length, then element by element."""
    if not isinstance(mine, list) or not isinstance(theirs, list):
        yield quantity, mine, theirs
        return
    yield f"{quantity}.len", len(mine), len(theirs)
    for index, (a, b) in enumerate(zip(mine, theirs)):
        yield f"{quantity}[{index}]", a, b
