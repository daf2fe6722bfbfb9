"""``parity explain EXAMPLE``: one sample through a small network, every intermediate value of the
forward and backward pass (z, a, the loss, δ, dL/da and every parameter gradient) beside torch's.

It is for a learner checking a hand derivation. Layer l is a Linear, z(l) its output, a(l) the output
of the activation that follows it (none: a(l) = z(l)), δ(l) = dL/dz(l). The torch side runs the
model's twin (``to_torch``) module by module and reads each intermediate gradient with ``retain_grad``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import torch

from scratch import nn
from scratch.nn.modules import activation, softmax

from .. import examples
from ..convert import to_torch
from ..tolerance import reduction_length, relative_error, rtol
from .common import one_line_errors, print_json

DTYPES: dict[str, np.dtype] = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}
ACTIVATIONS = tuple(getattr(module, name) for module in (activation, softmax) for name in module.__all__)


class NotExplainableError(ValueError):
    """The model is not a Sequential of Linear layers, each followed by at most one activation."""


@dataclass
class Row:
    phase: str  # "forward", "loss" or "backward"
    quantity: str  # e.g. "z(1)", "a(2) = y_hat", "L", "delta(1) = dL/dz(1)", "dL/dW(2)"
    module: str  # the module's name as in named_modules(), "" for the loss
    scratch: Any
    torch: Any
    max_abs_diff: float
    max_rel_err: float
    ok: bool


def layer_labels(model: nn.Module) -> list[tuple[str, str, int]]:
    """Per child of ``model``: (label of its output, label of the gradient of its output, layer number)."""
    if not isinstance(model, nn.Sequential):
        raise NotExplainableError(f"{type(model).__name__} is not a Sequential")
    labels, layer, previous = [], 0, None
    for name, module in model.named_children():
        if isinstance(module, nn.Linear):
            layer += 1
            labels.append((f"z({layer})", f"delta({layer}) = dL/dz({layer})", layer))
        elif isinstance(module, ACTIVATIONS) and isinstance(previous, nn.Linear):
            labels.append((f"a({layer})", f"dL/da({layer})", layer))
        else:
            raise NotExplainableError(f"child '{name}' ({type(module).__name__}) is not a Linear layer or an "
                                 "activation following one")
        previous = module
    if not labels:
        raise NotExplainableError("the Sequential is empty")
    output, grad, layer = labels[-1]
    labels[-1] = (f"{output} = y_hat", f"{grad} = dL/dy_hat", layer)
    return labels


def _scratch_pass(model: nn.Sequential, criterion: nn.Module, x: np.ndarray, y: np.ndarray) -> dict:
    """Forward module by module, the loss, then backward module by module, keeping every value."""
    outputs, grads = [], []
    model.zero_grad()
    out = x
    for module in model:
        out = module(out)
        outputs.append(out)
    loss = criterion(out, y)
    grad = criterion.backward()
    for module in reversed(list(model)):
        grads.append(grad)
        grad = module.backward(grad)
    params = {name: p.grad for name, p in model.named_parameters()}
    return {"outputs": outputs, "loss": loss, "grads": grads[::-1], "params": params}


def _torch_pass(model: nn.Sequential, criterion: nn.Module, x: np.ndarray, y: np.ndarray) -> dict:
    """The same through the torch twins, with ``retain_grad`` on every intermediate output."""
    twin, twin_criterion = cast(torch.nn.Sequential, to_torch(model)), to_torch(criterion)
    outputs = []
    out = torch.from_numpy(x)
    for module in twin:
        out = module(out)
        out.retain_grad()
        outputs.append(out)
    loss = twin_criterion(out, torch.from_numpy(y))
    loss.backward()
    return {"outputs": [o.detach().numpy() for o in outputs], "loss": loss.detach().numpy(),
            "grads": [o.grad.numpy() for o in outputs],
            "params": {name: grad_of(p).numpy() for name, p in twin.named_parameters()}}


def grad_of(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor.grad`` after the backward that set it."""
    if tensor.grad is None:
        raise RuntimeError(f"no gradient reached a tensor of shape {tuple(tensor.shape)}")
    return tensor.grad


def _param_label(name: str, layer: int) -> str:
    kind = name.rsplit(".", 1)[-1]
    return {"weight": f"dL/dW({layer})", "bias": f"dL/db({layer})"}.get(kind, f"dL/d{name}")


def row(phase: str, quantity: str, module: str, ours: Any, theirs: Any, tol: float, scale: float = 0.0) -> Row:
    """One value judged against torch's; ``scale``, where given, is the size of the terms it sums (see
    ``relative_error``): a sum that cancels to 0 is judged by the rounding of its terms, not of itself."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    max_abs, max_rel = relative_error(ours, theirs, scale)
    return Row(phase, quantity, module, ours.tolist(), theirs.tolist(), max_abs, max_rel, max_rel <= tol)


def explain_rows(model: nn.Sequential, criterion: nn.Module, x: np.ndarray, y: np.ndarray) -> list[Row]:
    """Every forward and backward value of one sample, scratch's beside torch's, in the order computed."""
    labels = layer_labels(model)
    names = [name for name, _ in model.named_children()]
    ours, theirs = _scratch_pass(model, criterion, x, y), _torch_pass(model, criterion, x, y)
    tol = rtol(x.dtype, reduction_length(x, *(p.data for p in model.parameters())))
    rows = [row("forward", label, name, a, b, tol)
            for (label, _, _), name, a, b in zip(labels, names, ours["outputs"], theirs["outputs"])]
    rows.append(row("loss", "L", "", ours["loss"], theirs["loss"], tol))
    for k in reversed(range(len(names))):
        _, grad_label, layer = labels[k]
        rows.append(row("backward", grad_label, names[k], ours["grads"][k], theirs["grads"][k], tol))
        for full_name in ours["params"]:
            if full_name.rsplit(".", 1)[0] == names[k]:
                rows.append(row("backward", _param_label(full_name, layer), full_name, ours["params"][full_name],
                                 theirs["params"][full_name], tol))
    return rows


def format_values(values: Any) -> str:
    """An array with 6 significant digits, a sample's leading batch axis of 1 dropped, long ones elided."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim >= 2 and array.shape[0] == 1:
        array = array[0]
    text = np.array2string(array, separator=", ", threshold=24, edgeitems=3, max_line_width=10_000,
                           formatter={"float_kind": lambda v: f"{v + 0.0:.6g}"})  # + 0.0: no -0
    return " ".join(text.split())  # a matrix on one line


def format_rows(rows: list[Row]) -> str:
    width = max(len(row.quantity) for row in rows)
    lines, phase = [], None
    for row in rows:
        if row.phase != phase:
            phase = row.phase
            lines.append(f"{phase}:")
        verdict = "" if row.ok else "   <-- differs"
        lines.append(f"  {row.quantity:<{width}}  scratch {format_values(row.scratch)}")
        lines.append(f"  {'':<{width}}  torch   {format_values(row.torch)}   max abs diff "
                     f"{row.max_abs_diff:.1e}{verdict}")
    return "\n".join(lines)


def _sample(example: examples.Example, index: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    x_train, y_train, _, _ = example.load_data(np.random.default_rng(0))
    if not -len(x_train) <= index < len(x_train):
        raise IndexError(f"--sample {index} is out of range: {example.name} has {len(x_train)} training samples")
    index %= len(x_train)
    y = y_train[index:index + 1]
    return x_train[index:index + 1].astype(dtype), y.astype(dtype) if np.issubdtype(y.dtype, np.floating) else y


def _fail(message: str) -> int:
    print(f"parity explain: {message}", file=sys.stderr)
    return 2


def _verdict(rows: list[Row]) -> str:
    """The last line: ok, or the first value that differs."""
    policy = "(each value judged by the tolerance of torch_ref/tolerance.py)"
    bad = next((r for r in rows if not r.ok), None)
    if bad is None:
        return f"ok: scratch and torch agree on every value {policy}"
    where = f" ({bad.module})" if bad.module else ""
    return f"FAIL: scratch and torch differ, first at {bad.quantity}{where}: max rel err {bad.max_rel_err:.1e} {policy}"


def command_explain_attention(args: argparse.Namespace) -> int:
    """``parity explain attention``: see ``explain_attention``."""
    from .explain_attention import attention_rows, case_header

    if args.heads not in (1, 2):
        return _fail(f"--heads must be 1 or 2 (the case's width is 2), got {args.heads}")
    rows = attention_rows(args.heads, not args.no_mask, DTYPES[args.dtype])
    ok = all(r.ok for r in rows)
    if args.json:
        print_json({"example": "attention", "heads": args.heads, "mask": not args.no_mask,
                          "dtype": args.dtype, "ok": ok, "rows": [asdict(r) for r in rows]})
    else:
        print(f"parity explain attention: one self-attention layer, {args.dtype}\n"
              f"{case_header(args.heads, not args.no_mask)}\n{format_rows(rows)}\n\n{_verdict(rows)}")
    return 0 if ok else 1


def command_explain(args: argparse.Namespace) -> int:
    if args.example == "attention":
        return command_explain_attention(args)
    try:
        example = examples.get(args.example)
    except KeyError as error:
        return _fail(error.args[0])
    dtype = DTYPES[args.dtype]
    model = example.build_model(dtype, np.random.default_rng(0))
    try:
        layer_labels(model)
        x, y = _sample(example, args.sample, dtype)
    except (NotExplainableError, IndexError, ImportError) as error:
        prefix = f"{example.name}'s model cannot be explained: " if isinstance(error, NotExplainableError) else ""
        suffix = " (only a Sequential of Linear layers and activations)" if prefix else ""
        return _fail(f"{prefix}{error}{suffix}")
    rows = explain_rows(cast(nn.Sequential, model), example.criterion(), x, y)  # layer_labels checked it
    ok = all(row.ok for row in rows)
    if args.json:
        print_json({"example": example.name, "sample": args.sample, "dtype": str(dtype), "ok": ok,
                          "x": x.tolist(), "target": y.tolist(), "rows": [asdict(row) for row in rows]})
    else:
        print(f"parity explain {example.name}: training sample {args.sample}, {dtype}\n"
              f"x = {format_values(x)}\ntarget = {format_values(y)}\n{format_rows(rows)}\n\n"
              f"{_verdict(rows)}")
    return 0 if ok else 1


def add_parser(commands: Any) -> None:
    """Register the ``explain`` subcommand on argparse's subparsers."""
    parser = commands.add_parser("explain", help="one sample's forward and backward values, scratch beside torch")
    parser.add_argument("example", help="an example's name (e.g. backprop-exercise, xor, letters), or 'attention'")
    parser.add_argument("--sample", type=int, default=0, metavar="I", help="the training sample (default 0)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float64")
    parser.add_argument("--json", action="store_true", help="print the values as strict JSON (a NaN or infinite "
                        "number is written as null)")
    parser.add_argument("--heads", type=int, default=1, help="attention only: 1 or 2 heads (default 1)")
    parser.add_argument("--no-mask", action="store_true", help="attention only: no causal mask")
    parser.set_defaults(handler=command_explain)
    one_line_errors(parser, "parity explain")
