"""``parity check`` reports and exits as documented (its rows, the catalog's cases, run in test_catalog.py)."""

import json
import subprocess
import sys

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

