"""Resource accounting as Stanford CS336 lecture 2 teaches it: tokens -> training FLOPs (6·N·D)
-> days on given GPUs at a given MFU, and memory per parameter by dtype.

>>> r = fastbpe.account(params="70B", tokens="15T", gpus=1024, gpu="h100", mfu=0.5)
>>> round(r.days)                                  # the lecture's worked example
144

The 6·N·D rule counts a forward pass (2 FLOPs per parameter per token: a multiply and an add)
and a backward pass (twice the forward); it ignores attention's sequence-length term, which is
small next to 6·N for models whose width is large next to their context.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "BYTES_PER_DTYPE",
    "CHINCHILLA_TOKENS_PER_PARAM",
    "GPU_PEAK_FLOPS",
    "GPU_TABLE_SOURCE",
    "Accounting",
    "account",
    "parse_count",
]

# Dense (no structured sparsity) peak tensor-core FLOP/s per GPU and dtype ("fp32" is the plain,
# non-tensor-core rate). Source: NVIDIA's datasheets (A100 80GB SXM; H100 SXM5 and PCIe; H200
# SXM; HGX B200). NVIDIA quotes tensor rates "with sparsity"; dense is half of that, which is
# why the lecture writes H100's bf16 as 1979e12 / 2.
GPU_TABLE_SOURCE = (
    "NVIDIA datasheets (A100 80GB SXM, H100 SXM5/PCIe, H200 SXM, HGX B200); dense = half the "
    "with-sparsity tensor-core figure"
)
GPU_PEAK_FLOPS: dict[str, dict[str, float]] = {
    "a100": {"fp32": 19.5e12, "tf32": 156e12, "bf16": 312e12, "fp16": 312e12},
    "h100": {
        "fp32": 67e12,
        "tf32": 989e12 / 2,
        "bf16": 1979e12 / 2,
        "fp16": 1979e12 / 2,
        "fp8": 3958e12 / 2,
    },
    "h100-pcie": {
        "fp32": 51e12,
        "tf32": 756e12 / 2,
        "bf16": 1513e12 / 2,
        "fp16": 1513e12 / 2,
        "fp8": 3026e12 / 2,
    },
    # Same tensor cores and clocks as H100 SXM; more and faster memory.
    "h200": {
        "fp32": 67e12,
        "tf32": 989e12 / 2,
        "bf16": 1979e12 / 2,
        "fp16": 1979e12 / 2,
        "fp8": 3958e12 / 2,
    },
    "b200": {
        "fp32": 80e12,
        "tf32": 2.2e15 / 2,
        "bf16": 4.5e15 / 2,
        "fp16": 4.5e15 / 2,
        "fp8": 9e15 / 2,
    },
}
GPU_ALIASES = {"h100-sxm": "h100", "h200-sxm": "h200", "a100-sxm": "a100"}

BYTES_PER_DTYPE: dict[str, int] = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1}
DTYPE_ALIASES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16", "float8": "fp8"}

# Hoffmann et al. 2022 ("Chinchilla"): compute-optimal training uses about 20 tokens/parameter.
CHINCHILLA_TOKENS_PER_PARAM = 20.0

_SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}

Count = int | float | str


def parse_count(value: Count, what: str = "count") -> float:
    """`124M`, `70B`, `15T`, `1.5e9`, `7_000_000` -> a positive number (decimal suffixes K, M,
    B/G, T, P). ValueError with the accepted forms otherwise."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number or a string like 70B, got {value!r}")
    if isinstance(value, (int, float)):
        n = float(value)
    elif isinstance(value, str):
        s = value.strip().replace("_", "").replace(",", "")
        mult = 1.0
        if s and s[-1].upper() in _SUFFIXES:
            mult = _SUFFIXES[s[-1].upper()]
            s = s[:-1]
        try:
            n = float(s) * mult
        except ValueError:
            raise ValueError(
                f"{what}: expected a number like 124M, 70B, 15T or 1.5e9, got {value!r}"
            ) from None
    else:
        raise TypeError(f"{what} must be a number or a string like 70B, got {type(value).__name__}")
    if not math.isfinite(n) or n <= 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return n


def _dtype(name: str) -> str:
    d = DTYPE_ALIASES.get(name.lower(), name.lower())
    if d not in BYTES_PER_DTYPE:
        raise ValueError(f"unknown dtype {name!r}; known: {', '.join(BYTES_PER_DTYPE)}")
    return d


def gpu_peak_flops(gpu: str, dtype: str) -> float:
    """Dense peak FLOP/s of one `gpu` (a name in GPU_PEAK_FLOPS) for `dtype`."""
    key = GPU_ALIASES.get(gpu.lower(), gpu.lower())
    if key not in GPU_PEAK_FLOPS:
        raise ValueError(
            f"unknown GPU {gpu!r}; known: {', '.join(GPU_PEAK_FLOPS)} "
            "(or give the peak FLOP/s yourself: peak_flops / --peak-flops)"
        )
    rates = GPU_PEAK_FLOPS[key]
    d = _dtype(dtype)
    if d not in rates:
        raise ValueError(f"{key} has no {d} rate in the table; known: {', '.join(rates)}")
    return rates[d]


@dataclass(frozen=True)
class Memory:
    """Bytes for parameters, gradients and AdamW's two moment estimates (no activations)."""

    params: float
    grads: float
    optimizer: float
    master_weights: float = 0.0

    @property
    def total(self) -> float:
        return self.params + self.grads + self.optimizer + self.master_weights


@dataclass(frozen=True)
class Accounting:
    """What `account` computed; `days` is the headline, `to_dict()` the JSON form."""

    params: float
    tokens: float
    flops: float
    gpus: int
    peak_flops_per_gpu: float
    mfu: float
    dtype: str
    gpu: str | None
    seconds: float
    tokens_per_param: float
    memory: dict[str, Memory] = field(default_factory=dict)

    @property
    def days(self) -> float:
        return self.seconds / 86400

    @property
    def chinchilla_tokens(self) -> float:
        """Tokens a compute-optimal run of this size would use (~20 per parameter)."""
        return CHINCHILLA_TOKENS_PER_PARAM * self.params

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["memory"] = {k: {**asdict(m), "total": m.total} for k, m in self.memory.items()}
        d["days"] = self.days
        d["chinchilla_tokens"] = self.chinchilla_tokens
        d["chinchilla_tokens_per_param"] = CHINCHILLA_TOKENS_PER_PARAM
        d["effective_flops_per_s"] = self.gpus * self.peak_flops_per_gpu * self.mfu
        return d


def memory_table(params: float) -> dict[str, Memory]:
    """Training memory by dtype: each of fp32/bf16/fp8 throughout (params, grads, AdamW m and v
    in that dtype), and "mixed" (bf16 params and grads; fp32 master weights and AdamW states:
    2 + 2 + 4 + 8 = 16 bytes per parameter)."""
    out = {}
    for d in ("fp32", "bf16", "fp8"):
        b = BYTES_PER_DTYPE[d] * params
        out[d] = Memory(params=b, grads=b, optimizer=2 * b)
    out["mixed"] = Memory(
        params=2 * params, grads=2 * params, optimizer=8 * params, master_weights=4 * params
    )
    return out


def account(
    *,
    params: Count,
    tokens: Count | None = None,
    gpus: int = 1,
    gpu: str | None = "h100",
    peak_flops: Count | None = None,
    mfu: float = 0.5,
    dtype: str = "bf16",
    token_file: str | os.PathLike[str] | None = None,
) -> Accounting:
    """Training compute and memory for a dense transformer of `params` parameters on `tokens`
    tokens (or the ids in `token_file`: .npy, raw .bin, llm.c or Megatron), on `gpus` GPUs of kind
    `gpu` (see GPU_PEAK_FLOPS) or of `peak_flops` FLOP/s each, at model FLOPs utilization `mfu`
    (0 < mfu <= 1). FLOPs = 6·params·tokens."""
    n = parse_count(params, "params")
    if (tokens is None) == (token_file is None):
        raise ValueError("give exactly one of tokens (a count like 15T) or token_file")
    if token_file is not None:
        from .token_formats import load_tokens  # npy, raw bin, llm.c, Megatron: detected

        d = float(len(load_tokens(token_file)))
        if d == 0:
            raise ValueError(f"{os.fspath(token_file)}: the token file holds no tokens")
    else:
        assert tokens is not None
        d = parse_count(tokens, "tokens")
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 1:
        raise ValueError(f"gpus must be a positive integer, got {gpus!r}")
    if isinstance(mfu, bool) or not isinstance(mfu, (int, float)) or not 0 < mfu <= 1:
        raise ValueError(f"mfu is a fraction of peak: 0 < mfu <= 1, got {mfu!r}")
    dt = _dtype(dtype)
    if peak_flops is not None:
        peak = parse_count(peak_flops, "peak_flops")
        gpu_name = None
    else:
        if gpu is None:
            raise ValueError("give gpu (e.g. 'h100') or peak_flops")
        peak = gpu_peak_flops(gpu, dt)
        gpu_name = GPU_ALIASES.get(gpu.lower(), gpu.lower())
    flops = 6.0 * n * d
    seconds = flops / (gpus * peak * mfu)
    return Accounting(
        params=n,
        tokens=d,
        flops=flops,
        gpus=gpus,
        peak_flops_per_gpu=peak,
        mfu=float(mfu),
        dtype=dt,
        gpu=gpu_name,
        seconds=seconds,
        tokens_per_param=d / n,
        memory=memory_table(n),
    )


def human(n: float, unit: str = "") -> str:
    """1.2e12 -> '1.20 T', 7e10 -> '70.00 B' (decimal; B for billions, as model sizes are)."""
    for p, m in (("P", 1e15), ("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= m:
            return f"{n / m:.2f} {p}{unit}".rstrip()
    return f"{n:.0f} {unit}".rstrip()


def human_bytes(n: float) -> str:
    for p, m in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= m:
            return f"{n / m:.2f} {p}"
    return f"{n:.0f} B"


def format_report(a: Accounting, source: Mapping[str, str] | None = None) -> str:
    """The terminal table `fastbpe account` prints."""
    src = dict(source or {})
    hw = f"{a.gpus} x {a.gpu}" if a.gpu else f"{a.gpus} GPUs"
    lines = [
        f"model:            {human(a.params)} parameters",
        f"data:             {human(a.tokens)} tokens"
        + (f" ({src['tokens']})" if "tokens" in src else ""),
        f"hardware:         {hw}, {a.peak_flops_per_gpu:.4g} FLOP/s peak each ({a.dtype} dense), "
        f"MFU {a.mfu:g}",
        f"training FLOPs:   6 * N * D = {a.flops:.3e}",
        f"time:             {a.seconds:.3e} s = {a.seconds / 3600:,.1f} hours = {a.days:,.1f} days",
        f"tokens/param:     {a.tokens_per_param:,.1f} (Chinchilla compute-optimal: "
        f"~{CHINCHILLA_TOKENS_PER_PARAM:.0f}; {human(a.chinchilla_tokens)} tokens for this model)",
        "memory (params + grads + AdamW m, v; activations not included):",
        f"  {'dtype':<7} {'params':>11} {'grads':>11} {'AdamW':>11} {'master':>11} {'total':>11}"
        f" {'B/param':>8}",
    ]
    for name, m in a.memory.items():
        label = "mixed" if name == "mixed" else name
        lines.append(
            f"  {label:<7} {human_bytes(m.params):>11} {human_bytes(m.grads):>11} "
            f"{human_bytes(m.optimizer):>11} "
            f"{human_bytes(m.master_weights) if m.master_weights else '-':>11} "
            f"{human_bytes(m.total):>11} {m.total / a.params:>8.0f}"
        )
    lines.append("  mixed = bf16 params and grads, fp32 master weights and AdamW states")
    return "\n".join(lines)
