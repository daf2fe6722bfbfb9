"""How the oracles' tests (``test_oracle_modules.py``, ``test_oracle_optimizers.py``) run a case (``check``),
and the end-of-run summary: per kind of case, how many passed, failed (with a named gap: xfailed) or were
skipped because torch itself does not run them, and which classes had any that did not pass."""

from __future__ import annotations

import collections
from collections.abc import Callable

import pytest

from torch_ref.oracle.skips import TorchSkipError
from torch_ref.report import ParityResult

#: kind ("module case", "error input", "optimizer case") -> case id -> outcome
OUTCOMES: dict[str, dict[str, str]] = collections.defaultdict(dict)
PLUGIN = "oracle_summary"


def record(kind: str, case_id: str, outcome: str) -> None:
    OUTCOMES[kind][case_id] = outcome


class _Summary:
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not OUTCOMES:
            return
        write = terminalreporter.write_line
        terminalreporter.section("oracles: torch's own test databases")
        for kind, results in OUTCOMES.items():
            total = collections.Counter(results.values())
            write(f"{kind}s: {len(results)} run, " + ", ".join(f"{n} {o}" for o, n in sorted(total.items())))
            per_class: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
            for case_id, outcome in results.items():
                per_class[case_id.split("/")[0]][outcome] += 1
            for name, counts in per_class.items():
                if set(counts) != {"passed"}:
                    write(f"  {name}: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())))


def check(kind: str, case_id: str, run: Callable[[], ParityResult], gap: str | None = None) -> None:
    """Run a case, record its outcome for the summary, and skip (torch does not run it) or assert."""
    try:
        result = run()
    except TorchSkipError as why:
        record(kind, case_id, "skipped")
        pytest.skip(str(why))
    ok = result.ok and bool(result.comparisons)
    record(kind, case_id, "passed" if ok else "xfailed" if gap else "failed")
    assert result.comparisons, f"{case_id}: nothing was compared"
    if not result.ok:  # pytest.fail, not assert: the message alone, without a repr of every array compared
        pytest.fail(f"{case_id} differs from torch:\n" + "\n".join(result.failures()))


def register(config: pytest.Config) -> None:
    """Register the summary once per session."""
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.register(_Summary(), PLUGIN)
