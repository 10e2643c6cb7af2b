"""The benchmarks' own arithmetic: what they print must be right before it is quoted."""

from __future__ import annotations

from bench import cpu_description, int8_instructions
from bench.langchain import encoder_macs


def test_encoder_macs_counts_projections_feed_forward_and_attention() -> None:
    # H=384, FF=1536: 4·H² + 2·H·FF = 1,769,472 per token and layer; attention 2·L²·H.
    one_token = 4 * 384 * 384 + 2 * 384 * 1536
    assert encoder_macs([1], layers=1) == one_token + 2 * 384
    assert encoder_macs([100], layers=12) == 12 * (100 * one_token + 2 * 100 * 100 * 384)


def test_twelve_layers_cost_twice_six_and_sequences_add_up() -> None:
    assert encoder_macs([30, 200], layers=12) == 2 * encoder_macs([30, 200], layers=6)
    assert encoder_macs([30, 200], layers=6) == encoder_macs([30], 6) + encoder_macs([200], 6)
    assert encoder_macs([], layers=12) == 0


def test_int8_instructions_found_in_a_cpus_flags() -> None:
    assert int8_instructions(["fpu", "avx2", "avx512f", "avx512_vnni", "amx_int8"]) == [
        "amx_int8",
        "avx512_vnni",
    ]
    assert int8_instructions(["fpu", "sse4_2", "avx2", "fma"]) == []


def test_cpu_description_names_the_processors_and_int8() -> None:
    line = cpu_description()
    assert "processors usable" in line
    assert "int8 dot-product instructions: " in line
