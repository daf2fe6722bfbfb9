"""A group of small parameters is updated as one flat array (scratch/optim/_flat.py): the results must be
bit-identical to updating each parameter on its own, through every way the state can change hands."""

import numpy as np
import pytest

from scratch import nn, optim
from scratch.optim import _flat


def model(dtype=np.float64):
    return nn.Sequential(nn.Linear(5, 4, dtype=dtype, rng=np.random.default_rng(0)), nn.Tanh(),
                         nn.Linear(4, 2, dtype=dtype, rng=np.random.default_rng(1)))


def set_grads(net, step, skip=None):
    rng = np.random.default_rng(100 + step)
    for index, param in enumerate(net.parameters()):
        param.grad = None if index == skip else rng.standard_normal(param.data.shape).astype(param.data.dtype)


def run(flat_limit, monkeypatch, build, dtype, steps=12, reload_at=5, skip_at=9):
    """Adam-family steps with a state_dict round trip, then one parameter left without a gradient (after
    which the group's steps differ and it is updated per parameter). Also says where the flat path ran."""
    monkeypatch.setattr(_flat, "FLAT_LIMIT", flat_limit)
    net = model(dtype)
    opt, flat = watched(build(net.parameters()))
    flat_at = []
    for step in range(steps):
        set_grads(net, step, skip=1 if step == skip_at else None)
        flat.clear()
        opt.step()
        if any(flat):
            flat_at.append(step)
        if step == reload_at:
            saved = opt.state_dict()
            opt, flat = watched(build(net.parameters()))
            opt.load_state_dict(saved)
    return net, opt, flat_at


def watched(opt):
    """``opt``, and a list that records what each of its groups' flat path returned."""
    calls, step_flat = [], opt._step_flat
    opt._step_flat = lambda index, group: calls.append(step_flat(index, group)) or calls[-1]
    return opt, calls


BUILDERS = {
    "Adam": lambda p: optim.Adam(p, lr=0.1),
    "Adam(amsgrad, weight_decay, maximize)": lambda p: optim.Adam(p, lr=0.1, amsgrad=True, weight_decay=0.1,
                                                                  maximize=True),
    "AdamW": lambda p: optim.AdamW(p, lr=0.1, weight_decay=0.3),
    "Adamax(weight_decay, maximize)": lambda p: optim.Adamax(p, lr=0.1, weight_decay=0.1, maximize=True),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", BUILDERS)
def test_flat_updates_equal_per_parameter_updates_bit_for_bit(name, dtype, monkeypatch):
    flat_net, flat_opt, flat_at = run(_flat.FLAT_LIMIT, monkeypatch, BUILDERS[name], dtype)
    assert flat_at == list(range(9)), "the flat path runs before and after the reload, not once steps differ"
    single_net, single_opt, single_flat_at = run(0, monkeypatch, BUILDERS[name], dtype)
    assert not single_flat_at
    for ours, theirs in zip(flat_net.parameters(), single_net.parameters()):
        np.testing.assert_array_equal(ours.data, theirs.data)
    flat_state, single_state = flat_opt.state_dict()["state"], single_opt.state_dict()["state"]
    assert flat_state.keys() == single_state.keys()
    for index, state in flat_state.items():
        assert list(state) == list(single_state[index])  # torch's key order: step first
        for key, value in state.items():
            np.testing.assert_array_equal(value, single_state[index][key])


def test_a_parameter_listed_twice_is_updated_twice_as_in_torch():
    twice, once = model(), model()
    first, second = twice.parameters(), once.parameters()
    a, b = next(first), next(first)
    c, d = next(second), next(second)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt_twice = optim.Adam([a, b, a], lr=0.1)
    opt_per_param = optim.Adam([c, d], lr=0.1)
    rng = np.random.default_rng(5)
    for _ in range(3):
        grads = [rng.standard_normal(p.data.shape) for p in (a, b)]
        for _ in range(2):  # the per-parameter reference: a stepped twice, b once per step
            c.grad, d.grad = grads[0], None
            opt_per_param.step()
        d.grad, c.grad = grads[1], None
        opt_per_param.step()
        a.grad, b.grad = grads
        opt_twice.step()
    np.testing.assert_array_equal(a.data, c.data)
    assert opt_twice.state[a]["step"] == 6.0


def test_two_groups_are_each_updated_flat(monkeypatch):
    net = model()
    params = list(net.parameters())
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.1)
    set_grads(net, 0)
    opt.step()
    assert set(opt._flat_groups) == {0, 1}
    reference = model()
    ref_params = list(reference.parameters())
    monkeypatch.setattr(_flat, "FLAT_LIMIT", 0)
    ref_opt = optim.Adam([{"params": ref_params[:2]}, {"params": ref_params[2:], "lr": 0.5}], lr=0.1)
    set_grads(reference, 0)
    ref_opt.step()
    for ours, theirs in zip(params, ref_params):
        np.testing.assert_array_equal(ours.data, theirs.data)


def test_the_state_arrays_are_views_of_the_flat_buffers_and_stay_float32(monkeypatch):
    net = model(np.float32)
    opt = optim.Adam(net.parameters())
    set_grads(net, 0)
    opt.step()
    flat = opt._flat_groups[0]
    for index, param in enumerate(net.parameters()):
        state = opt.state[param]
        assert state["exp_avg"].base is flat.state["exp_avg"] and state["exp_avg"].dtype == np.float32
        assert state["exp_avg"].shape == param.data.shape and state["step"] == 1.0
        np.testing.assert_array_equal(state["exp_avg"], flat.buffer_views["exp_avg"][index])
