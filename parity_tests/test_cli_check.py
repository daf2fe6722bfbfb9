"""``parity check`` reports and exits as documented (its rows, the catalog's cases, run in test_catalog.py)."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from scratch import nn
from torch_ref import catalog, cli
from torch_ref.catalog.case import loss_case


class BrokenMSE(nn.MSELoss):
    """A planted bug: the gradient forgets the factor 2."""

    def backward(self, grad=None):
        return super().backward(grad) / 2


def test_check_prints_a_table_and_exits_0(capsys):
    assert cli.main(["check", "--only", "Linear(b*", "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "Linear(bias=False)" in out and "float64" in out and "FAIL" not in out
    assert "1 passed, 0 failed" in out


def test_check_json_has_the_same_rows(capsys):
    assert cli.main(["check", "--only", "MSELoss(0-D*", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert {row["component"] for row in data["rows"]} == {"MSELoss(0-D,mean)", "MSELoss(0-D,sum)", "MSELoss(0-D,none)"}
    assert {row["dtype"] for row in data["rows"]} == {"float32", "float64"}
    assert all(row["output"]["max_rel_err"] <= row["tol"] for row in data["rows"])


def test_a_mismatch_exits_1_and_names_the_quantity(monkeypatch, capsys):
    broken = loss_case("BrokenMSE", lambda d, r: (BrokenMSE(), r.standard_normal(4).astype(d),
                                                         r.standard_normal(4).astype(d)))
    monkeypatch.setattr(catalog, "CASES", [broken])
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "grad_input" in out


def test_unknown_pattern_exits_2(capsys):
    assert cli.main(["check", "--only", "NoSuchLayer"]) == 2


def test_python_m_torch_ref_is_the_same_command():
    result = subprocess.run([sys.executable, "-m", "torch_ref", "check", "--only", "Tan[h]", "--json"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert [row["component"] for row in json.loads(result.stdout)["rows"]] == ["Tanh", "Tanh"]



# ------------------------------------------------------------------ parity check --module: a user's own component
USER_LAYERS = '''
import numpy as np
import torch
import torch_ref
from scratch import nn


class Scale(nn.Module):
    def __init__(self, features, dtype=np.float32):
        super().__init__()
        self.scale = nn.Parameter(np.linspace(0.5, 1.5, features).astype(dtype))

    def forward(self, x):
        self._save(x)
        return x * self.scale.data

    def backward(self, grad_output):
        x = self._saved(grad_output)
        self.scale.accumulate_grad((grad_output * x).reshape(-1, x.shape[-1]).sum(axis=0))
        return grad_output * self.scale.data


class WrongScale(Scale):
    def backward(self, grad_output):
        super().backward(grad_output)
        return grad_output  # forgets the scale


class TorchScale(torch.nn.Module):
    def __init__(self, features, dtype):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(features, dtype=dtype))

    def forward(self, x):
        return x * self.scale


torch_ref.register_twin(Scale, lambda m: TorchScale(m.scale.shape[0], torch.from_numpy(m.scale.data).dtype))


class Doubler(nn.Module):
    def forward(self, x):
        self._save(x)
        return 2 * x

    def backward(self, grad_output):
        self._saved(grad_output)
        return 2 * grad_output


class TorchDoubler(torch.nn.Module):
    def forward(self, x):
        return 2 * x


def doubler_twin(module):
    return TorchDoubler()


class HalfGradMSE(nn.MSELoss):
    def backward(self, grad=None):
        return super().backward(grad) / 2
'''


@pytest.fixture
def user_package(tmp_path, monkeypatch):
    """A package of the user's own layers, importable for one test (its name unique to the test)."""
    name = "userpkg_" + re.sub(r"\W", "_", tmp_path.name)
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / name / "layers.py").write_text(USER_LAYERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        monkeypatch.delitem(sys.modules, module)


def test_check_module_prints_the_rows_of_a_users_layer(user_package, capsys):
    argv = ["check", "--module", f"{user_package}.layers:Scale", "--args", '{"features": 3}', "--input-shape", "4,3"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("Scale(features=3)")]
    assert [row[1] for row in rows] == ["float32", "float64"] and all(row[-1] == "ok" for row in rows)
    assert out.splitlines()[0].split() == ["component", "dtype", "output", "grad_input", "grad_params", "tol", "ok"]
    assert "2 passed, 0 failed (1 component" in out


def test_check_module_a_planted_bug_exits_1_and_names_the_quantity(user_package, capsys):
    argv = ["check", "--module", f"{user_package}.layers:WrongScale", "--args", '{"features": 3}',
            "--input-shape", "4,3", "--dtype", "float64"]
    assert cli.main(argv) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split()[:2] == ["WrongScale(features=3)", "float64"] and lines[2].endswith("FAIL")
    assert lines[3].split() == ["->", "grad_input:", "rel", "err", "above", "tol"]


def test_check_module_json_and_an_input_file(user_package, tmp_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(1).standard_normal((5, 3)))
    argv = ["check", "--module", f"{user_package}.layers:Scale", "--args", '{"features": 3}', "--input", str(x),
            "--dtype", "float64", "--json"]
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and [row["dtype"] for row in data["rows"]] == ["float64"]
    assert data["rows"][0]["grad_params"]["max_rel_err"] <= data["rows"][0]["tol"]


def test_check_module_without_a_twin_then_with_twin(user_package, capsys):
    argv = ["check", "--module", f"{user_package}.layers:Doubler", "--input-shape", "2,5"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no twin known for layer Doubler" in err and "--twin" in err
    assert cli.main([*argv, "--twin", f"{user_package}.layers:doubler_twin"]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out


def test_check_module_loss(user_package, tmp_path, capsys):
    classes = tmp_path / "classes.npy"
    np.save(classes, np.array([0, 2, 1, 1]))
    assert cli.main(["check", "--module", "scratch.nn:CrossEntropyLoss", "--loss", "--input-shape", "4,3",
                     "--target", str(classes)]) == 0
    assert "CrossEntropyLoss()  float32" in capsys.readouterr().out
    assert cli.main(["check", "--module", f"{user_package}.layers:HalfGradMSE", "--loss", "--input-shape", "4,3",
                     "--target-shape", "4,3", "--dtype", "float64"]) == 1
    assert "-> grad_input: rel err above tol" in capsys.readouterr().out


@pytest.mark.parametrize(("options", "message"), [
    (["--module", "no_such_package.layers:Scale", "--input-shape", "4"], "cannot import 'no_such_package.layers': "
                                                                         "ModuleNotFoundError"),
    (["--module", "{pkg}.layers:Nope", "--input-shape", "4"], "has no attribute 'Nope'"),
    (["--module", "{pkg}.layers", "--input-shape", "4"], "--module expects package.module:Name"),
    (["--module", "{pkg}.layers:TorchScale", "--input-shape", "4"], "is not a scratch.nn.Module subclass"),
    (["--module", "{pkg}.layers:Scale", "--args", "{features: 3}", "--input-shape", "4,3"], "--args is not valid JSON"),
    (["--module", "{pkg}.layers:Scale", "--args", "[3]", "--input-shape", "4,3"], "--args must be a JSON object"),
    (["--module", "{pkg}.layers:Scale", "--args", '{"feat": 3}', "--input-shape", "4,3"],
     "cannot build Scale(feat=3): TypeError"),
    (["--module", "{pkg}.layers:Scale", "--args", '{"features": 3}', "--input-shape", "4,x"],
     "--input-shape expects non-negative integers"),
    (["--module", "{pkg}.layers:Scale", "--args", '{"features": 3}', "--input-shape", "4,4"],
     "Scale(features=3) rejects inputs of shapes (4, 4)"),
    (["--module", "{pkg}.layers:Scale", "--args", '{"features": 3}'], "--module needs its inputs"),
    (["--module", "{pkg}.layers:Scale", "--input", "no_such_file.npy"], "--input: cannot read 'no_such_file.npy'"),
    (["--module", "{pkg}.layers:HalfGradMSE", "--loss", "--input-shape", "4"], "--loss needs its target"),
    (["--module", "{pkg}.layers:Scale", "--only", "Tanh", "--input-shape", "4"], "--only selects catalog components"),
    (["--input-shape", "4,3"], "go with --module"),
    (["--module", "{pkg}.layers:Scale", "--input-shape", "4", "--input", "x.npy"], "not allowed with argument"),
])
def test_check_module_usage_errors_are_one_line_and_exit_2(user_package, capsys, options, message):
    try:
        status = cli.main(["check", *(o.replace("{pkg}", user_package) for o in options)])
    except SystemExit as exit:  # argparse's own errors (one_line_errors)
        status = exit.code
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("parity check: ") and captured.err.count("\n") == 1
    assert message in captured.err
