"""Learning-rate schedulers: the lr (and cycled momentum) sequence over many steps equals torch's,
compositions included; state dicts resume the schedule, torch's included; bad arguments raise like torch's.

Each case builds the same schedulers in both engines through ``build(module, optimizer)``, where
``module`` is ``scratch.optim.lr_scheduler`` or ``torch.optim.lr_scheduler``. ReduceLROnPlateau alone:
test_lr_scheduler_plateau.py; the shared helpers: lr_scheduler_helpers.py.
"""

import copy
import inspect
import warnings

import numpy as np
import pytest
import torch

from scratch.optim import lr_scheduler
from torch_ref.testing import assert_close
from torch_ref.tolerance import trajectory_rtol

from .lr_scheduler_helpers import ENGINES, STEPS, TOL, assert_same_state, both, make_optimizer, run


def warns_before_optimizer_step(build):
    """``build()``, which must warn "step() before optimizer.step()": torch's SequentialLR steps a ChainedScheduler
    placed first before any optimizer step, and both engines say so."""
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        return build()


def lambda_epoch(epoch):
    return 0.95**epoch + 0.01 * (epoch % 3)


class Warmup:
    """A callable object: its attributes are saved in the scheduler's state dict (a function is not)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, x):
        return min(1.0, (x + 1) / self.epochs) * 0.97**x


CASES = {
    "lambda": ("SGD", lambda m, o: [m.LambdaLR(o, lambda_epoch)]),
    "lambda-callable-object": ("Adam", lambda m, o: [m.LambdaLR(o, [Warmup(10), Warmup(4)])]),
    "lambda-per-group": ("SGD", lambda m, o: [m.LambdaLR(o, [lambda_epoch, lambda e: 1 / (1 + e)])]),
    "multiplicative": ("SGD", lambda m, o: [m.MultiplicativeLR(o, lambda e: 0.97 if e % 4 else 1.05)]),
    "step": ("SGD", lambda m, o: [m.StepLR(o, 7, 0.5)]),
    "step-default-gamma": ("Adam", lambda m, o: [m.StepLR(o, step_size=3)]),
    "multistep": ("SGD", lambda m, o: [m.MultiStepLR(o, [3, 10, 10, 25], gamma=0.3)]),
    "exponential": ("SGD", lambda m, o: [m.ExponentialLR(o, 0.9)]),
    "constant": ("SGD", lambda m, o: [m.ConstantLR(o, factor=0.5, total_iters=8)]),
    "constant-default": ("Adam", lambda m, o: [m.ConstantLR(o)]),
    "linear-warmup": ("SGD", lambda m, o: [m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=20)]),
    "linear-decay": ("SGD", lambda m, o: [m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=45)]),
    "linear-default": ("Adam", lambda m, o: [m.LinearLR(o)]),
    "polynomial": ("SGD", lambda m, o: [m.PolynomialLR(o, total_iters=40, power=2.0)]),
    "polynomial-sqrt": ("SGD", lambda m, o: [m.PolynomialLR(o, total_iters=70, power=0.5)]),
    "polynomial-default": ("Adam", lambda m, o: [m.PolynomialLR(o)]),
    "cosine": ("SGD", lambda m, o: [m.CosineAnnealingLR(o, T_max=25)]),  # past T_max: the lr climbs back
    "cosine-eta-min": ("SGD", lambda m, o: [m.CosineAnnealingLR(o, T_max=10, eta_min=0.001)]),
    "warm-restarts": ("SGD", lambda m, o: [m.CosineAnnealingWarmRestarts(o, T_0=10)]),
    "warm-restarts-mult": ("SGD", lambda m, o: [m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-3)]),
    "cyclic": ("SGD", lambda m, o: [m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7)]),
    "cyclic-adam": ("Adam", lambda m, o: [m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7)]),
    "cyclic-triangular2": ("SGD", lambda m, o: [m.CyclicLR(o, [0.01, 0.002], [0.1, 0.05], step_size_up=5,
                                                           step_size_down=9, mode="triangular2",
                                                           base_momentum=0.7, max_momentum=0.95)]),
    "cyclic-exp-range-adam": ("Adam", lambda m, o: [m.CyclicLR(o, 0.001, 0.1, step_size_up=4, mode="exp_range",
                                                               gamma=0.97, base_momentum=[0.8, 0.85])]),
    "cyclic-scale-fn": ("SGD", lambda m, o: [m.CyclicLR(o, 0.01, 0.1, step_size_up=6, scale_fn=lambda x: 1 / (1 + x),
                                                        scale_mode="iterations")]),
    "cyclic-scale-object": ("SGD", lambda m, o: [m.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=Warmup(3))]),
    "cyclic-no-momentum": ("SGD", lambda m, o: [m.CyclicLR(o, 0.01, 0.1, step_size_up=5, cycle_momentum=False)]),
    "onecycle": ("SGD", lambda m, o: [m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS)]),
    "onecycle-adam": ("Adam", lambda m, o: [m.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=STEPS + 5)]),
    "onecycle-linear-three-phase": ("SGD", lambda m, o: [m.OneCycleLR(
        o, max_lr=[0.5, 0.2], epochs=6, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
        three_phase=True, div_factor=10.0, final_div_factor=100.0)]),
    "onecycle-three-phase-adam": ("Adam", lambda m, o: [m.OneCycleLR(
        o, 0.3, total_steps=STEPS, pct_start=0.4, three_phase=True, base_momentum=[0.8, 0.7], max_momentum=0.9)]),
    "onecycle-no-momentum": ("Adam", lambda m, o: [m.OneCycleLR(o, 0.3, total_steps=STEPS, cycle_momentum=False)]),
    "two-chained": ("SGD", lambda m, o: [m.ExponentialLR(o, 0.95), m.StepLR(o, 5, 0.5)]),
    "two-chained-cosine": ("SGD", lambda m, o: [m.CosineAnnealingLR(o, 20, eta_min=0.005), m.MultiStepLR(o, [15, 40])]),
    "chained-scheduler": ("SGD", lambda m, o: [m.ChainedScheduler([
        m.ConstantLR(o, factor=0.5, total_iters=10), m.ExponentialLR(o, 0.97), m.CosineAnnealingLR(o, T_max=30)])]),
    "chained-scheduler-polynomial": ("Adam", lambda m, o: [m.ChainedScheduler([
        m.LinearLR(o, 0.2, total_iters=12), m.PolynomialLR(o, total_iters=50, power=1.5)], optimizer=o)]),
    "sequential": ("SGD", lambda m, o: [m.SequentialLR(o, [
        m.LinearLR(o, start_factor=0.1, total_iters=10), m.CosineAnnealingLR(o, T_max=30),
        m.ExponentialLR(o, 0.9)], milestones=[10, 40])]),
    "sequential-constant-step": ("Adam", lambda m, o: [m.SequentialLR(o, [
        m.ConstantLR(o, 0.25, total_iters=5), m.StepLR(o, 4, 0.7), m.MultiStepLR(o, [5, 8])], milestones=[7, 30])]),
    "sequential-of-chained": ("SGD", lambda m, o: warns_before_optimizer_step(lambda: [m.SequentialLR(o, [
        m.ChainedScheduler([m.LinearLR(o, 0.3, total_iters=8), m.ExponentialLR(o, 0.98)]),
        m.PolynomialLR(o, total_iters=30, power=2.0)], milestones=[20])])),
}
CYCLED = [case for case in CASES if case.startswith(("cyclic", "onecycle")) and "no-momentum" not in case]


@pytest.mark.parametrize("case", CASES)
def test_lr_sequence_equals_torchs(case):
    (lrs, momentums), (torch_lrs, torch_momentums) = both(*CASES[case])
    assert_close(lrs, torch_lrs, TOL, "lr")
    assert_close(momentums, torch_momentums, TOL, "momentum")
    assert len({tuple(row) for row in torch_lrs}) > 1  # the schedule really changes the lr
    if case in CYCLED:  # and the momentum (SGD) or beta1 (Adam) really cycles
        assert len({tuple(row) for row in torch_momentums}) > 2


@pytest.mark.parametrize("case", CASES)
def test_state_dict_has_torchs_keys_and_values(case):
    kind, build = CASES[case]
    states = []
    for engine in ENGINES:
        optimizer = make_optimizer(engine, kind)
        schedulers = build(ENGINES[engine][1], optimizer)
        run(optimizer, schedulers, steps=23)
        states.append(schedulers[-1].state_dict())
    assert_same_state(*states)


def build_on(engine, case):
    kind, build = CASES[case]
    optimizer = make_optimizer(engine, kind)
    return optimizer, build(ENGINES[engine][1], optimizer)


@pytest.mark.parametrize("case", CASES)
def test_state_dict_round_trip_resumes_the_schedule(case):
    """The usual checkpoint: save both state dicts mid-schedule, load them into fresh objects."""
    optimizer, schedulers = build_on("scratch", case)
    run(optimizer, schedulers, steps=25)
    saved = copy.deepcopy(([s.state_dict() for s in schedulers], optimizer.state_dict()))
    expected = run(optimizer, schedulers, steps=STEPS - 25)
    resumed, restored = build_on("scratch", case)
    resumed.load_state_dict(saved[1])
    for scheduler, state in zip(restored, saved[0]):
        scheduler.load_state_dict(state)
    actual = run(resumed, restored, steps=STEPS - 25)
    np.testing.assert_array_equal(actual[0], expected[0])
    np.testing.assert_array_equal(actual[1], expected[1])


@pytest.mark.parametrize("case", CASES)
def test_torchs_state_dict_loads_and_continues_identically(case):
    """Train in torch, load torch's optimizer and scheduler state dicts into scratch, go on in both."""
    torch_optimizer, torch_schedulers = build_on("torch", case)
    run(torch_optimizer, torch_schedulers, steps=25)
    saved = copy.deepcopy(([s.state_dict() for s in torch_schedulers], torch_optimizer.state_dict()))
    optimizer, schedulers = build_on("scratch", case)
    optimizer.load_state_dict(saved[1])
    for scheduler, state in zip(schedulers, saved[0]):
        scheduler.load_state_dict(state)
    (lrs, momentums), (torch_lrs, torch_momentums) = (run(optimizer, schedulers, STEPS - 25),
                                                      run(torch_optimizer, torch_schedulers, STEPS - 25))
    assert_close(lrs, torch_lrs, TOL, "lr")
    assert_close(momentums, torch_momentums, TOL, "momentum")


RESUME = {
    "step": lambda m, o, last: m.StepLR(o, 7, 0.5, last_epoch=last),
    "linear": lambda m, o, last: m.LinearLR(o, 0.2, total_iters=20, last_epoch=last),
    "polynomial": lambda m, o, last: m.PolynomialLR(o, total_iters=40, power=2.0, last_epoch=last),
    "cosine": lambda m, o, last: m.CosineAnnealingLR(o, T_max=25, eta_min=0.001, last_epoch=last),
    "warm-restarts": lambda m, o, last: m.CosineAnnealingWarmRestarts(o, 5, T_mult=2, last_epoch=last),
    "cyclic": lambda m, o, last: m.CyclicLR(o, 0.01, 0.1, step_size_up=7, last_epoch=last),
    "onecycle": lambda m, o, last: m.OneCycleLR(o, 0.5, total_steps=STEPS, three_phase=True, last_epoch=last),
}


@pytest.mark.parametrize("case", RESUME)
def test_resuming_with_last_epoch_equals_torchs(case):
    """A second scheduler built with ``last_epoch=12`` on the optimizer the first one ran 12 steps on
    (torch's CosineAnnealingLR takes its closed form on that first step)."""
    sequences = []
    for engine in ENGINES:
        optimizer = make_optimizer(engine)
        module = ENGINES[engine][1]
        run(optimizer, [RESUME[case](module, optimizer, -1)], steps=12)
        sequences.append(run(optimizer, [RESUME[case](module, optimizer, 12)], steps=STEPS - 13))
    assert_close(sequences[0][0], sequences[1][0], TOL, "lr")
    assert_close(sequences[0][1], sequences[1][1], TOL, "momentum")
    assert len({tuple(row) for row in sequences[1][0]}) > 2


@pytest.mark.parametrize("name", torch.optim.lr_scheduler.__all__)
def test_signature_equals_torchs(name):
    """Same argument names, order, kinds and defaults (annotations aside)."""
    def parameters(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]
    assert parameters(getattr(lr_scheduler, name)) == parameters(getattr(torch.optim.lr_scheduler, name))


# ------------------------------------------------------------------ step(epoch): the closed forms
EPOCHS = [1, 2, 5, 3, 9, 10, 11, 0, 25, 26, 40, 7, 60, 59, 30, 31, 32]
CLOSED_FORM = {
    "step": lambda m, o: m.StepLR(o, 7, 0.5),
    "multistep": lambda m, o: m.MultiStepLR(o, [3, 10, 10, 25], gamma=0.3),
    "exponential": lambda m, o: m.ExponentialLR(o, 0.9),
    "constant": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=8),
    "linear": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=20),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.0),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=25, eta_min=0.001),
    "lambda": lambda m, o: m.LambdaLR(o, lambda_epoch),  # no closed form: get_lr at that epoch
}


def run_epochs(engine, build, epochs):
    optimizer = make_optimizer(engine)
    scheduler = build(ENGINES[engine][1], optimizer)
    lrs = []
    for epoch in epochs:
        optimizer.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            scheduler.step(epoch)
        lrs.append(scheduler.get_last_lr())
    return np.array(lrs, dtype=np.float64)


@pytest.mark.parametrize("case", CLOSED_FORM)
def test_step_with_an_epoch_uses_torchs_closed_form(case):
    expected = run_epochs("torch", CLOSED_FORM[case], EPOCHS)
    assert_close(run_epochs("scratch", CLOSED_FORM[case], EPOCHS), expected, TOL, "lr")
    assert len({tuple(row) for row in expected}) > 1


def run_fractional(engine, t_mult, iters=7):
    """torch's documented use: ``step(epoch + i / iters)`` within each epoch, then jumps back and forth."""
    optimizer = make_optimizer(engine)
    scheduler = ENGINES[engine][1].CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=t_mult, eta_min=0.002)
    lrs = []
    for epoch in [*range(20), 4, 2.5, 17.25, 0]:
        for i in range(iters):
            optimizer.step()
            scheduler.step(epoch + i / iters)
            lrs.append([*scheduler.get_last_lr(), scheduler.T_cur, scheduler.T_i, scheduler.last_epoch])
    return np.array(lrs, dtype=np.float64)


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_warm_restarts_with_fractional_epochs_equal_torchs(t_mult):
    expected = run_fractional("torch", t_mult)
    assert_close(run_fractional("scratch", t_mult), expected, TOL, "lr, T_cur, T_i, last_epoch")
    assert len(set(expected[:, 0])) > 20


# ------------------------------------------------------------------ warnings and invalid arguments
@pytest.mark.parametrize("engine", ENGINES)
def test_scheduler_step_before_optimizer_step_warns(engine):
    optimizer = make_optimizer(engine)
    scheduler = ENGINES[engine][1].StepLR(optimizer, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        scheduler.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        scheduler.get_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.step()
        scheduler.step()  # the right order: silent


def fresh(optimizer):
    """Another optimizer of the same engine (for the 'different optimizer' checks)."""
    engine = "torch" if isinstance(optimizer, torch.optim.Optimizer) else "scratch"
    return make_optimizer(engine)


def no_momentum(optimizer):
    """An optimizer with neither ``momentum`` nor ``betas`` among its defaults."""
    optim_module, _, param = ENGINES["torch" if isinstance(optimizer, torch.optim.Optimizer) else "scratch"]
    return optim_module.Optimizer([param(np.zeros(1))], {"lr": 0.1})


def overstep(m, o):
    scheduler = m.OneCycleLR(o, 0.1, total_steps=3)
    for _ in range(4):
        o.step()
        scheduler.step()


INVALID = {
    "not-an-optimizer": lambda m, o: m.StepLR("sgd", 3),
    "resume-without-initial-lr": lambda m, o: m.StepLR(o, 3, last_epoch=4),
    "lambda-count": lambda m, o: m.LambdaLR(o, [lambda_epoch]),
    "multiplicative-not-callable": lambda m, o: m.MultiplicativeLR(o, 0.9),
    "constant-factor-above-1": lambda m, o: m.ConstantLR(o, factor=1.5),
    "constant-factor-negative": lambda m, o: m.ConstantLR(o, factor=-0.1),
    "linear-start-0": lambda m, o: m.LinearLR(o, start_factor=0.0),
    "linear-start-above-1": lambda m, o: m.LinearLR(o, start_factor=1.5),
    "linear-end-negative": lambda m, o: m.LinearLR(o, end_factor=-0.5),
    "warm-restarts-T0-0": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
    "warm-restarts-T0-float": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2.5),
    "warm-restarts-Tmult-0": lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, T_mult=0),
    "warm-restarts-Tmult-float": lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, T_mult=1.5),
    "warm-restarts-eta-min-str": lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, eta_min="0"),
    "warm-restarts-negative-epoch": lambda m, o: m.CosineAnnealingWarmRestarts(o, 5).step(-1),
    "onecycle-no-length": lambda m, o: m.OneCycleLR(o, 0.1),
    "onecycle-only-epochs": lambda m, o: m.OneCycleLR(o, 0.1, epochs=3),
    "onecycle-total-0": lambda m, o: m.OneCycleLR(o, 0.1, total_steps=0),
    "onecycle-total-float": lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10.0),
    "onecycle-epochs-0": lambda m, o: m.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=5),
    "onecycle-steps-per-epoch-negative": lambda m, o: m.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-5),
    "onecycle-pct-above-1": lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5),
    "onecycle-pct-int": lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, pct_start=1),
    "onecycle-anneal": lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"),
    "onecycle-max-lr-count": lambda m, o: m.OneCycleLR(o, [0.1, 0.2, 0.3], total_steps=10),
    "onecycle-no-momentum": lambda m, o: m.OneCycleLR(no_momentum(o), 0.1, total_steps=10),
    "onecycle-past-the-end": overstep,
    "cyclic-mode": lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="sawtooth"),
    "cyclic-base-lr-count": lambda m, o: m.CyclicLR(o, [0.01], 0.1),
    "cyclic-scale-object": ("SGD", lambda m, o: [m.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=Warmup(3))]),
    "cyclic-no-momentum": lambda m, o: m.CyclicLR(no_momentum(o), 0.01, 0.1),
    "cyclic-not-an-optimizer": lambda m, o: m.CyclicLR(None, 0.01, 0.1),
    "plateau-factor-1": lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
    "plateau-mode": lambda m, o: m.ReduceLROnPlateau(o, mode="avg"),
    "plateau-threshold-mode": lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="ratio"),
    "plateau-min-lr-count": lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    "plateau-not-an-optimizer": lambda m, o: m.ReduceLROnPlateau([], patience=2),
    "sequential-empty": lambda m, o: m.SequentialLR(o, [], []),
    "sequential-milestones": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], [2, 5]),
    "sequential-other-optimizer": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(fresh(o), 3)], [4]),
    "sequential-plateau": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.ReduceLROnPlateau(o)], [4]),
    "sequential-not-a-scheduler": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), "cosine"], [4]),
    "chained-empty": lambda m, o: m.ChainedScheduler([]),
    "chained-plateau": lambda m, o: m.ChainedScheduler([m.ReduceLROnPlateau(o)]),
    "chained-other-optimizer": lambda m, o: m.ChainedScheduler([m.StepLR(o, 2), m.StepLR(fresh(o), 3)]),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_arguments_raise_like_torch(case):
    with pytest.raises(Exception) as torch_error:  # torch's exception type, whatever it is
        INVALID[case](torch.optim.lr_scheduler, make_optimizer("torch"))
    with pytest.raises(Exception) as error:
        INVALID[case](lr_scheduler, make_optimizer("scratch"))
    assert error.type is torch_error.type, f"scratch raised {error.type.__name__}, torch {torch_error.type.__name__}"
    if "other-optimizer" not in case:  # those messages print the optimizer, whose repr differs
        assert str(error.value) == str(torch_error.value)


# ------------------------------------------------------------------- an array lr (torch's tensor lr)
ARRAY_LR = {
    "StepLR+ReduceLROnPlateau": lambda m, opt: [m.StepLR(opt, 3, gamma=0.7), m.ReduceLROnPlateau(opt, patience=1)],
    "CosineAnnealingWarmRestarts": lambda m, opt: [m.CosineAnnealingWarmRestarts(opt, T_0=5, eta_min=1e-4)],
    "CyclicLR": lambda m, opt: [m.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)],
    "SequentialLR": lambda m, opt: [m.SequentialLR(opt, [m.ConstantLR(opt, factor=0.5, total_iters=2),
                                                         m.ExponentialLR(opt, gamma=0.9)], milestones=[3])],
}


def array_lr_run(engine, build, steps=20):
    """SGD with a float32 0-d lr (an ndarray in scratch, a tensor in torch): the lr after every step."""
    optim_module, sched_module, param = ENGINES[engine]
    lr = np.array(0.05, dtype=np.float32) if engine == "scratch" else torch.tensor(0.05)
    optimizer = optim_module.SGD([param(np.zeros(1))], lr=lr, momentum=0.9)
    schedulers, values = build(sched_module, optimizer), []
    for step in range(steps):
        optimizer.step()
        for scheduler in schedulers:
            is_plateau = type(scheduler).__name__ == "ReduceLROnPlateau"
            scheduler.step(1.0 / (min(step, 3) + 1)) if is_plateau else scheduler.step()
        assert optimizer.param_groups[0]["lr"] is lr, "the lr was replaced, not updated in place"
        last = schedulers[-1].get_last_lr()[0]
        assert last is not lr, "get_last_lr aliases the group's lr"
        values.append(float(lr))
    assert optimizer.param_groups[0]["initial_lr"] is not lr
    return np.array(values)


@pytest.mark.parametrize("case", ARRAY_LR)
def test_an_array_lr_is_updated_in_place_as_torchs_tensor_lr(case):
    """torch fills a tensor lr in place (``_update_param_group_val``), so it keeps its dtype: a float32 lr is
    rounded to float32 at every update. scratch does the same with an ndarray lr."""
    ours, theirs = (array_lr_run(engine, ARRAY_LR[case]) for engine in ENGINES)
    assert_close(ours, theirs, trajectory_rtol(np.float32, 1, len(ours)), "lr")
    assert len(set(ours.tolist())) > 2, "the schedule did not change the lr"
