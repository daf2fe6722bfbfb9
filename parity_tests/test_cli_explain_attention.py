"""``parity explain attention``: one self-attention layer's every value, scratch's beside torch's; the step-by-step
torch values are themselves checked against torch's own MultiheadAttention, and a planted softmax-backward bug
is named at dL/dS."""

import json

import numpy as np
import pytest

from scratch.nn.functional import _attention_core as core
from torch_ref.cli import main
from torch_ref.cli.explain_attention import LENGTH, attention_rows
from torch_ref.tolerance import relative_error, rtol

STEPS = ["Q", "K", "V", "S = Q K^T / sqrt(d)", "S_m = S + M", "A = softmax(S_m)", "O = A V", "Y", "L = sum(C * Y)",
         "dL/dY = C", "dL/dW_o", "dL/db_o", "dL/dO", "dL/dA", "dL/dV", "dL/dS", "dL/dQ", "dL/dK", "dL/dX",
         "dL/dW_q", "dL/dW_k", "dL/dW_v", "dL/db_q", "dL/db_k", "dL/db_v"]
LAYER = ["Y", "dL/dX", "dL/din_proj_weight", "dL/din_proj_bias", "dL/dout_proj.weight", "dL/dout_proj.bias"]
VARIANTS = [(heads, masked, dtype) for heads in (1, 2) for masked in (True, False) for dtype in ("float64", "float32")]


def run_json(capsys, *args: str) -> tuple[int, dict]:
    status = main(["explain", "attention", "--json", *args])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("heads,masked,dtype", VARIANTS)
def test_every_value_agrees_with_torch(capsys, heads, masked, dtype):
    status, report = run_json(capsys, "--heads", str(heads), "--dtype", dtype, *([] if masked else ["--no-mask"]))
    rows = report["rows"]
    assert status == 0 and report["ok"]
    assert [r["quantity"] for r in rows] == STEPS + LAYER
    assert all(r["ok"] for r in rows), [r["quantity"] for r in rows if not r["ok"]]
    d_scores = np.array(next(r["scratch"] for r in rows if r["quantity"] == "dL/dS"))
    assert np.linalg.norm(d_scores) > 0.1  # the softmax backward is exercised, not trivially 0


@pytest.mark.parametrize("heads,masked,dtype", VARIANTS)
def test_the_steps_in_torch_ops_are_torchs_own_layer(heads, masked, dtype):
    """The torch column of the steps must be torch's MultiheadAttention, not a second opinion of ours."""
    rows = attention_rows(heads, masked, dtype)
    steps = {r.quantity: np.array(r.torch) for r in rows if r.phase != "layer"}
    layer = {r.quantity: np.array(r.torch) for r in rows if r.phase == "layer"}
    tol = rtol(np.dtype(dtype), 6)
    weight = np.concatenate([steps["dL/dW_q"], steps["dL/dW_k"], steps["dL/dW_v"]])
    for ours, theirs in ((steps["Y"], layer["Y"]), (steps["dL/dX"], layer["dL/dX"]),
                         (weight, layer["dL/din_proj_weight"]), (steps["dL/dW_o"], layer["dL/dout_proj.weight"])):
        assert relative_error(ours, theirs)[1] <= tol


def test_the_causal_mask_shows_in_the_weights_and_their_gradient():
    rows = {r.quantity: np.array(r.scratch) for r in attention_rows(1, True) if r.phase != "layer"}
    above = np.triu(np.ones((LENGTH, LENGTH), dtype=bool), k=1)
    assert np.all(rows["A = softmax(S_m)"][0][above] == 0) and np.all(rows["dL/dS"][0][above] == 0)
    np.testing.assert_allclose(rows["A = softmax(S_m)"][0].sum(axis=-1), 1.0)
    np.testing.assert_allclose(rows["dL/dS"][0].sum(axis=-1), 0.0, atol=1e-15)  # softmax ignores a row shift


def test_a_wrong_softmax_backward_is_named_at_d_scores(capsys, monkeypatch):
    monkeypatch.setattr(core, "softmax_rows_backward", lambda d_weights, weights: weights * d_weights)
    assert main(["explain", "attention"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: scratch and torch differ, first at dL/dS:" in out
    status, report = run_json(capsys)
    bad = [r["quantity"] for r in report["rows"] if not r["ok"]]
    assert status == 1 and bad[0] == "dL/dS" and "dL/dX" in bad  # and the layer's own backward with it
    assert all(r["ok"] for r in report["rows"][:STEPS.index("dL/dS")])


def test_three_heads_is_a_one_line_error(capsys):
    assert main(["explain", "attention", "--heads", "3"]) == 2
    assert capsys.readouterr().err.strip() == "parity explain: --heads must be 1 or 2 (the case's width is 2), got 3"
