"""scratch.optim.swa_utils against torch.optim.swa_utils: AveragedModel's averages (every averaging function,
buffers averaged or copied, n_averaged, state_dict keys) bit for bit, its twin conversion, forward and backward
through the averaged copy, SWALR's lr sequence, update_bn's running statistics, and bad arguments.

The model (Linear + BatchNorm1d) takes SGD steps in scratch; torch's model is loaded with the same values before
every ``update_parameters``, so both averages see identical inputs and any difference is the averaging's own.
"""

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.optim.swa_utils as torch_swa

from scratch import nn, optim
from scratch.optim import swa_utils
from torch_ref.catalog.data import normal
from torch_ref.convert import from_torch, to_torch
from torch_ref.testing import assert_close
from torch_ref.tolerance import rtol

UPDATES = 7
AVERAGING = {  # name: (scratch's keyword arguments, torch's)
    "swa-default": ({}, {}),
    "swa-avg-fn": ({"avg_fn": swa_utils.get_swa_avg_fn()}, {"avg_fn": torch_swa.get_swa_avg_fn()}),
    "ema-avg-fn": ({"avg_fn": swa_utils.get_ema_avg_fn(0.9)}, {"avg_fn": torch_swa.get_ema_avg_fn(0.9)}),
    "ema-multi": ({"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.7)},
                  {"multi_avg_fn": torch_swa.get_ema_multi_avg_fn(0.7)}),
    "swa-multi": ({"multi_avg_fn": swa_utils.get_swa_multi_avg_fn()},
                  {"multi_avg_fn": torch_swa.get_swa_multi_avg_fn()}),
}


def make_model(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(6, 5, dtype=dtype, rng=rng), nn.BatchNorm1d(5, dtype=dtype))


def sgd_step(model, optimizer, rng, dtype):
    """One SGD step on a random upstream gradient (the BatchNorm's running stats move too)."""
    out = model(normal(rng, dtype, 8, 6))
    model.backward(normal(rng, dtype, *out.shape))
    optimizer.step()
    optimizer.zero_grad()


def load_into_torch(model, torch_model):
    torch_model.load_state_dict(OrderedDict((k, torch.from_numpy(v.copy())) for k, v in model.state_dict().items()))


def assert_identical(ours, theirs, what):
    """Two state dicts: the same keys in the same order, the same dtypes, equal bit for bit."""
    assert list(ours) == list(theirs), what
    for key, value in ours.items():
        expected = theirs[key].detach().numpy()
        assert value.dtype == expected.dtype, f"{what} {key}: dtype {value.dtype} vs torch's {expected.dtype}"
        np.testing.assert_array_equal(value, expected, err_msg=f"{what} {key}", strict=True)


def averaged_pair(case, use_buffers, dtype):
    """The scratch model, its averaged model, and torch's averaged model after UPDATES SGD steps + updates."""
    model, rng = make_model(dtype), np.random.default_rng(1)
    torch_model = to_torch(model)
    ours = swa_utils.AveragedModel(model, use_buffers=use_buffers, **AVERAGING[case][0])
    theirs = torch_swa.AveragedModel(torch_model, use_buffers=use_buffers, **AVERAGING[case][1])
    optimizer = optim.SGD(model.parameters(), lr=0.3, momentum=0.5)
    for _ in range(UPDATES):
        sgd_step(model, optimizer, rng, dtype)
        load_into_torch(model, torch_model)
        ours.update_parameters(model)
        theirs.update_parameters(torch_model)
    return model, ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_buffers", [False, True], ids=["params", "buffers"])
@pytest.mark.parametrize("case", AVERAGING)
def test_averages_equal_torchs_bit_for_bit(case, use_buffers, dtype):
    if case == "swa-multi" and use_buffers:  # torch's addcdiv refuses num_batches_tracked (an integer buffer)
        with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
            averaged_pair(case, use_buffers, dtype)
        return
    model, ours, theirs = averaged_pair(case, use_buffers, dtype)
    state = ours.state_dict()
    assert_identical(state, theirs.state_dict(), case)
    assert list(state)[:2] == ["n_averaged", "module.0.weight"] and int(state["n_averaged"]) == UPDATES
    weight = state["module.0.weight"]
    assert not np.array_equal(weight, model.state_dict()["0.weight"]), "the average is the last model"
    buffers_follow = np.array_equal(state["module.1.running_mean"], model.state_dict()["1.running_mean"])
    assert buffers_follow != use_buffers, "buffers must be copied without use_buffers, averaged with it"


@pytest.mark.parametrize("case", ["swa-default", "ema-multi", "ema-avg-fn"])
def test_the_twin_converts_both_ways_and_averages_on_like_torch(case):
    _, ours, _ = averaged_pair(case, True, np.float64)
    twin = to_torch(ours)
    assert type(twin) is torch_swa.AveragedModel and twin.use_buffers
    assert_identical(ours.state_dict(), twin.state_dict(), "to_torch")
    back = from_torch(twin)
    assert type(back) is swa_utils.AveragedModel
    assert_identical(back.state_dict(), twin.state_dict(), "from_torch")
    model, rng = make_model(np.float64, seed=5), np.random.default_rng(6)
    sgd_step(model, optim.SGD(model.parameters(), lr=0.1), rng, np.float64)
    back.update_parameters(model)
    twin.update_parameters(to_torch(model))
    assert_identical(back.state_dict(), twin.state_dict(), "one more update after the round trip")


def test_a_custom_averaging_function_has_no_twin():
    ours = swa_utils.AveragedModel(make_model(np.float64), avg_fn=lambda a, p, n: (a + p) / 2)
    with pytest.raises(TypeError, match="has no torch twin"):
        to_torch(ours)


def test_forward_and_backward_go_through_the_averaged_copy():
    _, ours, theirs = averaged_pair("swa-default", False, np.float64)
    ours.eval(), theirs.eval()  # running stats: in train mode the BatchNorm cancels the Linear's bias gradient
    rng = np.random.default_rng(2)
    x, g = normal(rng, np.float64, 8, 6), normal(rng, np.float64, 8, 5)
    tx = torch.tensor(x, requires_grad=True)
    expected = theirs(tx)
    out = ours(x)
    assert_close(out, expected.detach(), rtol(np.float64, 6), "output")
    expected.backward(torch.tensor(g))
    grad_input = ours.backward(g)
    assert_close(grad_input, tx.grad, rtol(np.float64, 8), "dL/dx")
    for name, p in ours.named_parameters():
        assert_close(p.grad, theirs.get_parameter(name).grad, rtol(np.float64, 8), f"dL/d{name}")
    assert np.abs(ours.module[0].bias.grad).min() > 1e-3


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4, 10])
def test_swalr_lr_sequence_equals_torchs(strategy, anneal_epochs):
    """Two groups, SWALR after a few epochs of StepLR, as in torch's example: the lr after each step, exactly
    (the same float operations in the same order)."""
    sequences = []
    for engine, param in ((optim, lambda: nn.Parameter(np.zeros(2))),
                          (torch.optim, lambda: torch.nn.Parameter(torch.zeros(2)))):
        opt = engine.SGD([{"params": [param()], "lr": 0.5}, {"params": [param()], "lr": 0.02}], momentum=0.9)
        step_lr = engine.lr_scheduler.StepLR(opt, 2, gamma=0.5)
        swa_module = swa_utils if engine is optim else torch_swa
        lrs = []
        for epoch in range(16):
            opt.step()
            if epoch < 3:
                step_lr.step()
            else:
                if epoch == 3:
                    swalr = swa_module.SWALR(opt, swa_lr=[0.05, 0.1], anneal_epochs=anneal_epochs,
                                             anneal_strategy=strategy)
                swalr.step()
            lrs.append([group["lr"] for group in opt.param_groups])
        sequences.append((lrs, swalr.get_last_lr(), {k: v for k, v in swalr.state_dict().items()
                                                     if k not in ("_last_lr", "base_lrs")}))
    assert sequences[0][0] == sequences[1][0]
    assert sequences[0][1] == sequences[1][1] == [0.05, 0.1]
    assert sequences[0][2] == sequences[1][2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tuples", [False, True], ids=["arrays", "tuples"])
def test_update_bn_recomputes_the_running_stats_like_torch(dtype, tuples):
    model = nn.Sequential(make_model(dtype), nn.ReLU(), nn.BatchNorm1d(5, momentum=0.3, dtype=dtype))
    sgd_step(model, optim.SGD(model.parameters(), lr=0.1), np.random.default_rng(3), dtype)
    model.eval()
    torch_model = to_torch(model)
    rng = np.random.default_rng(4)
    batches = [normal(rng, dtype, n, 6) for n in (8, 5, 11, 3)]
    loader = [(x, np.zeros(len(x))) for x in batches] if tuples else batches
    swa_utils.update_bn(loader, model)
    torch_swa.update_bn([(torch.tensor(x), torch.zeros(len(x))) if tuples else torch.tensor(x) for x in batches],
                        torch_model)
    assert not model.training and [m.momentum for m in model.modules() if isinstance(m, nn.BatchNorm1d)] == [0.1, 0.3]
    theirs = torch_model.state_dict()
    for key, value in model.state_dict().items():
        assert_close(value, theirs[key], rtol(dtype, 11 * len(batches)), key)
    assert int(model.state_dict()["2.num_batches_tracked"]) == len(batches)


def test_update_bn_without_batchnorm_changes_nothing():
    model = nn.Sequential(nn.Linear(3, 2, rng=np.random.default_rng(0)))
    swa_utils.update_bn([np.ones((2, 3), dtype=np.float32)], model.eval())
    assert not model.training


INVALID = {
    "both-avg-fns": lambda m, model: m.AveragedModel(model, avg_fn=m.get_swa_avg_fn(),
                                                     multi_avg_fn=m.get_swa_multi_avg_fn()),
    "ema-decay-high": lambda m, model: m.get_ema_avg_fn(1.5),
    "ema-multi-decay-negative": lambda m, model: m.get_ema_multi_avg_fn(-0.1),
    "swalr-strategy": lambda m, model: m.SWALR(model, swa_lr=0.1, anneal_strategy="exp"),
    "swalr-anneal-epochs": lambda m, model: m.SWALR(model, swa_lr=0.1, anneal_epochs=-1),
    "swalr-anneal-epochs-float": lambda m, model: m.SWALR(model, swa_lr=0.1, anneal_epochs=2.0),
    "swalr-swa-lr-count": lambda m, model: m.SWALR(model, swa_lr=[0.1, 0.2, 0.3]),
}


@pytest.mark.parametrize("case", INVALID)
def test_bad_arguments_raise_like_torch(case):
    """The same exception type and message as torch (SWALR's cases get an optimizer, the others a model)."""
    swalr = case.startswith("swalr")
    model = make_model(np.float64)
    torch_arg = torch.optim.SGD(to_torch(model).parameters(), lr=0.1) if swalr else to_torch(model)
    with pytest.raises(Exception) as torch_error:
        INVALID[case](torch_swa, torch_arg)
    with pytest.raises(Exception) as error:
        INVALID[case](swa_utils, optim.SGD(model.parameters(), lr=0.1) if swalr else model)
    assert error.type is torch_error.type and str(error.value) == str(torch_error.value)


def test_averaged_model_rejects_a_torch_model():
    with pytest.raises(TypeError, match=r"AveragedModel: expected a scratch\.nn\.Module, got Linear"):
        swa_utils.AveragedModel(torch.nn.Linear(2, 2))
