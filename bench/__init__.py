"""Benchmarks: commands that print figures (speed, memory, scale), never timed tests."""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from index.service import IndexService

__all__ = [
    "Tally",
    "built_service",
    "cpu_description",
    "int8_instructions",
    "memory_mb",
    "percentiles",
    "split_questions",
]


def memory_mb(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident memory, in MB.

    Without /proc, the peak from ``getrusage`` (Linux: kB).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def split_questions(path: Path, count: int, split: str = "test") -> list[str]:
    """The first ``count`` questions of ``split`` in a PIAF-style JSONL file."""
    questions: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row.get("split") == split:
                questions.append(row["question"])
            if len(questions) == count:
                break
    return questions


def percentiles(seconds: list[float], digits: int = 1) -> dict[str, float]:
    """p50, p95 and mean of ``seconds``, in milliseconds rounded to ``digits``.

    >>> percentiles([0.001, 0.002, 0.003, 0.010])
    {'p50_ms': 2.5, 'p95_ms': 10.0, 'mean_ms': 4.0}
    """
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, digits),
        "p95_ms": round(p95 * 1000, digits),
        "mean_ms": round(statistics.fmean(ordered) * 1000, digits),
    }


# The instructions that make int8 products faster than fp32 ones (onnx-int8's case): without
# one of them (AVX2 only), ONNX Runtime's int8 kernels run about as fast as its fp32 ones.
INT8_INSTRUCTIONS = ("amx_int8", "avx512_vnni", "avx_vnni", "asimddp")


def int8_instructions(flags: Iterable[str]) -> list[str]:
    """The int8 dot-product instructions among a CPU's flags, in ``INT8_INSTRUCTIONS``' order.

    >>> int8_instructions(["avx2", "avx512_vnni", "fma"])
    ['avx512_vnni']
    >>> int8_instructions(["avx2", "fma"])
    []
    """
    present = set(flags)
    return [name for name in INT8_INSTRUCTIONS if name in present]


def cpu_description() -> str:
    """This machine's processor, usable processors and int8 instructions, for a benchmark's
    first line: engine timings mean little without them."""
    model, flags = "unknown processor", list[str]()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "unknown processor":
                    model = value.strip()
                elif key.strip() in ("flags", "Features") and not flags:
                    flags = value.split()
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 1
    int8 = ", ".join(int8_instructions(flags)) or "none (int8 no faster than fp32)"
    return f"{model}, {usable} processors usable; int8 dot-product instructions: {int8}"


class Tally:
    """Hits counted by the question set's half, kind and language (and "all" languages), as
    the question-set benchmarks (``bench.conversation``, ``bench.time_questions``) print them."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, int]] = {}

    def count(self, row: Mapping[str, Any], **hits: bool) -> None:
        for lang in (row["lang"], "all"):
            line = self.rows.setdefault(f"{row['half']} {row['kind']} {lang}", {"n": 0})
            line["n"] += 1
            for name, hit in hits.items():
                line[name] = line.get(name, 0) + int(hit)

    def table(self, columns: Sequence[tuple[str, str]]) -> str:
        """A Markdown table: half, kind, language, n, then each (name, heading) as a share."""
        lines = [
            "| half | kind | lang | n | " + " | ".join(head for _, head in columns) + " |",
            "|---|---|---|---|" + "---|" * len(columns),
        ]
        for key in sorted(self.rows, key=lambda k: (*k.split()[:2], k.split()[2] != "all", k)):
            line = self.rows[key]
            cells = [f"{line[n] / line['n']:.2f}" if n in line else "" for n, _ in columns]
            lines.append(f"| {key.replace(' ', ' | ')} | {line['n']} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def built_service(
    folder: Path, articles: Iterable[Path], cache: Path, **settings: Any
) -> IndexService:
    """An ``IndexService`` over copies of ``articles`` in ``folder``, built from the embedding
    ``cache`` (vectors are never computed twice), which then keeps the new vectors."""
    from index.service import IndexService
    from index.settings import IndexSettings

    seeds, data = folder / "seeds", folder / "data"
    seeds.mkdir()
    data.mkdir()
    for path in articles:
        shutil.copy(path, seeds / path.name)
    if cache.exists():
        shutil.copy(cache, data / "embeddings.sqlite")
    service = IndexService(IndexSettings(seeds_dir=seeds, data_dir=data, **settings))
    service.rebuild()
    cache.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(data / "embeddings.sqlite", cache)
    return service
