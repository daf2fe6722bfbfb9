"""``parity train EXAMPLE``: exit codes, the JSON fields, the plot, and one-line usage errors; a run that goes
NaN or infinite fails with its own status, in the library's report too; the JSON is strict."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from scratch import nn
from scratch.training import accuracy
from torch_ref import cli, examples, register_twin, training
from torch_ref.cli import BROKEN_PIPE
from torch_ref.cli import train as cli_train
from torch_ref.cli.common import NON_FINITE
from torch_ref.report import Comparison, NonFinite, Report, strict_json

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


# ------------------------------------------------------------------------- robustness: options, NaN, JSON, plot
def _no_work(monkeypatch) -> None:
    """Fail the test if ``parity train`` loads data or trains: the options must be refused before."""
    def refuse(*args, **kwargs):
        raise AssertionError("parity train worked before checking its options")

    monkeypatch.setattr(cli_train, "_load", refuse)
    monkeypatch.setattr(cli_train.training, "compare", refuse)


@pytest.mark.parametrize(("args", "message"), [
    (["--seed", "-1"], "--seed must be a non-negative integer, got -1"),
    (["--steps", "0"], "--steps must be a positive integer, got 0"),
    (["--steps", "-3"], "--steps must be a positive integer, got -3"),
    (["--epochs", "0"], "--epochs must be a positive integer, got 0"),
    (["--batch-size", "-1"], "--batch-size must be a positive integer, got -1"),
    (["--lr", "0"], "--lr must be a finite positive number, got 0.0"),
    (["--lr", "inf"], "--lr must be a finite positive number, got inf"),
    (["--lr=-inf"], "--lr must be a finite positive number, got -inf"),
    (["--lr", "nan"], "--lr must be a finite positive number, got nan"),
    (["--lr", "1e308"], "--lr 1e+308 overflows float32 (largest 3.403e+38), the parameters' dtype, which torch "
                        "converts it to in each update"),
    (["--lr", "1e39", "--dtype", "float64", "--seed", "-2"], "--seed must be a non-negative integer, got -2"),
])
def test_bad_numbers_are_usage_errors_before_any_work(monkeypatch, capsys, args, message):
    """The issue's ``--seed -1`` and ``--lr 1e308`` ended in tracebacks (exit 1)."""
    _no_work(monkeypatch)
    assert cli.main(["train", "tiny-test", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"parity train: {message}\n"


def test_an_lr_that_overflows_the_optimizers_update_is_a_usage_error(capsys):
    """Adam's first step size is lr / (1 - beta1) = 1e39, beyond float32: torch refuses to convert it."""
    assert cli.main(["train", "tiny-test", "--optimizer", "Adam", "--lr", "1e38"]) == 2
    err = capsys.readouterr().err.rsplit("\r", 1)[-1]  # after the progress bar, cleared
    assert err.startswith("parity train: --lr 1e+38 is too large for Adam in float32: ") and err.count("\n") == 1


def test_float64_takes_an_lr_float32_cannot_hold_and_its_overflow_is_non_finite(capsys):
    assert cli.main(["train", "tiny-test", "--dtype", "float64", "--lr", "1e308"]) == NON_FINITE


def _strict(text: str) -> dict:
    """JSON as a strict parser reads it: NaN, Infinity and -Infinity are errors."""
    def refuse(constant: str):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_a_loss_that_overflows_is_a_failed_run_with_its_own_status(capsys):
    """lr 1e38 on float32: the step-0 update makes the logits overflow; both engines agree on inf. Training
    stops at step 1 and exits 3, naming the step and what went non-finite."""
    assert NON_FINITE not in (0, 1, 2, BROKEN_PIPE)
    assert cli.main(["train", "tiny-test", "--lr", "1e38"]) == NON_FINITE
    out = capsys.readouterr().out
    assert "NON-FINITE: step 1, loss: inf in scratch and torch (training stopped there)\n" in out
    assert "ok: the engines agree" not in out and "described" not in out


def test_non_finite_json_is_strict_with_null(capsys):
    assert cli.main(["train", "tiny-test", "--lr", "1e38", "--json"]) == NON_FINITE
    data = _strict(capsys.readouterr().out)
    assert data["ok"] is False and data["verdict"] == "non-finite" and data["first_divergence"] is None
    assert data["non_finite"] == {"step": 1, "engines": ["scratch", "torch"], "quantity": "loss", "values": "inf",
                                  "message": "step 1, loss: inf in scratch and torch"}
    assert len(data["losses"]) == 2 and data["losses"][1] == [None, None]  # inf written as null
    assert data["losses"][0][0] == data["losses"][0][1] > 0 and data["train"]["loss"] == [None, None]


def test_compare_reports_a_nan_run_as_failed():
    """The library API itself: lr inf makes the weights infinite after step 0; the run stops there."""
    rng = np.random.default_rng(0)
    x, y, _, _ = _data(rng)
    report = training.compare(_build(np.float32, rng), nn.CrossEntropyLoss(), x.astype(np.float32), y,
                              optimizer=("SGD", {"lr": math.inf}), steps=5)
    assert report.first_divergence is None  # the engines agree, on NaN
    assert report.ok is False and report.verdict == "non-finite" and len(report.losses) == 1
    assert (report.non_finite.step, report.non_finite.quantity) == (0, "parameter '0.weight' after the update")
    assert (report.non_finite.engines, report.non_finite.values) == (["scratch", "torch"], "inf")
    assert "NON-FINITE" in str(report).splitlines()[0]
    assert _strict(report.to_json())["verdict"] == "non-finite"


def test_a_divergence_at_or_before_the_non_finite_step_is_the_verdict():
    """One engine alone going NaN fails that step's comparisons too: a divergence (exit 1), not status 3."""
    failing = Comparison("output", math.inf, math.inf, 1e-6, False, module="0", step=1)
    bad = NonFinite(step=1, engines=["scratch"], quantity="loss", values="nan")
    assert Report(comparisons=[failing], non_finite=bad).verdict == "diverged"
    assert Report(comparisons=[Comparison("output", 0.0, 0.0, 1e-6, True)], non_finite=bad).verdict == "non-finite"
    assert Report().verdict == "ok"


def test_strict_json_writes_non_finite_floats_as_null():
    data = {"a": [math.nan, 1.5, (math.inf, -math.inf)], "b": {"c": math.nan}, "d": 2}
    assert _strict(strict_json(data)) == {"a": [None, 1.5, [None, None]], "b": {"c": None}, "d": 2}


def test_the_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and "exit status:" in out
    assert f"  {NON_FINITE}  a loss, parameter or buffer went NaN or infinite" in out
    assert "null" in out  # --json's convention


@pytest.mark.parametrize(("name", "message"), [
    ("", "it is a directory; name a file in it, e.g. {path}/plot.png"),
    ("out.xyz", "extension '.xyz'; matplotlib writes .avif, .eps"),
    ("out", "no extension; matplotlib writes .avif, .eps"),
])
def test_a_bad_plot_path_is_refused_before_training(monkeypatch, capsys, tmp_path, name, message):
    """The issue: a folder was found only after training (the summary lost), out.xyz got a PNG."""
    _no_work(monkeypatch)
    path = tmp_path / name if name else tmp_path
    assert cli.main(["train", "tiny-test", "--plot", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"parity train: --plot: cannot write {path}: {message.format(path=tmp_path)}")
    assert len(err.splitlines()) == 1 and ".png" in err and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "magic"), [("curves.svg", b"<?xml"), ("curves.PDF", b"%PDF")])
def test_plot_writes_the_format_of_its_extension(tmp_path, capsys, name, magic):
    path = tmp_path / name
    assert cli.main(["train", "tiny-test", "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(magic)


def test_digits_without_scikit_learn_names_the_extra_once(monkeypatch, capsys):
    """The issue: "needs the digits examples need scikit-learn"."""
    monkeypatch.setitem(sys.modules, "sklearn", None)  # ``import sklearn`` now raises ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert cli.main(["train", "digits"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        "parity train: example 'digits': the digits examples need scikit-learn, an optional extra: "
        "pip install 'scratch-parity[digits]'\n")
