"""The parity suite's shared checks: one helper per kind of check, so each test is one line."""

from __future__ import annotations

import numpy as np
import torch

from scratch import nn, optim
from scratch.gradcheck import GradcheckResult, gradcheck, gradcheck_loss
from scratch.nn import Parameter
from torch_ref import ParityResult, loss_parity, module_parity
from torch_ref.convert import to_torch_optimizer
from torch_ref.report import compare_arrays
from torch_ref.tolerance import trajectory_rtol

DTYPES = [np.float32, np.float64]


def _assert_ok(result: ParityResult, what: str) -> None:
    assert result.comparisons, f"{what}: nothing was compared"
    assert result.ok, f"{what} differs from torch:\n" + "\n".join(result.failures())


def assert_module_parity(module: nn.Module, *inputs: np.ndarray, seed: int = 0) -> ParityResult:
    """Same inputs, same random upstream gradient into ``module`` and its torch twin: output, dL/dinput
    and every parameter gradient must match (shape, dtype, values) and every gradient be non-trivial."""
    result = module_parity(module, *inputs, rng=np.random.default_rng(seed))
    _assert_ok(result, type(module).__name__)
    return result


def assert_loss_parity(criterion: nn.Module, input: np.ndarray, target: np.ndarray, seed: int = 0) -> ParityResult:
    """``assert_module_parity`` for a loss, with a random upstream gradient (scalar or per element)."""
    result = loss_parity(criterion, input, target, rng=np.random.default_rng(seed))
    _assert_ok(result, f"{type(criterion).__name__}(reduction={criterion.reduction!r})")
    return result


# ------------------------------------------------------------ finite differences (torch-free)
MIN_NORM = 1e-6  # every compared gradient must be at least this large, so 0 == 0 never passes
UPSTREAM_SEED = 99  # not the data's seed 0: an upstream g equal to x would make e.g. dW = g^T x = x^T x symmetric


def _assert_checked(result: GradcheckResult, expected: set[str]) -> None:
    result.raise_on_failure()
    assert {check.quantity for check in result.checks} == expected, f"checked {[c.quantity for c in result.checks]}"
    for check in result.checks:
        assert check.norm > MIN_NORM, f"{result.what} {check.quantity}: trivial gradient (norm {check.norm:.2e})"


def assert_gradcheck(module, *inputs, seed=UPSTREAM_SEED):
    """dL/dinput and every parameter gradient match central differences, and none is trivially 0."""
    result = gradcheck(module, *inputs, rng=np.random.default_rng(seed))
    float_input = any(np.issubdtype(np.asarray(x).dtype, np.floating) for x in inputs)  # not Embedding's indices
    expected = ({"input"} if float_input else set()) | {name for name, _ in module.named_parameters()}
    _assert_checked(result, expected)


def assert_gradcheck_loss(criterion, input, target, seed=UPSTREAM_SEED):
    """dL/dinput of a loss, with a random scalar (or per-element) upstream gradient, matches central differences."""
    _assert_checked(gradcheck_loss(criterion, input, target, rng=np.random.default_rng(seed)), {"input"})


# ------------------------------------------------------------------------ optimizers
STEPS = 60
SHAPES = {"weight": (4, 3), "bias": (4,), "scalar": (), "frozen": (2, 2)}


def make_params(seed=0):
    """A 2-D weight, a 1-D bias, a 0-d parameter and a frozen one, in float64, for both engines."""
    rng = np.random.default_rng(seed)
    ours = {name: Parameter(rng.standard_normal(shape)) for name, shape in SHAPES.items()}
    ours["frozen"].requires_grad = False
    theirs = {name: torch.nn.Parameter(torch.tensor(p.data), requires_grad=p.requires_grad) for name, p in ours.items()}
    return ours, theirs


def feed_gradients(ours, theirs, rng, step):
    """Random gradients; every 7th step the bias gets none, and the frozen parameter never does."""
    for name, p in ours.items():
        if name == "frozen" or (name == "bias" and step % 7 == 3):
            p.grad, theirs[name].grad = None, None
            continue
        p.grad = rng.standard_normal(p.shape)
        theirs[name].grad = torch.tensor(p.grad)


def assert_same(quantity, actual, expected, tol, step):
    result = compare_arrays(quantity, actual, expected, tol)
    assert result.ok, f"step {step}: {result.describe(actual, expected)}"


def assert_same_state(ours, theirs, opt, torch_opt, tol, step):
    for name, p in ours.items():
        assert_same(name, p.data, theirs[name], tol, step)
        state, torch_state = opt.state.get(p, {}), torch_opt.state.get(theirs[name], {})
        assert set(state) == set(torch_state), f"step {step}: state keys of {name}: {set(state)} vs {set(torch_state)}"
        for key, value in torch_state.items():
            if key == "step":  # torch keeps a float32 tensor, scratch a float: the same count
                assert state[key] == value.item(), f"step {step}: {name} step {state[key]} vs {value.item()}"
            else:
                assert_same(f"state.{name}.{key}", state[key], value, tol, step)


def check_optimizer_trajectory(name, groups):
    """``groups``: a list of option dicts, one per param group (params dealt out in order)."""
    ours, theirs = make_params()
    start = {key: p.data.copy() for key, p in ours.items()}
    names = list(ours)
    split = np.array_split(np.arange(len(names)), len(groups))
    opt = getattr(optim, name)([{"params": [ours[names[i]] for i in idx], **options}
                                for idx, options in zip(split, groups)])
    torch_opt = to_torch_optimizer(opt, {id(p): theirs[key] for key, p in ours.items()})
    rng = np.random.default_rng(1)
    for step in range(STEPS):
        feed_gradients(ours, theirs, rng, step)
        opt.step()
        torch_opt.step()
        assert_same_state(ours, theirs, opt, torch_opt, trajectory_rtol(np.float64, 1, step + 1), step)
    np.testing.assert_array_equal(ours["frozen"].data, start["frozen"])
    for key in ("weight", "bias", "scalar"):  # the others moved: a no-op optimizer cannot pass
        assert np.linalg.norm(ours[key].data - start[key]) > 1e-3, f"{key} did not move"
