"""Fuzzing every module and loss of ``scratch.nn`` against torch (issue 7, "Fuzzing").

Every class in ``scratch.nn.__all__`` that is a Module has a recipe in ``RECIPES`` (a test fails if
one has none) drawing its options (within and outside the valid range), shapes (0-size batches,
one element, unbatched, the wrong number of dims), dtypes (float32 and float64, sometimes float16,
int64 and bool) and values (random normals with special values planted: ±0, ±1e30, ±1e-30, a
subnormal, ±inf, nan, ±1e4 logits). Each example runs forward and backward, with a random upstream
gradient, in scratch and in torch (weights shared through ``torch_ref.to_torch``). Allowed outcomes:

- both accept: ``module_parity``/``loss_parity`` must match (output, every input and parameter
  gradient, buffers; inf and nan in the same places) by the tolerance policy, and what fails it is
  judged again relative to the terms the value cancels, measured by torch itself (``_terms``: a
  one-element normalization's output is rounding noise in torch, exactly 0 in scratch);
- scratch raises ValueError or TypeError naming the module (or torch's own IndexError, for an
  index out of range) and torch rejects the input too, or the rejection is in ``DELIBERATE``.

Anything else is a finding: another exception type, a message without the module's name, a
NumPy RuntimeWarning, scratch accepting what torch rejects or rejecting what torch accepts, a
mismatch. Torch "rejects" an input it raises on, including one it cannot differentiate (an
integer or bool tensor where floats are expected): the contract fuzzed is forward plus backward.
A finding listed in ``KNOWN_FINDINGS`` does not fail the fuzz test, and
``test_known_finding_still_reproduces`` fails once it stops reproducing, so the list cannot rot.

Budget: the ``ci`` hypothesis profile (default; derandomized, no database) runs ``CI_EXAMPLES``
per module; ``HYPOTHESIS_PROFILE=long python -m pytest parity_tests/test_fuzz.py`` runs 50 times
as many, randomly (profiles in ``parity_tests/conftest.py``).

The pieces: ``fuzz_engine.py`` (value strategies, ``Case``, running both engines), ``fuzz_findings.py``
(``judge``, ``KNOWN_FINDINGS``), ``fuzz_deliberate.py`` (``DELIBERATE``) and ``fuzz_recipes*.py`` (``RECIPES``).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratch.nn
from scratch import nn

from .conftest import examples
from .fuzz_engine import CI_EXAMPLES, NOT_FUZZED
from .fuzz_findings import FIXED_FINDINGS, KNOWN_FINDINGS, judge, known
from .fuzz_recipes import RECIPES


# -------------------------------------------------------------------------------------- tests
def public_modules() -> list[str]:
    return sorted(name for name in scratch.nn.__all__
                  if isinstance(getattr(scratch.nn, name), type) and issubclass(getattr(scratch.nn, name), nn.Module))


def test_every_public_module_has_a_fuzz_recipe():
    missing = [name for name in public_modules() if name not in RECIPES and name not in NOT_FUZZED]
    assert not missing, f"no fuzz recipe for {missing}: add one to RECIPES in parity_tests/fuzz_recipes.py"
    assert set(RECIPES) | set(NOT_FUZZED) == set(public_modules())


@pytest.mark.parametrize("name", sorted(RECIPES))
@settings(max_examples=examples(CI_EXAMPLES), deadline=None)
@given(data=st.data())
def test_fuzz(name, data):
    case = RECIPES[name](data.draw)
    verdict = judge(case)
    if verdict.kind != "ok" and not known(case, verdict):
        raise AssertionError(f"{name} fuzz finding ({verdict.kind}):\n{verdict.detail}\n{case}")


@pytest.mark.parametrize(("finding", "name"), [(k, name) for k in KNOWN_FINDINGS for name in k.names],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_known_finding_still_reproduces(finding, name):
    case = finding.example(name)
    assert finding.matches(case), "the example is not one the finding explains"
    verdict = judge(case)
    assert verdict.kind in finding.kinds, (f"{name}: '{finding.what}' no longer reproduces (now {verdict.kind}): "
                                           "strike it from KNOWN_FINDINGS")


FIXED = [(what, name, example) for what, names, example in FIXED_FINDINGS for name in names]


@pytest.mark.parametrize(("what", "name", "example"), FIXED, ids=lambda v: v if isinstance(v, str) else "")
def test_a_fixed_finding_stays_fixed(what, name, example):
    verdict = judge(example(name))
    assert verdict.kind == "ok", f"{name}: '{what}' is back ({verdict.kind}): {verdict.detail}"
