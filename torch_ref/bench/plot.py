"""``parity bench --plot FILE.png``: how the cost of Linear forward+backward grows with batch size and
with width, for both engines (matplotlib, the optional ``plot`` extra), with the time the same work
would take at the GEMM peak measured in the same run as a floor."""

from __future__ import annotations

from typing import Any

from .cases import SWEEP_BATCH, SWEEP_WIDTH


def require_matplotlib() -> None:
    """Raise ImportError with the install hint when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install 'scratch-parity[plot]'") from None


def _series(rows: list[dict[str, Any]], fixed: str, value: int, axis: str,
            peak_gflops: float) -> dict[str, list[tuple[int, float]]]:
    """(axis value, seconds) per engine, for the sweep rows whose ``fixed`` size equals ``value``."""
    chosen = sorted((r for r in rows if r["sweep"].get(fixed) == value), key=lambda r: r["sweep"][axis])
    return {"scratch": [(r["sweep"][axis], r["scratch_s"]) for r in chosen],
            "torch": [(r["sweep"][axis], r["torch_s"]) for r in chosen],
            "at the GEMM peak": [(r["sweep"][axis], r["flops"] / peak_gflops / 1e9) for r in chosen]}


def plot(path: str, image_format: str, rows: list[dict[str, Any]], threads: int, peak_gflops: float) -> None:
    """Two log-log panels of time per forward+backward, against batch size and against width, written to
    ``path`` in ``image_format`` (a matplotlib format: "png", "svg", ...)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = [("width", SWEEP_WIDTH, "batch", f"batch size (Linear {SWEEP_WIDTH}->{SWEEP_WIDTH})"),
              ("batch", SWEEP_BATCH, "width", f"width W (Linear W->W, batch {SWEEP_BATCH})")]
    styles = {"scratch": {"marker": "o"}, "torch": {"marker": "s"}, "at the GEMM peak": {"ls": "--", "color": "gray"}}
    for ax, (fixed, value, axis, label) in zip(axes, panels):
        series = _series(rows, fixed, value, axis, peak_gflops)
        for name, points in series.items():
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, [y * 1e3 for y in ys], label=name, **styles[name])
        if series["scratch"]:
            ax.set_xscale("log", base=2)
            ax.set_xticks([x for x, _ in series["scratch"]], [str(x) for x, _ in series["scratch"]])
            ax.set_yscale("log")
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no case selected on this axis", ha="center", transform=ax.transAxes)
        ax.set_xlabel(label)
        ax.set_ylabel("ms per forward+backward (median)")
        ax.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"Linear forward+backward, float32, {threads} threads each")
    figure.tight_layout()
    figure.savefig(path, dpi=110, format=image_format)
    plt.close(figure)
