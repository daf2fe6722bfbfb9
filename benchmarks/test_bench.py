"""pytest-benchmark timings of the ``parity bench`` cases (``torch_ref/bench/cases.py``): one test per
case and engine, grouped by case so scratch and torch's paths sit side by side in the table::

    pytest benchmarks --benchmark-enable --benchmark-save=NAME
    pytest benchmarks --benchmark-enable --benchmark-compare=NAME

In the normal suite (``--benchmark-disable``) each runs once, a smoke test of the case's own check on
the result (a finite positive loss, a gradient of the right shape...). Speed is never asserted."""

from functools import lru_cache

import pytest

from torch_ref.bench.cases import Case, Work, all_cases

CASES = {case.name: case for case in all_cases()}


@lru_cache(maxsize=1)  # a case's engines are consecutive tests: build each case's work once, keep one alive
def _work(name: str) -> Work:
    case = CASES[name]
    return case.build(case.engines)


@pytest.mark.parametrize(("name", "engine"), [(case.name, engine) for case in CASES.values()
                                              for engine in case.engines])
def test_case(benchmark, name: str, engine: str):
    case: Case = CASES[name]
    benchmark.group = name
    benchmark.extra_info["flops"] = case.flops
    result = benchmark(_work(name)[engine])
    case.check(result)
