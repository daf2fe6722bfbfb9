"""Every catalog case matches torch in both dtypes, and every public component has a case.

The same cases are ``parity check``'s rows: a new entry in ``torch_ref/catalog/<family>.py`` is a new
row there and two tests here, with no other edit.
"""

import numpy as np
import pytest

from scratch import nn, optim
from scratch.nn import init
from scratch.nn import utils as nn_utils
from scratch.optim import lr_scheduler
from torch_ref import to_torch
from torch_ref.catalog import CASES, run_case
from torch_ref.testing import build

DTYPES = [np.dtype(np.float32), np.dtype(np.float64)]
# bases and containers with no forward of their own, as in torch
ABSTRACT = {"Module", "RNNBase", "RNNCellBase", "Optimizer", "LRScheduler",
            "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_case_matches_torch(case, dtype):
    result = run_case(case, dtype)
    assert result.comparisons, f"{case.name}: nothing was compared"
    assert result.ok, f"{case.name} [{dtype}]:\n" + "\n".join(result.failures())


def _classes(namespace, base) -> set[str]:
    return {name for name in namespace.__all__
            if isinstance(getattr(namespace, name), type) and issubclass(getattr(namespace, name), base)}


def public_components() -> dict[str, set[str]]:
    """Every public class and function the catalog must cover, by the kind of case that covers it."""
    return {
        "module": _classes(nn, nn.Module) - ABSTRACT,
        "optimizer": _classes(optim, optim.Optimizer) - ABSTRACT,
        "scheduler": _classes(lr_scheduler, object) - ABSTRACT,
        "init": {f"init.{name}" for name in init.__all__ if name.endswith("_")},
        "function": {name for name in nn_utils.__all__ if name.startswith("clip_grad")},
    }


@pytest.mark.parametrize("kind", ["module", "optimizer", "scheduler", "init", "function"])
def test_every_public_component_has_a_case(kind):
    covered = {case.subject for case in CASES if case.kind in ("module", "loss") or case.kind == kind}
    missing = public_components()[kind] - covered
    assert not missing, f"no catalog case for {sorted(missing)}"


def test_case_names_are_unique_and_name_their_subject():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "two cases share a name"
    known = set().union(*public_components().values())
    assert {case.subject for case in CASES} <= known, "a case names no component"


MODULE_CASES = [case for case in CASES if case.kind in ("module", "inplace", "loss")]


@pytest.mark.parametrize("case", MODULE_CASES, ids=lambda case: case.name)
def test_case_module_has_torchs_repr_and_state_dict_keys(case):
    module = build(case, np.float64)[0]
    twin = to_torch(module)
    assert repr(module) == repr(twin)
    ours, theirs = module.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    assert [np.shape(v) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
