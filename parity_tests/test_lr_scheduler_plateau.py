"""ReduceLROnPlateau against torch: the lr over a loss with plateaus, in both modes and with every option; state
dicts that interchange with torch's; a float32 0-d lr filled in place bit for bit as torch's tensor lr."""

import copy

import numpy as np
import pytest
import torch

from scratch.optim import lr_scheduler
from torch_ref.testing import assert_close

from .lr_scheduler_helpers import ENGINES, TOL, assert_same_state, both, make_optimizer, run


def plateau_metrics():
    """A loss: improvements, long plateaus, improvements smaller than the rel threshold, and noise.
    Mode max is fed 1 - loss (an accuracy)."""
    rng = np.random.default_rng(3)
    segments = [np.linspace(1.0, 0.6, 8), np.full(9, 0.6), 0.6 * (1 - 1e-5 * np.arange(8)),
                np.linspace(0.59, 0.3, 6), 0.3 + 0.02 * rng.random(14), np.linspace(0.29, 0.2, 5), np.full(10, 0.2)]
    return [float(m) for m in np.concatenate(segments)]


PLATEAU = {
    "min": {"patience": 2},
    "min-cooldown": {"patience": 1, "cooldown": 3, "factor": 0.5},
    "min-abs": {"patience": 2, "threshold": 0.01, "threshold_mode": "abs", "factor": 0.3},
    "min-lr-scalar": {"patience": 0, "factor": 0.5, "min_lr": 0.004},
    "min-lr-list": {"patience": 1, "factor": 0.2, "min_lr": [0.01, 1e-4], "cooldown": 1},
    "eps-blocks-cuts": {"patience": 1, "factor": 0.5, "eps": 0.02},
    "max": {"mode": "max", "patience": 2, "factor": 0.5},
    "max-abs": {"mode": "max", "patience": 1, "threshold": 0.05, "threshold_mode": "abs", "cooldown": 2},
    "max-rel-large-threshold": {"mode": "max", "patience": 0, "threshold": 0.2, "factor": 0.7},
}


@pytest.mark.parametrize("case", PLATEAU)
def test_reduce_on_plateau_equals_torchs(case):
    options = PLATEAU[case]
    metrics = [1 - m if options.get("mode") == "max" else m for m in plateau_metrics()]
    build = lambda m, o: [m.ReduceLROnPlateau(o, **options)]  # noqa: E731
    (lrs, _), (torch_lrs, _) = both("SGD", build, steps=len(metrics), metrics=metrics)
    assert_close(lrs, torch_lrs, TOL, "lr")
    assert len({tuple(row) for row in torch_lrs}) > 2


@pytest.mark.parametrize("case", PLATEAU)
def test_reduce_on_plateau_state_dicts_interchange_with_torchs(case):
    options = PLATEAU[case]
    metrics = [1 - m if options.get("mode") == "max" else m for m in plateau_metrics()]
    states, sequences = [], []
    for engine in ENGINES:
        optimizer = make_optimizer(engine)
        scheduler = ENGINES[engine][1].ReduceLROnPlateau(optimizer, **options)
        run(optimizer, [scheduler], 30, metrics)
        states.append((copy.deepcopy(scheduler.state_dict()), optimizer.state_dict()))
        sequences.append(run(optimizer, [scheduler], 30, metrics[30:]))
    assert_same_state(states[0][0], states[1][0])
    optimizer = make_optimizer("scratch")
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, **options)
    optimizer.load_state_dict(states[1][1])
    scheduler.load_state_dict(states[1][0])  # torch's
    assert_close(run(optimizer, [scheduler], 30, metrics[30:])[0], sequences[1][0], TOL, "lr after loading torch's")
    assert_close(sequences[0][0], sequences[1][0], TOL, "lr")


@pytest.mark.parametrize("case", PLATEAU)
def test_reduce_on_plateau_fills_a_float32_array_lr_bit_for_bit_as_torch(case):
    """ReduceLROnPlateau alone on a 0-d float32 lr: torch's ``_reduce_lr`` computes ``float(lr) * factor`` in
    float64 and ``fill_``s the tensor (a rounding to float32); scratch writes into the same ndarray. The lr is
    the same object after every step and equals torch's bit for bit (no tolerance: one rounding per cut)."""
    options = {k: v for k, v in PLATEAU[case].items() if k != "min_lr" or not isinstance(v, list)}
    metrics = [1 - m if options.get("mode") == "max" else m for m in plateau_metrics()]
    lrs = []
    for engine in ENGINES:
        optim_module, sched_module, param = ENGINES[engine]
        lr = np.array(0.05, dtype=np.float32) if engine == "scratch" else torch.tensor(0.05)
        optimizer = optim_module.SGD([param(np.zeros(1))], lr=lr, momentum=0.9)
        scheduler = sched_module.ReduceLROnPlateau(optimizer, **options)
        values = []
        for metric in metrics:
            optimizer.step()
            scheduler.step(metric)
            assert optimizer.param_groups[0]["lr"] is lr, "the lr was replaced, not filled in place"
            assert scheduler.get_last_lr()[0] is not lr, "get_last_lr aliases the group's lr"
            values.append(np.asarray(lr).copy() if engine == "scratch" else lr.numpy().copy())
        lrs.append(np.array(values))
    assert lrs[0].dtype == lrs[1].dtype == np.float32
    np.testing.assert_array_equal(lrs[0].view(np.uint32), lrs[1].view(np.uint32))
    assert len(set(lrs[1].tolist())) > 1, "the lr was never cut"
