"""Timings of the vectorized core against torch eager on the CPU, grouped so each case's two
engines sit side by side in pytest-benchmark's table (``pytest benchmarks --benchmark-enable``).
Speed is measured here, never asserted."""

import itertools

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn, optim

LINEAR_SIZES = [(64, 128, 10), (256, 784, 1024)]
MLPS = {"30-5-3@3": ([30, 5, 3], 3), "64-128-10@64": ([64, 128, 10], 64), "784-1024-1024-10@256": (
    [784, 1024, 1024, 10], 256)}


def make_mlp(widths):
    layers = []
    for fan_in, fan_out in itertools.pairwise(widths):
        layers += [nn.Linear(fan_in, fan_out, rng=np.random.default_rng(0)), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def scratch_linear_step(layer, x, g):
    layer(x)
    return layer.backward(g)


def torch_linear_step(layer, x, g):
    x.grad = None
    layer(x).backward(g)
    return x.grad


@pytest.mark.parametrize("engine", ["scratch", "torch"])
@pytest.mark.parametrize(("batch", "fan_in", "fan_out"), LINEAR_SIZES, ids=lambda v: str(v))
def test_linear_forward_backward(benchmark, engine, batch, fan_in, fan_out):
    benchmark.group = f"linear {batch}x{fan_in}->{fan_out}"
    layer = nn.Linear(fan_in, fan_out, rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, fan_in)).astype(np.float32)
    g = rng.standard_normal((batch, fan_out)).astype(np.float32)
    if engine == "scratch":
        out = benchmark(scratch_linear_step, layer, x, g)
    else:
        out = benchmark(torch_linear_step, torch_ref.to_torch(layer), torch.tensor(x, requires_grad=True),
                        torch.from_numpy(g))
    assert out.shape == x.shape


def scratch_train_step(model, criterion, optimizer, x, y):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    model.backward(criterion.backward())
    optimizer.step()
    return loss


def torch_train_step(model, criterion, optimizer, x, y):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize("engine", ["scratch", "torch"])
@pytest.mark.parametrize("case", MLPS)
def test_mlp_training_step_adam(benchmark, engine, case):
    widths, batch = MLPS[case]
    benchmark.group = f"train step MLP {case}"
    model = make_mlp(widths)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((batch, widths[0])).astype(np.float32)
    y = rng.integers(0, widths[-1], batch)
    if engine == "scratch":
        loss = benchmark(scratch_train_step, model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), x, y)
    else:
        twin = torch_ref.to_torch(model)
        loss = benchmark(torch_train_step, twin, torch.nn.CrossEntropyLoss(), torch.optim.Adam(twin.parameters()),
                         torch.from_numpy(x), torch.from_numpy(y))
    assert np.isfinite(float(loss))
