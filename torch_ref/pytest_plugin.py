"""A pytest plugin for checking your own layers against torch: the ``parity`` fixture.

Installed with the package (entry point ``pytest11``: ``parity``), or named explicitly with
``pytest -p torch_ref.pytest_plugin``; ``-p no:parity`` turns the installed one off. A test asks for it::

    def test_my_layer(parity):
        x = parity.rng.standard_normal((4, 3))
        parity.assert_module_parity(MyLayer(3), x)

``parity.rng`` is a NumPy Generator seeded from the test's node id (``parity.seed``), so every test draws
its own numbers, the same on every run and in any order or selection of tests. The assertions are
``torch_ref.testing``'s, their upstream gradients drawn from ``parity.rng`` unless given ``rng=``; a
failure raises AssertionError whose message, shown in pytest's report, is the table of the failing
quantities. The plugin adds this fixture only: no hooks, and torch is imported when a test first uses it,
so a session that never asks for ``parity`` does not pay for importing torch.

PYTEST_DONT_REWRITE: nothing here asserts, and a conftest may import it before pytest would rewrite it.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from scratch import nn

    from .report import ParityResult, Report


def seed_of(nodeid: str) -> int:
    """A stable seed for a test: CRC-32 of its node id (Python's own ``hash`` of a str changes per process)."""
    return zlib.crc32(nodeid.encode())


class Parity:
    """What the ``parity`` fixture hands a test: ``rng``, ``seed`` and ``torch_ref.testing``'s assertions."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def assert_module_parity(self, module: nn.Module, *inputs: Any, rtol: float | None = None,
                             atol: float | None = None, rng: np.random.Generator | int | None = None) -> ParityResult:
        """``torch_ref.testing.assert_module_parity``, the upstream gradient drawn from ``self.rng`` by default."""
        __tracebackhide__ = True
        from .testing import assert_module_parity

        return assert_module_parity(module, *inputs, rtol=rtol, atol=atol, rng=self.rng if rng is None else rng)

    def assert_loss_parity(self, criterion: nn.Module, input: Any, target: Any, rtol: float | None = None,
                           atol: float | None = None, rng: np.random.Generator | int | None = None) -> ParityResult:
        """``torch_ref.testing.assert_loss_parity``, the upstream gradient drawn from ``self.rng`` by default."""
        __tracebackhide__ = True
        from .testing import assert_loss_parity

        return assert_loss_parity(criterion, input, target, rtol=rtol, atol=atol, rng=self.rng if rng is None else rng)

    def assert_optimizer_parity(self, optimizer: str | type, groups: dict | list[dict], **options: Any) -> ParityResult:
        """``torch_ref.testing.assert_optimizer_parity`` (``dtype``, ``steps``, ``rtol``, ``atol``, ``rng``),
        its parameters and gradients drawn from ``self.rng`` by default."""
        __tracebackhide__ = True
        from .testing import assert_optimizer_parity

        options.setdefault("rng", self.rng)
        return assert_optimizer_parity(optimizer, groups, **options)

    def assert_training_parity(self, model: nn.Module, criterion: nn.Module, inputs: np.ndarray,
                               targets: np.ndarray, **compare_options: Any) -> Report:
        """``torch_ref.testing.assert_training_parity``: ``torch_ref.training.compare``'s options, every row passing."""
        __tracebackhide__ = True
        from .testing import assert_training_parity

        return assert_training_parity(model, criterion, inputs, targets, **compare_options)


@pytest.fixture
def parity(request: pytest.FixtureRequest) -> Parity:
    """torch_ref.testing's parity assertions and ``parity.rng``, a Generator seeded from this test's node id."""
    return Parity(seed_of(request.node.nodeid))
