"""``char-gpt``: a decoder-only character-level transformer trained on the Zen of Python.

The text ships with Python itself (the standard library's ``this`` module keeps PEP 20, "The Zen of Python"
by Tim Peters, ROT13-encoded in ``this.s``; it is decoded here without printing it), so nothing is downloaded.
Its 850-odd characters are cut into every window of ``CONTEXT + 1`` characters (one per start position,
shuffled once with the seed's generator): the input is a window's first ``CONTEXT`` characters, the target
the same characters shifted by one, so each position predicts the next character.

The model (``CharGPT``, GPT-style and without biases): token and learned position embeddings (N(0, 0.02)),
``LAYERS`` pre-norm blocks (``TransformerEncoderLayer`` with ``norm_first=True``, ``activation="gelu"``,
``bias=False``, a causal mask: causal self-attention with ``HEADS`` heads, then a GELU MLP of width
4 x ``D_MODEL``, each in a residual), a final LayerNorm and a Linear head to the vocabulary. Its logits come
out as (N, vocab, CONTEXT), CrossEntropyLoss's (N, C, d1) layout, so the targets stay (N, CONTEXT).

Training: AdamW (weight decay 0.1) with a linear warm-up over the first ``WARMUP`` steps followed by cosine
decay to 0 (LinearLR then CosineAnnealingLR in a SequentialLR, scratch's and torch's own), and every
gradient clipped to a total norm of 1.0 (``clip_grad_norm_``), in both engines.

Adam's eps is 1e-6 (BERT's), not torch's default 1e-8. Adam's first step moves each weight by
lr g / (|g| + eps): for a gradient element far below eps (a few of the 16k in ``linear1``, near 1e-9 next
to a largest one of 1e-2), the rounding difference of g is multiplied by lr / eps. With eps 1e-8 that put
``blocks.0.linear1.weight`` after step 0 at 1.9x its float64 tolerance (1.5e-13 against 8e-14; in
float32 at 0.95x): both engines right, the update ill-conditioned. eps 1e-6 divides that gain by 100.
Without biases (GPT-style) there is no gradient that is zero in exact arithmetic: the key projection's bias
would get none (softmax is invariant to a shift of a row's scores), and Adam would turn the noise there
into full steps of random sign (see ``torch_ref/tolerance.py``).
"""

from __future__ import annotations

import codecs
import contextlib
import io
from typing import Any

import numpy as np
import torch

from scratch import nn
from scratch.nn import init
from scratch.training import accuracy

from ..twins import build_torch, register_twin
from . import Example, Split, register

CONTEXT, D_MODEL, HEADS, LAYERS = 32, 64, 4, 2
WARMUP = 20
STEPS = 200
BATCH_SIZE = 16
WEIGHT_DECAY = 0.1
ADAM_EPS = 1e-6  # see the module docstring
MAX_GRAD_NORM = 1.0
PROMPT = "Beautiful is "


def zen_of_python() -> str:
    """PEP 20 as the standard library's ``this`` module holds it (ROT13 in ``this.s``), decoded."""
    with contextlib.redirect_stdout(io.StringIO()):  # importing ``this`` prints the Zen the first time
        import this
    return codecs.decode(this.s, "rot13")


TEXT = zen_of_python()
VOCAB = sorted(set(TEXT))
INDEX = {c: i for i, c in enumerate(VOCAB)}


def encode(text: str) -> np.ndarray:
    return np.array([INDEX[c] for c in text], dtype=np.int64)


def decode(indices: Any) -> str:
    return "".join(VOCAB[int(i)] for i in indices)


def causal_mask(length: int) -> np.ndarray:
    """(L, L) booleans, True above the diagonal: position i attends to positions 0..i only."""
    return np.triu(np.ones((length, length), dtype=bool), k=1)


class CharGPT(nn.Module):
    """Token + position embeddings, pre-norm causal blocks, a final LayerNorm and a Linear head, no biases.

    Shape:
        - Input: (N, L) character indices, L <= ``context``.
        - Output: (N, vocab_size, L) logits (CrossEntropyLoss's (N, C, d1) layout).

    The backward runs the children's backwards in reverse; the two embeddings are summed in the forward, so
    both get the gradient of their sum, the position embedding's summed over the batch.
    """

    def __init__(self, vocab_size: int, context: int = CONTEXT, d_model: int = D_MODEL, nhead: int = HEADS,
                 num_layers: int = LAYERS, dtype: Any = None, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.context = context
        self.tok_emb = nn.Embedding(vocab_size, d_model, dtype=dtype, rng=rng)
        self.pos_emb = nn.Embedding(context, d_model, dtype=dtype, rng=rng)
        for embedding in (self.tok_emb, self.pos_emb):
            init.normal_(embedding.weight, std=0.02, rng=rng)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True, bias=False, dtype=dtype, rng=rng)
            for _ in range(num_layers)])
        self.ln_f = nn.LayerNorm(d_model, bias=False, dtype=dtype)
        self.head = nn.Linear(d_model, vocab_size, bias=False, dtype=dtype, rng=rng)

    def forward(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx)
        if idx.ndim != 2 or idx.shape[1] > self.context:
            raise ValueError(f"CharGPT: expected indices of shape (N, L) with L <= {self.context}, got {idx.shape}")
        length = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(np.arange(length))
        mask = causal_mask(length)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        out = self.head(self.ln_f(x)).transpose(0, 2, 1)
        self._save(idx.shape)
        return out

    def backward(self, grad_output: np.ndarray) -> None:
        """Accumulates every parameter's gradient; returns None (indices have no gradient)."""
        self._saved(grad_output)
        grad = np.ascontiguousarray(grad_output.transpose(0, 2, 1))
        dhidden = self.head.backward(grad)
        if dhidden is None:  # only after a caller's own head.requires_input_grad_(False)
            raise RuntimeError("CharGPT.backward: the head returned no input gradient "
                               "(head.requires_input_grad_(False))")
        grad = self.ln_f.backward(dhidden)
        for block in reversed(self.blocks):
            grad = block.backward(grad)
        self.tok_emb.backward(grad)
        self.pos_emb.backward(grad.sum(axis=0))
        return None


class TorchCharGPT(torch.nn.Module):
    """CharGPT's torch twin: the same children under the same names, the same forward."""

    # registered by __init__ from CharGPT's children
    tok_emb: torch.nn.Embedding
    pos_emb: torch.nn.Embedding
    blocks: torch.nn.ModuleList
    ln_f: torch.nn.LayerNorm
    head: torch.nn.Linear

    def __init__(self, children: dict[str, torch.nn.Module]) -> None:
        super().__init__()
        for name, child in children.items():
            self.add_module(name, child)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        length = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(length))
        mask = torch.from_numpy(causal_mask(length))
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.ln_f(x)).transpose(1, 2)


register_twin(CharGPT, lambda m: TorchCharGPT({name: build_torch(c, name) for name, c in m.named_children()}))


def load_data(rng: np.random.Generator | None = None) -> Split:
    """Every window of the Zen, shuffled: inputs (N, CONTEXT) and next-character targets (N, CONTEXT)."""
    codes = encode(TEXT)
    starts = np.arange(len(codes) - CONTEXT)
    if rng is not None:
        starts = rng.permutation(starts)
    windows = codes[starts[:, None] + np.arange(CONTEXT + 1)]
    return windows[:, :-1], windows[:, 1:], None, None


def build_model(dtype: np.dtype, rng: np.random.Generator | None = None) -> CharGPT:
    return CharGPT(len(VOCAB), dtype=dtype, rng=rng)


def warmup_cosine(lr_scheduler: Any, optimizer: Any, steps: int) -> Any:
    """A linear warm-up from lr/10 over ``WARMUP`` steps, then cosine decay to 0 over the rest; the same
    calls build it in either engine (``lr_scheduler`` is scratch's or torch's module)."""
    warmup = min(WARMUP, max(steps // 4, 1))
    return lr_scheduler.SequentialLR(optimizer, [
        lr_scheduler.LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=warmup),
        lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps - warmup, 1))], milestones=[warmup])


def _next_probabilities(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits.astype(np.float64) / temperature
    p = np.exp(z - z.max())
    return p / p.sum()


def generate(step: Any, length: int = 160, seed: int = 0, temperature: float = 0.8, prompt: str = PROMPT) -> str:
    """``prompt`` continued by ``length`` characters; ``step(indices (1, L)) -> logits (1, vocab, L)`` is one
    engine's model. Each character is drawn from the softmax of the last position's logits / temperature by
    inverse CDF with a uniform of ``np.random.default_rng(seed)``, so both engines use the same draws."""
    rng = np.random.default_rng(seed)
    codes = list(encode(prompt))
    for _ in range(length):
        logits = np.asarray(step(np.array([codes[-CONTEXT:]], dtype=np.int64)))[0, :, -1]
        cdf = np.cumsum(_next_probabilities(logits, temperature))
        codes.append(int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(VOCAB) - 1)))
    return decode(codes)


def sample(model: nn.Module, twin: torch.nn.Module) -> str:
    """A continuation of ``PROMPT`` from each trained engine, in eval mode, with the same draws."""
    model.eval()
    twin.eval()
    with torch.no_grad():
        theirs = generate(lambda idx: twin(torch.from_numpy(idx)).numpy())
    ours = generate(model)
    return "\n".join(f"--- sample ({engine}) ---\n{text}" for engine, text in (("scratch", ours), ("torch", theirs)))


EXAMPLE = register(Example(
    name="char-gpt", description="a character-level GPT on the Zen of Python: 2 pre-norm causal blocks, AdamW, "
                                 "warm-up + cosine, clip_grad_norm_ 1.0",
    build_model=build_model, criterion=nn.CrossEntropyLoss, load_data=load_data,
    optimizer="AdamW", lr=3e-3, epochs=1, batch_size=BATCH_SIZE, accuracy=accuracy,
    optimizer_options={"weight_decay": WEIGHT_DECAY, "eps": ADAM_EPS}, scheduler=warmup_cosine,
    max_grad_norm=MAX_GRAD_NORM, steps=STEPS, sample=sample))
