"""Localization inside nested models: ``torch_ref.training.compare`` records every module of the tree (containers,
residual blocks, attention, Transformer layers) and names a planted bug at the innermost module that makes it,
not at the children that agree nor at the containers around it."""

from __future__ import annotations

import json
import sys
from unittest import mock

import numpy as np
import torch

from scratch import nn
from torch_ref import module_parity, register_twin, training
from torch_ref.twins import build_torch

E, HEADS, LENGTH = 8, 2, 5


# ------------------------------------------------------------------ planted bugs, each in a user's subclass
def _softmax_backward_without_rowsum(dout, cache, grad_weights=None):
    """The attention core's backward with a wrong softmax gradient: dS = A * dA (the row sum term forgotten)."""
    q_scaled, k, v, weights, _noise, scale = cache
    d_weights = dout @ v.swapaxes(-1, -2)
    dv = weights.swapaxes(-1, -2) @ dout
    d_scores = weights * d_weights
    return (d_scores @ k) * q_scaled.dtype.type(scale), d_scores.swapaxes(-1, -2) @ q_scaled, dv


class WrongSoftmaxBackward(nn.MultiheadAttention):
    """MultiheadAttention whose backward forgets the row sum of the softmax gradient."""

    def backward(self, grad_attn_output, grad_attn_weights=None):
        attention = sys.modules["scratch.nn.functional.attention"]
        with mock.patch.object(attention, "attend_backward", _softmax_backward_without_rowsum):
            return super().backward(grad_attn_output, grad_attn_weights)


class Residual(nn.Module):
    """x + f(x)."""

    def __init__(self, f: nn.Module) -> None:
        super().__init__()
        self.f = f

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x + self.f(x)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output + self.f.backward(grad_output)


class ForgetfulResidual(Residual):
    """A residual block whose backward forgets the skip path."""

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return self.f.backward(grad_output)


class TorchResidual(torch.nn.Module):
    def __init__(self, f: torch.nn.Module) -> None:
        super().__init__()
        self.f = f

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.f(x)


class CausalSelfAttention(nn.MultiheadAttention):
    """Causal self-attention of a (N, L, E) sequence: each position attends to itself and the ones before."""

    shift = 1  # the causal mask is -inf above the diagonal: np.triu(..., k=shift)

    def forward(self, x: np.ndarray) -> np.ndarray:
        mask = np.triu(np.full((x.shape[1], x.shape[1]), -np.inf, dtype=x.dtype), k=self.shift)
        return super().forward(x, x, x, attn_mask=mask, need_weights=False)[0]

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_q, grad_k, grad_v = super().backward(grad_output)
        return grad_q + grad_k + grad_v


class ShiftedMaskAttention(CausalSelfAttention):
    """The causal mask shifted by one: each position also sees the next one."""

    shift = 2


class TorchCausalSelfAttention(torch.nn.MultiheadAttention):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.triu(torch.full((x.shape[1], x.shape[1]), -torch.inf, dtype=x.dtype), diagonal=1)
        return super().forward(x, x, x, attn_mask=mask, need_weights=False)[0]


register_twin(WrongSoftmaxBackward, lambda m: torch.nn.MultiheadAttention(m.embed_dim, m.num_heads,
                                                                          batch_first=m.batch_first))
register_twin(Residual, lambda m: TorchResidual(build_torch(m.f)))
register_twin(CausalSelfAttention, lambda m: TorchCausalSelfAttention(m.embed_dim, m.num_heads, batch_first=True))


# ------------------------------------------------------------------ models and data
def _encoder(attention: type | None = None) -> nn.TransformerEncoder:
    """A 2-layer TransformerEncoder in float64, its layer 1's attention replaced by ``attention`` (same weights)."""
    rng = np.random.default_rng(0)
    layer = nn.TransformerEncoderLayer(E, HEADS, dim_feedforward=16, dropout=0.0, batch_first=True,
                                       dtype=np.float64, rng=rng)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    if attention is not None:
        replacement = attention(E, HEADS, batch_first=True, dtype=np.float64)
        replacement.load_state_dict(model.layers[1].self_attn.state_dict())
        model.layers[1].self_attn = replacement
    return model


def _sequences(rows: int = 6):
    rng = np.random.default_rng(1)
    return rng.standard_normal((rows, LENGTH, E)), rng.standard_normal((rows, LENGTH, E))


def _failing_at(report: training.Report, step: int) -> set[str]:
    """The modules with a failing output or gradient row at ``step`` (the update rows are not localized: the
    states a wrong gradient fed diverge too)."""
    return {r.module for r in report.comparisons if r.step == step and not r.ok
            and (r.quantity.startswith(("output", "grad_input")) or r.quantity.endswith(".grad"))}


# SGD: the key projection's bias gets a gradient that is 0 in exact arithmetic (the softmax ignores a constant
# added to a row), and Adam would scale each engine's rounding noise in it up to a full step
SGD = ("SGD", {"lr": 0.05, "momentum": 0.9})


# ------------------------------------------------------------------ the tests
def test_transformer_encoder_agrees_and_every_module_has_rows():
    model, (x, y) = _encoder(), _sequences()
    report = training.compare(model, nn.MSELoss(), x, y, optimizer=SGD, steps=3, batch_size=3)
    assert report.ok, str(report)
    seen = {(r.step, r.module, r.quantity.partition("[")[0]) for r in report.comparisons}
    compared = ["", "layers.0", "layers.1", "layers.1.self_attn", "layers.1.norm2", "layers.1.linear1", "loss"]
    for step in range(3):
        for name in compared:
            assert {(step, name, "output"), (step, name, "grad_input")} <= seen, name
    # out_proj is no module call in either engine: its gradients are judged at the attention that uses them
    assert {(0, "layers.1.self_attn", "in_proj_weight.grad"), (0, "layers.1.self_attn", "out_proj.weight.grad"),
            (0, "layers.1.self_attn", "grad_input")} <= seen
    assert not any(m.endswith("out_proj") for _, m, q in seen if q.endswith("grad"))
    assert not any(m == "layers" for _, m, _ in seen)  # a ModuleList is never called


def test_wrong_softmax_backward_is_named_at_the_attention_of_layer_1():
    model, (x, y) = _encoder(WrongSoftmaxBackward), _sequences()
    report = training.compare(model, nn.MSELoss(), x, y, optimizer=SGD, steps=2)
    first = report.first_divergence
    assert first is not None and (first.step, first.module) == (0, "layers.1.self_attn"), str(report)
    assert "grad" in first.quantity and first.max_rel_err > 10 * first.tol
    # its forward agrees; neither the layer and encoder around it nor layer 0 below it (fed its wrong gradient)
    # is blamed at step 0, though their raw gradients differ
    assert _failing_at(report, 0) == {"layers.1.self_attn"}, str(report)
    assert any(r.local and r.ok for r in report.comparisons if r.step == 0 and r.module == "layers.0")
    assert all(r.ok for r in report.comparisons if r.step == 0 and r.module in ("", "layers.1", "layers.0"))


def _residual_model(block: type) -> nn.Sequential:
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(5, 8, rng=rng), Residual(nn.Sequential(nn.Linear(8, 8, rng=rng), nn.Tanh())),
                         block(nn.Sequential(nn.Linear(8, 8, rng=rng), nn.Tanh(), nn.Linear(8, 8, rng=rng))),
                         nn.Linear(8, 3, rng=rng)).to(np.float64)


def _classes(rows: int = 12):
    rng = np.random.default_rng(2)
    return rng.standard_normal((rows, 5)), rng.integers(0, 3, rows)


def test_residual_block_that_forgets_the_skip_is_named_not_its_children_nor_parents():
    x, y = _classes()
    assert training.compare(_residual_model(Residual), nn.CrossEntropyLoss(), x, y, steps=3).ok
    report = training.compare(_residual_model(ForgetfulResidual), nn.CrossEntropyLoss(), x, y, steps=3)
    first = report.first_divergence
    assert (first.step, first.module, first.quantity) == (0, "2", "grad_input"), str(report)
    assert _failing_at(report, 0) == {"2"}, str(report)
    assert {r.module for r in report.comparisons if r.step == 0} >= {"", "1", "1.f", "2", "2.f", "2.f.0", "2.f.2"}


def test_shifted_causal_mask_is_named_at_the_attention_output():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, E, dtype=np.float64, rng=rng), ShiftedMaskAttention(E, HEADS, batch_first=True,
                                                                                         dtype=np.float64, rng=rng),
                          nn.Flatten(), nn.Linear(LENGTH * E, 3, dtype=np.float64, rng=rng))
    data = np.random.default_rng(1)
    x, y = data.standard_normal((6, LENGTH, 3)), data.integers(0, 3, 6)
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, optimizer=SGD, steps=2)
    first = report.first_divergence
    assert (first.step, first.module, first.quantity) == (0, "1", "output"), str(report)
    assert not any(not r.ok for r in report.comparisons if r.step == 0 and r.quantity == "output" and r.module != "1")
    model[1] = CausalSelfAttention(E, HEADS, batch_first=True, dtype=np.float64, rng=np.random.default_rng(3))
    report = training.compare(model, nn.CrossEntropyLoss(), x, y, optimizer=SGD, steps=2)
    assert report.ok, str(report)


def test_report_of_a_deep_model_stays_readable():
    model, (x, y) = _encoder(WrongSoftmaxBackward), _sequences()
    report = training.compare(model, nn.MSELoss(), x, y, optimizer=SGD, steps=3)
    text = str(report)
    assert len(report.comparisons) > 300 and len(text.splitlines()) < 30
    assert "first divergence: step 0, module 'layers.1.self_attn'" in text
    assert len(json.loads(report.to_json())["comparisons"]) == len(report.comparisons)


def test_module_parity_names_the_innermost_module_at_fault():
    x = np.random.default_rng(0).standard_normal((4, 5))
    correct = module_parity(_residual_model(Residual), x)
    assert correct.ok, correct.failures()
    inner = {(c.module, c.quantity) for c in correct.comparisons if c.module}
    assert {("1", "output"), ("1.f", "grad_input"), ("2.f.2", "output"), ("3", "grad_input")} <= inner
    forgetful = module_parity(_residual_model(ForgetfulResidual), x)
    assert {c.module for c in forgetful.comparisons if c.module and not c.ok} == {"2"}, forgetful.failures()
    encoder = module_parity(_encoder(WrongSoftmaxBackward), np.random.default_rng(0).standard_normal((3, LENGTH, E)))
    failing = [c for c in encoder.comparisons if c.module and not c.ok]
    assert failing and {(c.module, c.quantity.partition("[")[0]) for c in failing} == {
        ("layers.1.self_attn", "grad_input")}, encoder.failures()
