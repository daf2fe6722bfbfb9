"""``parity train EXAMPLE``: train an example's scratch model and its torch twin side by side.

Training goes through ``torch_ref.training.compare``, so every step compares every module's output and
gradients and every parameter and optimizer state; a tqdm progress bar follows the steps. At the end
it prints each engine's loss and accuracy on the training (and test) data after training and the
largest divergence seen; ``--plot FILE.png`` draws the two loss curves and the per-step divergence (the
extension picks the format: .png, .svg, .pdf, ...), ``--json`` prints the same data as strict JSON (a NaN or
infinite number as null). Every option is checked before any data is loaded or step is taken.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

import numpy as np
import torch

import scratch.optim

from .. import examples, training
from ..convert import to_torch
from .common import (
    FAILED,
    JSON_HELP,
    NON_FINITE,
    OK,
    USAGE,
    UsageError,
    check_count,
    check_lr,
    check_plot_path,
    one_line_errors,
    print_json,
)

DTYPES: dict[str, type[np.floating[Any]]] = {"float32": np.float32, "float64": np.float64}
EXIT_STATUS = {"ok": OK, "diverged": FAILED, "non-finite": NON_FINITE}
EPILOG = f"""exit status:
  {OK}  the engines agree within tolerance at every step
  {FAILED}  they diverge: the first step, module and quantity beyond tolerance are named
  {USAGE}  usage error: unknown example, bad option value, missing optional dependency
  {NON_FINITE}  a loss, parameter or buffer went NaN or infinite (in either engine): training stops at
     that step, named with what went non-finite (agreeing on NaN is not parity)"""


def add_parser(commands: Any) -> None:
    """Register the ``train`` subcommand on argparse's subparsers."""
    train = commands.add_parser("train", help="train an example in both engines side by side, comparing every step",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("example", help="the example's name (e.g. letters, xor, digits)")
    train.add_argument("--optimizer", metavar="NAME", help="a scratch.optim class (default: the example's)")
    train.add_argument("--lr", type=float, metavar="X",
                       help="learning rate, finite, > 0 and within --dtype's range (default: the example's)")
    train.add_argument("--steps", type=int, metavar="N", help="optimizer steps (default: epochs x batches per epoch)")
    train.add_argument("--epochs", type=int, metavar="N", help="epochs (default: the example's)")
    train.add_argument("--batch-size", type=int, metavar="N", help="rows per step (default: the example's)")
    train.add_argument("--seed", type=int, default=0, metavar="N",
                       help="seed of the weights and data, >= 0 (default 0)")
    train.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    train.add_argument("--plot", metavar="FILE.png", help="write the loss curves and divergence to an image, its "
                       "format from the extension (.png, .svg, .pdf, ...: what matplotlib writes)")
    train.add_argument("--json", action="store_true", help=JSON_HELP)
    train.set_defaults(handler=command_train)
    one_line_errors(train, "parity train")


def command_train(args: argparse.Namespace) -> int:
    try:
        return _train(args)
    except UsageError as error:
        print(f"parity train: {error}", file=sys.stderr)
        return USAGE


def _check_options(args: argparse.Namespace) -> str | None:
    """Every check of the options that needs no example: before any data is loaded or step taken. Returns
    the image format of ``--plot`` (None without it)."""
    for option, value, least in (("--steps", args.steps, 1), ("--epochs", args.epochs, 1),
                                 ("--batch-size", args.batch_size, 1), ("--seed", args.seed, 0)):
        check_count(option, value, least)
    check_lr(args.lr, float(np.finfo(DTYPES[args.dtype]).max), args.dtype)
    if args.plot is None:
        return None
    _require_matplotlib()
    return check_plot_path(args.plot)


def _settings(args: argparse.Namespace, example: examples.Example, rows: int) -> dict:
    epochs = example.epochs if args.epochs is None else args.epochs
    batch_size = example.batch_size if args.batch_size is None else args.batch_size
    optimizer = args.optimizer or example.optimizer
    cls = getattr(scratch.optim, optimizer, None)
    base = scratch.optim.Optimizer
    if not (isinstance(cls, type) and issubclass(cls, base) and cls is not base):
        known = sorted(n for n, c in vars(scratch.optim).items() if isinstance(c, type) and issubclass(c, base)
                       and c is not base)
        raise UsageError(f"unknown optimizer {optimizer!r}; known: {', '.join(known)}")
    batches = 1 if batch_size is None else math.ceil(rows / batch_size)
    steps = args.steps or example.steps or epochs * batches
    options = dict(example.optimizer_options) if optimizer == example.optimizer else {}
    return {"optimizer": optimizer, "lr": example.lr if args.lr is None else args.lr, "options": options,
            "epochs": epochs, "batch_size": batch_size, "steps": steps,
            "schedule": None if example.scheduler is None else example.scheduler.__name__,
            "max_grad_norm": example.max_grad_norm}


def _load(args: argparse.Namespace) -> tuple[examples.Example, tuple]:
    try:
        example = examples.get(args.example)
    except KeyError as error:
        raise UsageError(error.args[0]) from None
    try:
        data = example.load_data(np.random.default_rng(args.seed))
    except ImportError as error:
        raise UsageError(_missing(example.name, error)) from None
    dtype = DTYPES[args.dtype]
    cast = [None if a is None else (a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a) for a in data]
    return example, tuple(cast)


def _missing(name: str, error: ImportError) -> str:
    """The message for an example whose data needs a module that is not installed: the example's own
    message when it gives one (it names its extra), else the module's name and where to look."""
    if type(error) is ModuleNotFoundError and error.name:  # a bare import: Python's own message
        return (f"example {name!r} needs the Python module {error.name!r}, not installed: install its optional "
                "extra (see pyproject.toml's [project.optional-dependencies])")
    return f"example {name!r}: {error}"


def _progress(total: int, quiet: bool) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        raise UsageError("the progress bar needs tqdm: pip install 'scratch-parity[torch]'") from None
    return tqdm(total=total, desc="train", unit="step", file=sys.stderr, disable=quiet, leave=False)


def _compare(example: examples.Example, model: Any, settings: dict, x: np.ndarray, y: np.ndarray,
             dtype: str) -> training.Report:
    """``training.compare`` with a progress bar; an error it raises about the settings is a usage error."""
    bar = _progress(settings["steps"], quiet=False)

    def advance(step: int, report: training.Report) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{report.losses[-1][0]:.4g}", refresh=False)

    try:
        return training.compare(model, example.criterion(), x, y,
                                optimizer=(settings["optimizer"], {"lr": settings["lr"], **settings["options"]}),
                                steps=settings["steps"], batch_size=settings["batch_size"], callback=advance,
                                scheduler=example.scheduler, max_grad_norm=example.max_grad_norm)
    except (ValueError, TypeError) as error:
        raise UsageError(str(error).splitlines()[0]) from None
    except RuntimeError as error:  # torch converts lr-derived scalars (Adam's lr / (1 - beta1)) to the dtype
        if "without overflow" not in str(error):
            raise
        raise UsageError(f"--lr {settings['lr']} is too large for {settings['optimizer']} in {dtype}: torch's "
                         f"update overflows converting a value derived from it ({error})") from None
    finally:
        bar.close()


def _train(args: argparse.Namespace) -> int:
    plot_format = _check_options(args)
    example, (x_train, y_train, x_test, y_test) = _load(args)
    settings = _settings(args, example, len(x_train))
    model = example.build_model(np.dtype(DTYPES[args.dtype]), np.random.default_rng(args.seed))
    report = _compare(example, model, settings, x_train, y_train, args.dtype)
    result = _summary(example, settings, report, (x_train, y_train, x_test, y_test))
    if plot_format is not None:
        _plot(args.plot, plot_format, example.name, report)
        result["plot"] = args.plot
    if args.json:
        print_json(result)
    else:
        print(_text(result))
        if report.non_finite is None:  # the models hold NaN or infinities otherwise: nothing to show
            if example.describe is not None:
                print(example.describe(model, x_test if x_test is not None else x_train))
            if example.sample is not None:
                print(example.sample(model, report.twin))
    return EXIT_STATUS[report.verdict]


def _evaluate(example: examples.Example, report: training.Report, x: np.ndarray, y: np.ndarray) -> dict:
    """Loss and accuracy of both trained models on (x, y), in eval mode."""
    model, twin = report.model, report.twin
    modes = [(m, m.training) for m in model.modules()], [(m, m.training) for m in twin.modules()]
    model.eval()
    twin.eval()
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a non-finite run says so itself
            return _losses(example, model, twin, x, y)
    finally:
        for module, training in (*modes[0], *modes[1]):
            module.training = training


def _losses(example: examples.Example, model: Any, twin: Any, x: np.ndarray, y: np.ndarray) -> dict:
    """Loss (and accuracy) of both models on (x, y)."""
    ours = model(x)
    criterion = example.criterion()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(np.array(x)))
        torch_loss = float(to_torch(criterion)(theirs, torch.from_numpy(np.array(y))))
    theirs = theirs.numpy()
    result = {"loss": [float(criterion(ours, y)), torch_loss]}
    if example.accuracy is not None:
        result["accuracy"] = [float(example.accuracy(ours, y)), float(example.accuracy(theirs, y))]
    return result


def _summary(example: examples.Example, settings: dict, report: training.Report, data: tuple) -> dict:
    x_train, y_train, x_test, y_test = data
    first = report.first_divergence
    worst = max(report.comparisons, key=lambda r: r.max_rel_err / r.tol if r.tol else math.inf, default=None)
    bad = report.non_finite
    result = {"example": example.name, **settings, "ok": report.ok, "verdict": report.verdict,
              "train": _evaluate(example, report, x_train, y_train),
              "test": None if x_test is None or len(x_test) == 0 else _evaluate(example, report, x_test, y_test),
              "max_rel_err": max((r.max_rel_err for r in report.comparisons), default=0.0),
              "worst": None if worst is None else {k: getattr(worst, k) for k in
                                                   ("step", "module", "quantity", "max_rel_err", "tol")},
              "first_divergence": None if first is None else report.to_dict()["first_divergence"],
              "non_finite": None if bad is None else {**report.to_dict()["non_finite"], "message": bad.describe()},
              "losses": [list(pair) for pair in report.losses], "max_rel_err_per_step": report.max_rel_err_per_step}
    return result


def _text(result: dict) -> str:
    extras = "".join(f", {k} {v}" for k, v in result["options"].items())
    extras += f", schedule {result['schedule']}" if result["schedule"] else ""
    extras += f", clip_grad_norm_ {result['max_grad_norm']}" if result["max_grad_norm"] is not None else ""
    lines = [f"{result['example']}: {result['steps']} steps of {result['optimizer']} (lr {result['lr']}{extras}), "
             f"batch size {result['batch_size'] or 'all'}"]
    losses = result["losses"]
    if losses:
        lines.append(f"batch loss  step 0: scratch {losses[0][0]:.6g}  torch {losses[0][1]:.6g}   "
                     f"step {len(losses) - 1}: scratch {losses[-1][0]:.6g}  torch {losses[-1][1]:.6g}")
    for split in ("train", "test"):
        values = result[split]
        if values is None:
            continue
        line = f"{split:<5}  loss scratch {values['loss'][0]:.6g}  torch {values['loss'][1]:.6g}"
        if "accuracy" in values:
            line += f"   accuracy scratch {values['accuracy'][0]:.2%}  torch {values['accuracy'][1]:.2%}"
        lines.append(line)
    worst = result["worst"]
    if worst is not None:
        lines.append(f"largest divergence: max rel err {result['max_rel_err']:.3e}; closest to its tolerance: "
                     f"step {worst['step']}, module '{worst['module']}', {worst['quantity']} "
                     f"{worst['max_rel_err']:.3e} (tol {worst['tol']:.2e})")
    first = result["first_divergence"]
    if result["verdict"] == "ok":
        lines.append("ok: the engines agree within tolerance at every step")
    elif result["verdict"] == "diverged":
        lines.append(f"DIVERGED: step {first['step']}, module '{first['module']}', {first['quantity']}: "
                     f"max rel err {first['max_rel_err']:.3e} > tol {first['tol']:.3e}")
    if result["non_finite"] is not None:
        lines.append(f"NON-FINITE: {result['non_finite']['message']} (training stopped there)")
    return "\n".join(lines)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib, the 'plot' extra: pip install 'scratch-parity[plot]'") from None


def _plot(path: str, image_format: str, name: str, report: training.Report) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(len(report.losses))
    losses = np.array(report.losses, dtype=np.float64).reshape(-1, 2)
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    top.plot(steps, losses[:, 0], label="scratch", linewidth=2)
    top.plot(steps, losses[:, 1], label="torch", linestyle="--")
    top.set(ylabel="training loss (batch)", title=f"parity train {name}")
    top.legend()
    divergence = np.maximum(np.array(report.max_rel_err_per_step, dtype=np.float64), np.finfo(np.float64).tiny)
    bottom.semilogy(steps, divergence, color="tab:red")
    bottom.set(xlabel="step", ylabel="max rel err (all quantities)")
    figure.tight_layout()
    try:
        figure.savefig(path, format=image_format)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        plt.close(figure)
