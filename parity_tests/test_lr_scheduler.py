"""Learning-rate schedulers: the lr sequence over many steps equals torch's, chained ones included."""

import numpy as np
import pytest
import torch

from scratch import optim
from scratch.nn import Parameter
from scratch.optim import lr_scheduler

STEPS = 40


def optimizers(lrs=(0.1, 0.02)):
    """A scratch and a torch SGD with one param group per lr."""
    ours = optim.SGD([{"params": [Parameter(np.zeros(1))], "lr": lr} for lr in lrs])
    theirs = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs])
    return ours, theirs


SCHEDULERS = {
    "lambda": ("LambdaLR", {"lr_lambda": lambda epoch: 0.95**epoch + 0.01 * (epoch % 3)}),
    "step": ("StepLR", {"step_size": 7, "gamma": 0.5}),
    "multistep": ("MultiStepLR", {"milestones": [3, 10, 10, 25], "gamma": 0.3}),
    "exponential": ("ExponentialLR", {"gamma": 0.9}),
}


def lr_sequence(optimizer, schedulers):
    sequence = []
    for _ in range(STEPS):
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
        sequence.append(schedulers[-1].get_last_lr())
    return sequence


@pytest.mark.parametrize("case", SCHEDULERS)
def test_lr_sequence_equals_torchs(case):
    name, options = SCHEDULERS[case]
    ours, theirs = optimizers()
    expected = lr_sequence(theirs, [getattr(torch.optim.lr_scheduler, name)(theirs, **options)])
    np.testing.assert_allclose(lr_sequence(ours, [getattr(lr_scheduler, name)(ours, **options)]), expected,
                               rtol=1e-15)
    assert len({tuple(lrs) for lrs in expected}) > 2  # the schedule really changes the lr


def test_chained_schedulers_compose_like_torchs():
    ours, theirs = optimizers()
    expected = lr_sequence(theirs, [torch.optim.lr_scheduler.ExponentialLR(theirs, 0.95),
                                    torch.optim.lr_scheduler.StepLR(theirs, 5, 0.5)])
    actual = lr_sequence(ours, [lr_scheduler.ExponentialLR(ours, 0.95), lr_scheduler.StepLR(ours, 5, 0.5)])
    np.testing.assert_allclose(actual, expected, rtol=1e-15)


@pytest.mark.parametrize("case", ["step", "multistep", "exponential"])
def test_state_dict_round_trip_resumes_the_schedule(case):
    """The usual checkpoint: save both state dicts mid-schedule, load them into fresh objects."""
    name, options = SCHEDULERS[case]
    ours, _ = optimizers()
    scheduler = getattr(lr_scheduler, name)(ours, **options)
    lr_sequence(ours, [scheduler])
    saved_scheduler, saved_optimizer = scheduler.state_dict(), ours.state_dict()
    expected = lr_sequence(ours, [scheduler])
    resumed, _ = optimizers()
    restored = getattr(lr_scheduler, name)(resumed, **options)
    resumed.load_state_dict(saved_optimizer)
    restored.load_state_dict(saved_scheduler)
    assert lr_sequence(resumed, [restored]) == expected
