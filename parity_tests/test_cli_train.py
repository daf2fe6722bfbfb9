"""``parity train EXAMPLE``: exit codes, the JSON fields, the plot, and one-line usage errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from scratch import nn
from scratch.training import accuracy
from torch_ref import cli, examples, register_twin

ROWS, FEATURES, CLASSES = 12, 4, 3


def _build(dtype, rng, hidden: nn.Module | None = None) -> nn.Sequential:
    return nn.Sequential(nn.Linear(FEATURES, 8, dtype=dtype, rng=rng), hidden or nn.Tanh(),
                         nn.Linear(8, CLASSES, dtype=dtype, rng=rng))


def _data(rng):
    x = rng.standard_normal((ROWS + 4, FEATURES))
    y = rng.integers(0, CLASSES, ROWS + 4)
    return x[:ROWS], y[:ROWS], x[ROWS:], y[ROWS:]


class BuggyTanh(nn.Tanh):
    """A planted bug: the gradient is 10% too large."""

    def backward(self, grad_output):
        return super().backward(grad_output) * grad_output.dtype.type(1.1)


register_twin(BuggyTanh, lambda m: torch.nn.Tanh())
TINY = examples.Example(
    name="tiny-test", description="a 4-8-3 classifier on random data", build_model=_build,
    criterion=nn.CrossEntropyLoss, load_data=_data, optimizer="SGD", lr=0.1, epochs=2, batch_size=5,
    accuracy=accuracy, describe=lambda model, x: f"described {len(x)} rows")
BUGGY = examples.Example(
    name="tiny-buggy-test", description="the same with a wrong Tanh backward",
    build_model=lambda dtype, rng: _build(dtype, rng, BuggyTanh()), criterion=nn.CrossEntropyLoss,
    load_data=_data, epochs=1)


@pytest.fixture(autouse=True)
def registered():
    """The two test examples are known to ``parity train`` during each test only."""
    for example in (TINY, BUGGY):
        examples.register(example)
    yield
    for example in (TINY, BUGGY):
        examples.EXAMPLES.pop(example.name)


def _json(capsys, *args: str) -> tuple[int, dict]:
    code = cli.main(["train", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_train_agrees_and_exits_0(capsys, dtype):
    assert cli.main(["train", "tiny-test", "--dtype", dtype]) == 0
    out = capsys.readouterr().out
    assert "loss scratch" in out and "accuracy scratch" in out and "largest divergence" in out
    assert "described 4 rows" in out  # describe runs on the test data


def test_json_fields_and_step_count(capsys):
    code, data = _json(capsys, "tiny-test", "--seed", "3")
    assert code == 0 and data["ok"] is True and data["first_divergence"] is None
    assert data["steps"] == 2 * 3  # epochs x ceil(12 / 5) batches
    assert len(data["losses"]) == len(data["max_rel_err_per_step"]) == 6
    for split in ("train", "test"):
        assert len(data[split]["loss"]) == 2 and len(data[split]["accuracy"]) == 2
    assert data["optimizer"] == "SGD" and data["lr"] == 0.1 and data["batch_size"] == 5
    assert 0 <= data["max_rel_err"] < 1e-3


def test_options_override_the_example(capsys):
    code, data = _json(capsys, "tiny-test", "--optimizer", "Adam", "--lr", "0.01", "--steps", "4",
                       "--batch-size", "12", "--epochs", "9")
    assert code == 0 and data["steps"] == 4 and len(data["losses"]) == 4
    assert (data["optimizer"], data["lr"], data["batch_size"], data["epochs"]) == ("Adam", 0.01, 12, 9)


def test_divergence_exits_1(capsys):
    code, data = _json(capsys, "tiny-buggy-test")
    assert code == 1 and data["ok"] is False
    first = data["first_divergence"]
    assert (first["step"], first["module"], first["quantity"]) == (0, "1", "grad_input")


def test_plot_writes_a_png(tmp_path, capsys):
    path = tmp_path / "curves.png"
    assert cli.main(["train", "tiny-test", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes ``import matplotlib`` raise ImportError
    assert cli.main(["train", "tiny-test", "--plot", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'plot' extra" in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("args", [["--lr", "abc"], ["--batch-size", "0"], ["--lr", "-1"], ["--optimizer", "Nope"],
                                  ["--dtype", "float16"], ["--bogus"], ["--optimizer", "Optimizer"],
                                  ["--plot", "/nonexistent/folder/loss.png"]])
def test_bad_options_exit_2_with_one_line(capsys, args):
    try:
        code = cli.main(["train", "tiny-test", *args])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("parity train:")


def test_unknown_example_exits_2_with_one_line_on_stderr():
    result = subprocess.run([sys.executable, "-m", "torch_ref", "train", "no-such-example"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-such-example" in lines[0] and "Traceback" not in result.stderr
