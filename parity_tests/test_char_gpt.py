"""The ``char-gpt`` example (a character-level GPT trained side by side with AdamW, warm-up + cosine and
clip_grad_norm_) and the rule that lets a training comparison recognise a gradient that is zero in exact
arithmetic (``torch_ref.tolerance.exact_zero_error``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from torch_ref import examples, training
from torch_ref.examples import char_gpt
from torch_ref.tolerance import exact_zero_error, rtol

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _run(dtype, steps):
    example = examples.get("char-gpt")
    x, y, _, _ = example.load_data(np.random.default_rng(0))
    model = example.build_model(np.dtype(dtype), np.random.default_rng(0))
    return training.compare(model, example.criterion(), x, y, optimizer=(example.optimizer, {
        "lr": example.lr, **example.optimizer_options}), steps=steps, batch_size=example.batch_size,
        scheduler=example.scheduler, max_grad_norm=example.max_grad_norm)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_char_gpt_trains_side_by_side_and_its_loss_falls(dtype):
    report = _run(dtype, 12)
    assert report.ok, str(report)
    losses = np.array(report.losses)
    assert losses[0, 0] > 3.5 and losses[-1, 0] < losses[0, 0] - 0.5, losses[:, 0]  # ln(45) = 3.8 at the start
    assert np.abs(losses[:, 0] - losses[:, 1]).max() <= rtol(dtype, 16 * 32 * 45)
    compared = {(r.module, r.quantity) for r in report.comparisons}
    assert {("blocks.0.self_attn", "out_proj.weight"), ("blocks.1.linear1", "weight.grad"), ("blocks.0", "output"),
            ("", "output"), ("tok_emb", "state.weight.exp_avg_sq"), ("loss", "grad_input")} <= compared
    if dtype == np.float64:
        assert report.max_rel_err_per_step[-1] < 1e-12


def test_char_gpt_twin_and_schedule_match_torch():
    model = char_gpt.build_model(np.dtype(np.float64), np.random.default_rng(1))
    twin = torch_ref.to_torch(model)
    x, _, _, _ = char_gpt.load_data(np.random.default_rng(1))
    out = model(x[:3, :20])
    assert out.shape == (3, len(char_gpt.VOCAB), 20)
    np.testing.assert_allclose(out, twin(torch.from_numpy(x[:3, :20])).detach().numpy(), rtol=0, atol=1e-13)
    assert all(p.bias is None for p in (model.head,)) and "in_proj_bias" not in dict(model.named_parameters()) \
        .keys() | {n.rpartition(".")[2] for n, _ in model.named_parameters()}
    from scratch.optim import AdamW, lr_scheduler
    ours = AdamW(model.parameters(), lr=1.0)
    theirs = torch.optim.AdamW(twin.parameters(), lr=1.0)
    schedules = [char_gpt.warmup_cosine(lr_scheduler, ours, 100), char_gpt.warmup_cosine(torch.optim.lr_scheduler,
                                                                                          theirs, 100)]
    lrs = []
    for _ in range(100):
        lrs.append((ours.param_groups[0]["lr"], theirs.param_groups[0]["lr"]))
        ours.step()
        theirs.step()
        for schedule in schedules:
            schedule.step()
    lrs = np.array(lrs)
    np.testing.assert_allclose(lrs[:, 0], lrs[:, 1], rtol=1e-14)
    assert lrs[0, 0] == pytest.approx(0.1) and lrs[20, 0] == pytest.approx(1.0) and lrs[-1, 0] < 1e-2


def test_char_gpt_text_ships_with_python_and_samples_agree():
    assert char_gpt.TEXT.startswith("The Zen of Python, by Tim Peters")
    x, y, _, _ = char_gpt.load_data(np.random.default_rng(0))
    assert x.shape == y.shape == (len(char_gpt.TEXT) - char_gpt.CONTEXT, char_gpt.CONTEXT)
    assert (x[:, 1:] == y[:, :-1]).all()
    model = char_gpt.build_model(np.dtype(np.float64), np.random.default_rng(0))
    text = char_gpt.sample(model, torch_ref.to_torch(model))
    ours, theirs = text.split("--- sample (torch) ---\n")
    assert ours.split("\n", 1)[1].rstrip("\n") == theirs and theirs.startswith(char_gpt.PROMPT)


# ----------------------------------------------------------------- zero in exact arithmetic
def test_exact_zero_rule():
    rng = np.random.default_rng(0)
    terms = 1e-2
    eps = np.finfo(np.float32).eps
    ref = rng.standard_normal(8) * 1e-18  # float64 rounding of terms of 1e-2
    torch_noise = (rng.standard_normal(8) * eps * terms).astype(np.float32)
    scratch_noise = (rng.standard_normal(8) * eps * terms).astype(np.float32)
    error = exact_zero_error(scratch_noise, torch_noise, ref)
    assert error is not None and error <= rtol(np.float32, 8)
    assert exact_zero_error(100 * scratch_noise, torch_noise, ref) > rtol(np.float32, 8)  # scratch far noisier
    value = ref + 1e-6  # the exact value is not 0, and torch's is right: nothing to excuse
    assert exact_zero_error(scratch_noise, (value + torch_noise).astype(np.float32), value) is None
    assert exact_zero_error(scratch_noise.astype(np.float64), torch_noise.astype(np.float64), ref) is None


def _bias_before_batchnorm(dtype):
    rng = np.random.default_rng(4)
    return nn.Sequential(nn.Linear(5, 8, dtype=dtype, rng=rng), nn.BatchNorm1d(8, dtype=dtype), nn.ReLU(),
                         nn.Linear(8, 3, dtype=dtype, rng=rng))


def test_a_bias_before_batchnorm_is_recognised_as_zero_in_exact_arithmetic():
    """Its gradient is rounding noise in both engines in float32: the row passes, with the rule named."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((24, 5)).astype(np.float32), rng.integers(0, 3, 24)
    report = training.compare(_bias_before_batchnorm(np.float32), nn.CrossEntropyLoss(), x, y,
                              optimizer=("SGD", {"lr": 0.1}), steps=3, batch_size=8)
    assert report.ok, str(report)
    rows = [r for r in report.comparisons if (r.module, r.quantity) == ("0", "bias.grad")]
    assert len(rows) == 3 and all(r.ok for r in rows)
    assert any("zero in exact arithmetic" in r.problem for r in rows)
    assert all(r.problem == "" for r in report.comparisons if r.quantity == "weight.grad")


class DoubledBiasGrad(nn.Linear):
    """A Linear whose bias gradient is wrong: the rule must not excuse it."""

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input = super().backward(grad_output)
        self.bias.grad += 1e-3
        return grad_input


torch_ref.register_twin(DoubledBiasGrad, lambda m: torch.nn.Linear(m.in_features, m.out_features))


def test_a_wrong_gradient_where_the_exact_one_is_zero_still_fails():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((24, 5)).astype(np.float32), rng.integers(0, 3, 24)
    model = _bias_before_batchnorm(np.float32)
    buggy = DoubledBiasGrad(5, 8, dtype=np.float32)
    buggy.load_state_dict(model[0].state_dict())
    model[0] = buggy
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, optimizer=("SGD", {"lr": 0.1}), steps=1)
    first = report.first_divergence
    assert (first.module, first.quantity) == ("0", "bias.grad"), str(report)
