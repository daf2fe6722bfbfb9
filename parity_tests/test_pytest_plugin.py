"""The ``parity`` pytest fixture (torch_ref/pytest_plugin.py), run as a user's suite runs it, with pytester.

The plugin is named with ``-p torch_ref.pytest_plugin`` unless the installed package already declares its
entry point (loading it twice under two names is an error in pytest); the declaration is read from
pyproject.toml, since the shared environment is not reinstalled for a branch.
"""

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

# torch imported here, once: pytester's in-process runs drop the modules they import, and torch imported a
# second time in one process crashes it
import torch_ref.testing  # noqa: F401
from torch_ref.pytest_plugin import seed_of

pytest_plugins = ["pytester"]

USER_LAYER = '''
import numpy as np
import torch
import torch_ref
from scratch import nn


class Scale(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.scale = nn.Parameter(np.linspace(0.5, 1.5, features))

    def forward(self, x):
        self._save(x)
        return x * self.scale.data

    def backward(self, grad_output):
        x = self._saved(grad_output)
        self.scale.accumulate_grad((grad_output * x).reshape(-1, x.shape[-1]).sum(axis=0))
        return grad_output * self.scale.data


class TorchScale(torch.nn.Module):
    def __init__(self, features):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(features, dtype=torch.float64))

    def forward(self, x):
        return x * self.scale


torch_ref.register_twin(Scale, lambda m: TorchScale(m.scale.shape[0]))
'''


def plugin_args() -> list[str]:
    installed = any(ep.value == "torch_ref.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "torch_ref.pytest_plugin"]


def test_a_users_layer_passes(pytester):
    pytester.makepyfile(test_scale=USER_LAYER + '''
def test_scale(parity):
    x = parity.rng.standard_normal((4, 3))
    parity.assert_module_parity(Scale(3), x)
''')
    pytester.runpytest(*plugin_args()).assert_outcomes(passed=1)


def test_a_planted_bug_fails_with_the_table_in_the_output(pytester):
    pytester.makepyfile(test_wrong_scale=USER_LAYER + '''
class WrongScale(Scale):
    def backward(self, grad_output):
        super().backward(grad_output)
        return grad_output  # forgets the scale


def test_wrong_scale(parity):
    parity.assert_module_parity(WrongScale(3), parity.rng.standard_normal((4, 3)))
''')
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E * WrongScale differs from torch in 1 of 3 quantities:",
        "E * module * quantity * max abs err * max rel err * tol * ok",
        "E * WrongScale * grad_input * FAIL",
    ])
    assert "scale.grad" not in result.stdout.str()  # only the failing quantity
    assert "def assert_ok" not in result.stdout.str()  # the helpers' frames are hidden


def draws_of(run) -> list[str]:
    """The ``draw <seed> <number>`` lines a run printed (``-s``), without pytest's progress around them."""
    return [line[line.index("draw "):].split(".py")[0].rstrip(". ") for line in run.stdout.lines if "draw " in line]


def test_rng_is_seeded_from_the_node_id(pytester):
    pytester.makepyfile(test_seeds='''
import numpy as np

def test_a(parity):
    print("draw", parity.seed, parity.rng.standard_normal())

def test_b(parity):
    print("draw", parity.seed, parity.rng.standard_normal())
''')
    runs = [pytester.runpytest(*plugin_args(), "-s") for _ in range(2)]
    draws = [draws_of(run) for run in runs]
    assert draws[0] == draws[1] and len(draws[0]) == 2  # the same on every run
    seeds = [seed_of("test_seeds.py::test_a"), seed_of("test_seeds.py::test_b")]
    assert [int(line.split()[1]) for line in draws[0]] == seeds and seeds[0] != seeds[1]
    b_alone = pytester.runpytest(*plugin_args(), "-s", "test_seeds.py::test_b")
    assert draws_of(b_alone) == draws[0][1:]  # whatever else runs


def test_the_entry_point_is_declared():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"parity": "torch_ref.pytest_plugin"}


def test_loading_the_plugin_does_not_import_torch():
    code = "import sys, torch_ref.pytest_plugin; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parents[1])
    assert result.stdout.strip() == "False"
