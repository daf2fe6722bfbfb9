"""``parity explain EXAMPLE``: every forward and backward value of one sample, scratch beside torch.

The reference values are computed live here with plain torch autograd on seed 001's network, and checked
against the seed's printed numbers (to their printed precision) as well.
"""

import json
import re
import sys

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.cli import main
from torch_ref.cli.explain import explain_rows
from torch_ref.examples import letters
from torch_ref.examples.backprop_exercise import B1, B2, W1_SEED, W2, X_001, Y_001, HalfSquaredError

from .test_seed_examples import SEED_001, assert_printed

BACKPROP_QUANTITIES = ["z(1)", "a(1)", "z(2)", "a(2) = y_hat", "L", "dL/da(2) = dL/dy_hat", "delta(2) = dL/dz(2)",
                       "dL/dW(2)", "dL/db(2)", "dL/da(1)", "delta(1) = dL/dz(1)", "dL/dW(1)", "dL/db(1)"]


def seed_001_by_autograd() -> dict[str, np.ndarray]:
    """Seed 001's forward and backward written out in torch, independently of the CLI and of to_torch."""
    def leaf(values, transpose=False):
        t = torch.tensor(values, dtype=torch.float64)
        return (t.T if transpose else t).clone().requires_grad_(True)

    w1, b1, w2, b2 = leaf(W1_SEED, transpose=True), leaf(B1), leaf(W2), leaf(B2)
    x, y = torch.from_numpy(X_001), torch.from_numpy(Y_001)
    z1 = x @ w1.T + b1
    a1 = torch.sigmoid(z1)
    z2 = a1 @ w2.T + b2
    y_hat = torch.sigmoid(z2)
    loss = 0.5 * ((y_hat - y) ** 2).sum()
    for t in (z1, a1, z2, y_hat):
        t.retain_grad()
    loss.backward()
    values = [z1, a1, z2, y_hat, loss, y_hat.grad, z2.grad, w2.grad, b2.grad, a1.grad, z1.grad, w1.grad, b1.grad]
    return {q: v.detach().numpy() for q, v in zip(BACKPROP_QUANTITIES, values, strict=True)}


def run(capsys, *argv):
    try:
        code = main(["explain", *argv])
    except SystemExit as stop:  # argparse's own errors exit from inside parsing
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def shown(values) -> list[str]:
    return [f"{v:.6g}" for v in np.ravel(values)]


def numbers_after(line: str, word: str) -> list[str]:
    return re.findall(r"-?\d[\d.]*(?:e[-+]\d+)?", line.split(word, 1)[1].split("max abs diff")[0])


def test_backprop_exercise_prints_every_value_beside_torch(capsys):
    code, out, err = run(capsys, "backprop-exercise")
    assert code == 0 and err == ""
    lines = out.splitlines()
    for quantity, value in seed_001_by_autograd().items():
        [index] = [i for i, line in enumerate(lines) if line.strip().startswith(f"{quantity}  ")]
        assert numbers_after(lines[index], "scratch ") == shown(value), quantity
        assert numbers_after(lines[index + 1], "torch ") == shown(value), quantity
        assert "max abs diff" in lines[index + 1]
    assert "ok: scratch and torch agree" in out


def test_backprop_exercise_json_holds_the_seeds_values_in_the_order_computed(capsys):
    code, out, _ = run(capsys, "backprop-exercise", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    assert (report["example"], report["sample"], report["dtype"]) == ("backprop-exercise", 0, "float64")
    np.testing.assert_array_equal(report["x"], X_001)
    rows = report["rows"]
    assert [row["quantity"] for row in rows] == BACKPROP_QUANTITIES
    assert [row["phase"] for row in rows] == ["forward"] * 4 + ["loss"] + ["backward"] * 8
    assert [row["module"] for row in rows] == ["0", "1", "2", "3", "", "3", "2", "2.weight", "2.bias", "1", "0",
                                              "0.weight", "0.bias"]
    expected = seed_001_by_autograd()
    for row in rows:
        assert row["ok"] and row["max_abs_diff"] <= 1e-15, row["quantity"]
        for engine in ("scratch", "torch"):
            np.testing.assert_allclose(row[engine], expected[row["quantity"]], rtol=1e-15, err_msg=row["quantity"])
    by_quantity = {row["quantity"]: row["scratch"] for row in rows}
    for quantity, seed_name in [("a(2) = y_hat", "y_hat"), ("L", "L"), ("dL/dW(2)", "dL/dW(2)"),
                                ("delta(1) = dL/dz(1)", "delta(1)"), ("dL/dW(1)", "dL/dW(1)")]:
        assert_printed(by_quantity[quantity], SEED_001[seed_name])


def test_letters_float32_sample_without_biases(capsys):
    code, out, _ = run(capsys, "letters", "--sample", "2", "--dtype", "float32", "--json")
    report = json.loads(out)
    assert code == 0 and report["dtype"] == "float32" and report["ok"] is True
    np.testing.assert_array_equal(report["x"], [letters.LETTER_C])
    quantities = [row["quantity"] for row in report["rows"]]
    assert "dL/dW(1)" in quantities and not any(q.startswith("dL/db") for q in quantities)


def test_a_wrong_backward_is_flagged_at_its_own_layer():
    class WrongSigmoid(nn.Sigmoid):  # to_torch uses Sigmoid's twin, so torch keeps the true gradient
        def backward(self, grad_output):
            return 1.01 * super().backward(grad_output)

    model = nn.Sequential(nn.Linear(2, 2, dtype=np.float64), WrongSigmoid(), nn.Linear(2, 1, dtype=np.float64),
                          nn.Sigmoid())
    rows = explain_rows(model, HalfSquaredError(), X_001.copy(), Y_001.copy())
    first_wrong = next(row for row in rows if not row.ok)
    assert (first_wrong.quantity, first_wrong.module) == ("delta(1) = dL/dz(1)", "0")
    assert all(row.ok for row in rows if row.phase != "backward" or row.quantity.startswith(("dL/da", "delta(2)",
                                                                                            "dL/dW(2)", "dL/db(2)")))


@pytest.mark.parametrize(("argv", "message"), [
    (["nope"], "unknown example 'nope'"),
    (["digits-cnn"], "digits-cnn's model cannot be explained: child '0' (Conv2d)"),
    (["xor", "--sample", "4"], "--sample 4 is out of range"),
    (["xor", "--sample", "abc"], "argument --sample: invalid int value"),
    (["xor", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_errors_are_one_line_with_exit_status_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"parity explain: {message}") and err.count("\n") == 1


def test_digits_without_scikit_learn_is_a_one_line_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    code, out, err = run(capsys, "digits")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "pip install 'scratch-parity[digits]'" in err
