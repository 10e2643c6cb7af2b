"""The int8 graph's calibration (SmoothQuant), and how close its vectors come to fp32's.

    python -m bench.e5_smooth calibrate [--out index/retrieval/e5_smooth.npz]
    python -m bench.e5_smooth tune [--alpha 0.3 0.5 0.7] [--texts 300]
    python -m bench.e5_smooth sensitivity [--texts 100]

``calibrate`` runs the fp32 graph over fixed texts and writes each int8 Linear input's largest
|value| per channel: the even PIAF **dev** questions' contexts (passages), the even dev
questions (queries), the shipped seed article (its windows) and a few sentences in English,
German, Spanish and Italian written for this purpose. No test question, no question of the
multilingual set (those are evaluation data). The file is fixed for the model: a new one
changes the int8 vectors (bump ``CONVERSION_FORMAT`` and the int8 model id with it).

``tune`` builds the int8 graph with several migration strengths (``alpha``) and prints the
cosine of its vectors to fp32's on the **odd** PIAF dev questions and their contexts (texts
the calibration did not see; unsupervised: no answer is read). ``sensitivity`` quantises one
Linear kind at a time (the rest fp32) to show where the remaining error comes from.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "questions.jsonl"
SEED = ROOT / "seeds" / "000_7774940a137d78f0.txt"
# Queries in the multilingual set's other languages, written for the calibration (not taken
# from any evaluation set): their activations differ a little from French ones.
OTHER_LANGUAGES = [
    "When was the first railway line in the country opened?",
    "Which river flows through the capital city?",
    "How many people died during the epidemic of the nineteenth century?",
    "What did the author write about the king's court?",
    "Who founded the company and in which year?",
    "Wie viele Einwohner hat die Stadt heute?",
    "Welche Sprache wurde im Mittelalter am Hof gesprochen?",
    "Wann wurde die Brücke über den Fluss gebaut?",
    "Wer hat das Gemälde in der Kirche gemalt?",
    "Warum wurde die Fabrik geschlossen?",
    "¿Cuándo se construyó la catedral de la ciudad?",
    "¿Quién ganó la elección presidencial de aquel año?",
    "¿Qué idioma hablaban los habitantes de la isla?",
    "¿Cuántos soldados participaron en la batalla?",
    "¿Dónde nació el compositor de la ópera?",
    "Quando è stata fondata l'università?",
    "Chi ha scritto il primo trattato di medicina?",
    "Quanti abitanti aveva la regione nel Medioevo?",
    "Perché il porto era così importante per il commercio?",
    "In quale museo si trova la statua?",
]


def piaf_dev(path: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """PIAF's dev questions and their contexts, split in two by position (even, odd)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    dev = sorted((r for r in rows if r.get("split") == "dev"), key=lambda r: r["id"])
    questions = [r["question"] for r in dev]
    contexts = sorted({r["context"] for r in dev if r.get("context")})
    return questions[0::2], contexts[0::2], questions[1::2], contexts[1::2]


def session(model: Any, threads: int = 0) -> Any:
    """An ONNX Runtime session on an in-memory graph, with the engine's settings."""
    from index.retrieval.e5_engine import onnx_session

    return onnx_session(model.SerializeToString(), threads)


def embedder_on(engine: Any, model: Any) -> Any:
    """``engine`` (an OnnxE5Embedder, loaded) running ``model`` instead of its own graph."""
    run = session(model)

    def runner(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.asarray(run.run(["mean"], {"input_ids": ids, "attention_mask": mask})[0])

    engine._runner = runner
    return engine


def calibrate(engine: Any, weights: Any, piaf: Path, out: Path) -> None:
    """Each int8 input's largest |value| per channel over the calibration texts, into ``out``."""
    import onnx
    from onnx import helper

    from index.retrieval.e5_convert import activation_names, build_onnx_graph, source_digest
    from index.retrieval.e5_engine import windows_of
    from index.retrieval.e5_weights import bundled_e5_file

    names = activation_names(weights.header.layers)
    model = build_onnx_graph(weights)
    model.graph.output.extend(
        helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in names.values()
    )
    run = session(model)
    questions, contexts, _, _ = piaf_dev(piaf)
    texts = [(q, True) for q in [*questions, *OTHER_LANGUAGES]] + [
        (c, False) for c in [*contexts, SEED.read_text(encoding="utf-8")]
    ]
    ranges = {key: np.zeros(0, np.float32) for key in names}
    bos, eos, _ = engine._ids
    started = time.perf_counter()
    for text, is_query in texts:
        content = engine.token_ids([text], is_query)[0]
        for _, a, b in windows_of([len(content)]):
            ids = np.array([[bos, *content[a:b], eos]], np.int64)
            got = run.run(list(names.values()), {"input_ids": ids, "attention_mask": ids * 0 + 1})
            for key, value in zip(names, got, strict=True):
                peak = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
                ranges[key] = peak if not ranges[key].size else np.maximum(ranges[key], peak)
    arrays: dict[str, Any] = {k: v.astype(np.float32) for k, v in ranges.items()}
    arrays["source"] = np.array(source_digest(bundled_e5_file()))
    arrays["texts"] = np.array(len(texts))
    np.savez_compressed(out, **arrays)
    print(
        f"{len(texts)} texts in {time.perf_counter() - started:.0f} s → {out} "
        f"({out.stat().st_size / 1e3:.0f} kB)"
    )


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def summary(name: str, got: np.ndarray) -> str:
    return (
        f"{name:<28} min {got.min():.5f}  p1 {np.percentile(got, 1):.5f}  "
        f"median {np.median(got):.5f}  (n={got.size})"
    )


def held_out(piaf: Path, texts: int) -> tuple[list[str], list[str]]:
    _, _, questions, contexts = piaf_dev(piaf)
    return questions[:texts], contexts[:texts]


def reference(engine: Any, questions: list[str], contexts: list[str]) -> np.ndarray:
    return np.vstack([engine.embed_queries(questions), engine.embed_passages(contexts)])


def tune(engine: Any, weights: Any, piaf: Path, alphas: list[float], texts: int) -> None:
    from index.retrieval.e5_convert import (
        SMOOTH_ALPHA,
        build_onnx_graph,
        load_ranges,
        smoothing_scales,
    )

    questions, contexts = held_out(piaf, texts)
    fp32 = reference(engine, questions, contexts)
    ranges = load_ranges()
    plain = reference(
        embedder_on(engine, build_onnx_graph(weights, int8=True)), questions, contexts
    )
    print(summary("int8, not smoothed", cosines(plain, fp32)), flush=True)
    settings: list[tuple[str, float | dict[str, float]]] = [("shipped", SMOOTH_ALPHA)]
    settings += [(f"alpha {alpha:g}", alpha) for alpha in alphas]
    for name, alpha in settings:
        smooth = smoothing_scales(weights, ranges, alpha)
        model = build_onnx_graph(weights, int8=True, smooth=smooth)
        got = reference(embedder_on(engine, model), questions, contexts)
        print(summary(f"smoothed, {name}", cosines(got, fp32)), flush=True)


def sensitivity(engine: Any, weights: Any, piaf: Path, alpha: float, texts: int) -> None:
    """Cosine to fp32 with one Linear kind (every layer) or one layer (every kind) in int8."""
    from index.retrieval.e5_convert import build_onnx_graph, load_ranges, smoothing_scales

    questions, contexts = held_out(piaf, texts)
    fp32 = reference(engine, questions, contexts)
    smooth = smoothing_scales(weights, load_ranges(), alpha)
    layers = range(weights.header.layers)
    everything = {f"l{n}.{kind}" for n in layers for kind in ("q", "k", "v", "ao", "fi", "fo")}
    groups = {kind: {f"l{n}.{kind}" for n in layers} for kind in ("q", "k", "v", "ao", "fi", "fo")}
    groups |= {f"layer {n}": {p for p in everything if p.startswith(f"l{n}.")} for n in layers}
    for name, quantised in groups.items():
        model = build_onnx_graph(
            weights, int8=True, smooth=smooth, keep_fp32=frozenset(everything - quantised)
        )
        got = reference(embedder_on(engine, model), questions, contexts)
        print(summary(f"only {name} in int8", cosines(got, fp32)), flush=True)


def speed(engine: Any, weights: Any, piaf: Path, against: Path, texts: int, rounds: int) -> None:
    """CPU time of this int8 graph and another's (a file), alternated round by round."""
    import onnx

    from index.retrieval.e5_convert import (
        SMOOTH_ALPHA,
        build_onnx_graph,
        load_ranges,
        smoothing_scales,
    )

    questions, contexts = held_out(piaf, texts)
    smooth = smoothing_scales(weights, load_ranges(), SMOOTH_ALPHA)
    graphs = {
        "this int8": build_onnx_graph(weights, int8=True, smooth=smooth),
        str(against): onnx.load(str(against)),
    }
    runners = {}
    for name, model in graphs.items():
        runners[name] = embedder_on(engine, model)._runner
        print(f"{name}: {len(model.graph.node)} nodes", flush=True)
    used: dict[str, dict[str, list[float]]] = {n: {"query": [], "passages": []} for n in graphs}
    for _ in range(rounds):
        for name, runner in runners.items():
            engine._runner = runner
            started = time.process_time()
            for question in questions:
                engine.embed_queries([question])
            used[name]["query"].append((time.process_time() - started) * 1000 / len(questions))
            started = time.process_time()
            for i in range(0, len(contexts), 16):
                engine.embed_passages(contexts[i : i + 16])
            used[name]["passages"].append((time.process_time() - started) * 1000 / len(contexts))
    for name, kinds in used.items():
        print(
            f"{name}: CPU per query {np.median(kinds['query']):.2f} ms, per passage "
            f"{np.median(kinds['passages']):.2f} ms (medians of {rounds} rounds)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["calibrate", "tune", "sensitivity", "speed"])
    parser.add_argument("--questions-file", type=Path, default=PIAF, help="PIAF's questions")
    parser.add_argument("--out", type=Path, default=ROOT / "index/retrieval/e5_smooth.npz")
    parser.add_argument("--models", type=Path, default=ROOT / "data" / "models")
    parser.add_argument("--alpha", type=float, nargs="*", default=[0.3, 0.5, 0.7])
    parser.add_argument("--texts", type=int, default=300, help="held-out questions and contexts")
    parser.add_argument("--against", type=Path, help="speed: another int8 graph (a file)")
    parser.add_argument("--rounds", type=int, default=5, help="speed: alternated rounds")
    args = parser.parse_args(argv)

    from index.retrieval.e5_engine import OnnxE5Embedder
    from index.retrieval.e5_weights import bundled_e5_file, read_e5_file

    engine = OnnxE5Embedder(args.models, "fp32", progress=lambda _: None)
    engine.warm_up()
    weights = read_e5_file(bundled_e5_file())
    if args.command == "calibrate":
        calibrate(engine, weights, args.questions_file, args.out)
    elif args.command == "tune":
        tune(engine, weights, args.questions_file, args.alpha, args.texts)
    elif args.command == "sensitivity":
        sensitivity(engine, weights, args.questions_file, args.alpha[0], args.texts)
    else:
        speed(engine, weights, args.questions_file, args.against, args.texts, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
