"""Benchmarks of scratch against torch: the cases (shared by ``parity bench`` and ``benchmarks/``),
the timing runner, the memory measurement, the ``parity bench`` command and its plot."""
