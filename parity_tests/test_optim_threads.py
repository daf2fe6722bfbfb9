"""The intra-op threads (scratch/parallel.py) and the blocked, threaded update of large parameters
(optim.optimizer.run_blocked): torch's set_num_threads / get_num_threads, chunks of whole blocks per thread,
and results bit-identical whatever the thread count, and torch's."""

import inspect
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import scratch
from scratch import optim, parallel
from scratch.nn import Parameter
from scratch.optim import optimizer as optimizer_module
from torch_ref.convert import to_torch_optimizer
from torch_ref.testing import assert_close
from torch_ref.tolerance import trajectory_rtol

#: not a multiple of the block, above parallel.PARALLEL_MIN (so the pool runs): 4 blocks and a piece, an odd
#: 2-D one, and one of a single block and a piece (cut into smaller blocks, one per thread)
SHAPES = [(parallel.PARALLEL_MIN + 3 * optimizer_module.BLOCK + 17,), (611, 1031), (parallel.PARALLEL_MIN + 4097,)]


@pytest.fixture
def threads():
    """Set scratch's thread count for a test and restore it afterwards."""
    previous = scratch.get_num_threads()
    yield scratch.set_num_threads
    scratch.set_num_threads(previous)


def test_the_default_is_the_usable_cores_as_torchs():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    code = "import scratch, torch; print(scratch.get_num_threads(), torch.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) == expected == int(out[1])


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_set_num_threads_rejects_what_torch_rejects(value, threads):
    with pytest.raises(RuntimeError) as ours:
        threads(value)
    if isinstance(value, bool):  # torch takes a bool as an int; scratch does not
        return
    with pytest.raises(RuntimeError) as theirs:
        torch.set_num_threads(value)
    assert str(ours.value) == str(theirs.value)


def test_set_get_round_trip(threads):
    threads(3)
    assert scratch.get_num_threads() == 3
    threads(1)
    assert scratch.get_num_threads() == 1


@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize("size", [parallel.PARALLEL_MIN - 1, parallel.PARALLEL_MIN, 1_000_003])
def test_parallel_for_covers_the_range_once_in_pieces_of_a_grain(size, count, threads):
    threads(count)
    grain, calls, lock = 100_000, [], threading.Lock()
    meet = threading.Barrier(min(count, 2), timeout=10)  # the first two pieces wait for each other

    def work(start, stop):
        if size >= parallel.PARALLEL_MIN and start < 2 * grain and count > 1:
            meet.wait()  # two threads, or the barrier breaks and the test fails
        with lock:
            calls.append((start, stop, threading.get_ident()))

    parallel.parallel_for(work, size, grain)
    bounds = sorted((start, stop) for start, stop, _ in calls)
    if size < parallel.PARALLEL_MIN or count == 1:
        assert bounds == [(0, size)]
        assert calls[0][2] == threading.get_ident()
        return
    assert bounds == [(start, min(start + grain, size)) for start in range(0, size, grain)]
    assert 2 <= len({ident for *_, ident in calls}) <= count


def test_parallel_for_raises_a_pieces_error_after_every_piece_is_done(threads):
    threads(2)
    done = []

    def work(start, stop):
        if start > 0:
            raise ValueError("second piece")
        done.append(stop)

    with pytest.raises(ValueError, match="second piece"):
        parallel.parallel_for(work, 2 * parallel.PARALLEL_MIN, parallel.PARALLEL_MIN)
    assert done == [parallel.PARALLEL_MIN]


def test_the_workers_keep_the_callers_errstate_and_nested_calls_run_serially(threads):
    threads(2)
    seen, lock, meet = [], threading.Lock(), threading.Barrier(2, timeout=10)

    def inner(start, stop):
        with lock:
            seen.append(("inner", threading.get_ident()))

    def work(start, stop):
        with lock:
            seen.append((np.geterr()["over"], threading.get_ident()))
        parallel.parallel_for(inner, parallel.PARALLEL_MIN * 4, 1)
        if start < 2 * parallel.PARALLEL_MIN:
            meet.wait()  # the first two pieces on two threads, or the barrier breaks and the test fails

    with np.errstate(over="raise"):
        parallel.parallel_for(work, parallel.PARALLEL_MIN * 4, parallel.PARALLEL_MIN)
    outer = [entry for entry in seen if entry[0] != "inner"]
    assert [state for state, _ in outer] == ["raise"] * 4
    assert len({ident for _, ident in outer}) == 2  # the workers ran pieces, in the caller's errstate
    inner_threads = [ident for name, ident in seen if name == "inner"]
    assert inner_threads == [ident for _, ident in outer]  # each nested call ran serially, in its own thread


def blocked_optimizers():
    """Every optimizer whose update goes through run_blocked (found in the source, so a new one is tested)."""
    found = []
    for name in optim.__all__:
        cls = getattr(optim, name)
        if isinstance(cls, type) and issubclass(cls, optimizer_module.Optimizer) and any(
                "run_blocked(" in inspect.getsource(sys.modules[base.__module__])
                for base in cls.__mro__ if base.__module__.startswith("scratch.optim.")
                and base is not optimizer_module.Optimizer):
            found.append(name)
    return found


CONFIGS = {
    "SGD": [{"lr": 0.1}, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3},
            {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "maximize": True}],
    "Adam": [{"lr": 0.01}, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}],
    "AdamW": [{"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.01, "amsgrad": True}],
}
CASES = [(name, options) for name, configs in CONFIGS.items() for options in configs]


def test_every_blocked_optimizer_is_tested():
    assert sorted(blocked_optimizers()) == sorted(CONFIGS)


def run_steps(name, options, shape, dtype, steps=3, torch_too=False):
    """``steps`` steps of ``name`` on one parameter of ``shape``; the scratch and torch parameters and states."""
    rng = np.random.default_rng(7)
    param = Parameter(rng.standard_normal(shape).astype(dtype))
    opt = getattr(optim, name)([param], **options)
    twin = torch.nn.Parameter(torch.tensor(param.data)) if torch_too else None
    torch_opt = to_torch_optimizer(opt, {id(param): twin}) if torch_too else None
    for _ in range(steps):
        param.grad = rng.standard_normal(shape).astype(dtype)
        opt.step()
        if torch_too:
            twin.grad = torch.tensor(param.grad)
            torch_opt.step()
    return param, opt.state[param], twin, None if torch_opt is None else torch_opt.state[twin]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(("name", "options"), CASES, ids=str)
def test_results_are_bit_identical_whatever_the_thread_count(name, options, shape, threads):
    dtype = np.float64 if len(shape) == 2 else np.float32
    results = []
    for count in (1, 2, 3):
        threads(count)
        results.append(run_steps(name, options, shape, dtype)[:2])
    (param, state), others = results[0], results[1:]
    for other_param, other_state in others:
        assert np.array_equal(param.data, other_param.data)
        assert state.keys() == other_state.keys()
        for key, value in state.items():
            assert np.array_equal(value, other_state[key]), key


@pytest.mark.parametrize(("name", "options"), CASES, ids=str)
def test_threaded_large_updates_equal_torchs(name, options, threads):
    threads(2)
    steps = 4
    param, state, twin, torch_state = run_steps(name, options, SHAPES[0], np.float32, steps, torch_too=True)
    tol = trajectory_rtol(np.float32, 1, steps)
    assert_close(param.data, twin.detach(), tol, f"{name} param")
    for key, value in state.items():
        if key != "step":
            assert_close(value, torch_state[key], tol, f"{name} {key}")


def test_a_small_update_runs_in_the_calling_thread(threads, monkeypatch):
    threads(2)
    calls = []
    monkeypatch.setattr(parallel, "_get_pool", lambda workers: calls.append(workers))  # fails if reached
    run_steps("Adam", {"lr": 0.01}, (parallel.PARALLEL_MIN - 1,), np.float32)
    run_steps("SGD", {"lr": 0.1, "momentum": 0.9}, (784, 300), np.float32)
    assert calls == []


def test_the_benchmarks_same_threads_sets_scratchs_pool_and_restores_it(threads):
    from torch_ref.bench.runner import same_threads
    threads(3)
    with same_threads(1):
        assert scratch.get_num_threads() == 1 == torch.get_num_threads()
    assert scratch.get_num_threads() == 3


def several_parameters_steps(name, options, steps=3):
    """``steps`` steps of ``name`` on a group of large parameters, a small one, and the first one again
    (torch warns and updates it twice); the parameters' values and every state array, in order."""
    rng = np.random.default_rng(3)
    shapes = [SHAPES[0], (611, 1031), (5, 7), SHAPES[2]]
    params = [Parameter(rng.standard_normal(shape).astype(np.float32)) for shape in shapes]
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt = getattr(optim, name)([*params, params[0]], **options)
    for _ in range(steps):
        for param in params:
            param.grad = rng.standard_normal(param.shape).astype(np.float32)
        opt.step()
    return [p.data for p in params] + [value for p in params for key, value in sorted(opt.state[p].items())]


@pytest.mark.parametrize(("name", "options"), [
    ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True})], ids=str)
def test_a_step_over_several_parameters_is_bit_identical_whatever_the_thread_count(name, options, threads):
    """With threads, a step's large updates run together at its end (optim._blocked.Batch); with one, each
    runs as it comes. Every parameter ends the same, the one listed twice included (its second update,
    decoupled weight decay first, follows its first)."""
    results = []
    for count in (1, 2, 3):
        threads(count)
        results.append(several_parameters_steps(name, options))
    for other in results[1:]:
        assert len(other) == len(results[0])
        for ours, theirs in zip(results[0], other):
            assert np.array_equal(ours, theirs)


def test_a_step_hands_the_blocks_of_all_its_large_parameters_to_the_threads_at_once(threads, monkeypatch):
    from scratch.optim import _blocked
    threads(2)
    handoffs = []
    real = _blocked.parallel_pieces
    monkeypatch.setattr(_blocked, "parallel_pieces", lambda run, pieces: (handoffs.append(pieces), real(run, pieces)))
    rng = np.random.default_rng(5)
    params = [Parameter(rng.standard_normal(size).astype(np.float32)) for size in (parallel.PARALLEL_MIN, 10 ** 6, 99)]
    opt = optim.Adam(params, lr=0.01)
    for param in params:
        param.grad = rng.standard_normal(param.shape).astype(np.float32)
    opt.step()
    opt.step()
    block = optimizer_module.BLOCK
    assert handoffs == [1 + -(-10 ** 6 // block)] * 2  # the small one ran in the calling thread
