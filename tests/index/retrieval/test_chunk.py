"""Chunking: offsets are exact, windows respect sentences and the size limit."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from index.models import Article
from index.retrieval.chunk import (
    _plain_sentences,
    chunk_article,
    is_heading,
    paragraph_spans,
    sentence_spans,
)

SEED = Path(__file__).parents[3] / "seeds" / "000_7774940a137d78f0.txt"


def article(text: str, lang: str = "fr") -> Article:
    return Article(id="a", title="T", text=text, sha256="x", lang=lang)


def test_paragraph_spans_skip_blank_runs() -> None:
    text = "  Un.  \n\n\n Deux.\n \nTrois."
    assert [text[s:e] for s, e in paragraph_spans(text)] == ["Un.", "Deux.", "Trois."]


def test_sentence_spans_point_into_the_text() -> None:
    text = "M. Dupont est arrivé à Paris hier soir. Il a dit : « Bonjour ! » Puis il est parti."
    spans = sentence_spans(text, "fr")
    assert [text[s:e] for s, e in spans] == [
        "M. Dupont est arrivé à Paris hier soir.",
        "Il a dit : « Bonjour ! » Puis il est parti.",
    ]


def test_abbreviation_fragments_are_glued_to_the_next_sentence() -> None:
    text = "Voir p. 12 pour tous les détails du traité."
    assert [text[s:e] for s, e in sentence_spans(text, "fr")] == [text]


def test_short_paragraphs_are_packed_into_one_chunk() -> None:
    chunks = chunk_article(article("Un deux trois.\n\nQuatre cinq six."), max_chars=100)
    assert [c.text for c in chunks] == ["Un deux trois.\n\nQuatre cinq six."]
    assert chunks[0].sentences == ((0, 14), (16, 32))


def test_long_paragraph_is_cut_on_sentences_with_overlap() -> None:
    sentences = [f"Phrase numéro {i} qui parle de choses diverses." for i in range(10)]
    text = " ".join(sentences)
    chunks = chunk_article(article(text), max_chars=150, overlap=1)
    assert len(chunks) > 2
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 150
        assert chunk.text.startswith("Phrase")
    for left, right in itertools.pairwise(chunks):
        assert right.start < left.end  # one sentence shared


def test_without_overlap_chunks_tile_the_text() -> None:
    text = " ".join(f"Phrase {i} avec assez de mots dedans." for i in range(12))
    chunks = chunk_article(article(text), max_chars=120, overlap=0)
    for left, right in itertools.pairwise(chunks):
        assert left.end < right.start


def test_a_sentence_longer_than_the_limit_is_its_own_chunk() -> None:
    long_sentence = "mot " * 100 + "fin."
    chunks = chunk_article(article(long_sentence + " Court ensuite ici."), max_chars=50)
    assert chunks[0].text.startswith("mot mot")
    assert all(c.text for c in chunks)


def test_seed_chunks_cover_every_paragraph() -> None:
    text = SEED.read_text(encoding="utf-8")
    chunks = chunk_article(article(text), max_chars=700)
    covered = set()
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        for s, e in chunk.sentences:
            assert chunk.start <= s < e <= chunk.end
            covered.update(range(s, e))
    for s, e in paragraph_spans(text):
        assert s in covered and e - 1 in covered


@pytest.mark.parametrize(("max_chars", "overlap"), [(0, 1), (100, -1)])
def test_bad_parameters_are_refused(max_chars: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_article(article("Un."), max_chars=max_chars, overlap=overlap)


def test_empty_text_gives_no_chunk() -> None:
    assert chunk_article(article("   \n\n  ")) == []


@pytest.mark.parametrize("unit", ["a. ", "Le président a parlé. ", "x" * 50, "1. M. « a » "])
def test_a_huge_paragraph_is_cut_before_the_segmenter(unit: str) -> None:
    # 200 KB of "a. " kept pysbd busy for minutes under the build lock (issue 8, finding 3):
    # past 2,000 characters a paragraph is cut in one linear pass instead.
    text = (unit * 10_000)[:200_000]
    chunks = chunk_article(Article(id="a", title="T", text=text, sha256="x", lang="fr"))
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert max(len(c.text) for c in chunks) <= 2000
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text.rstrip())


def test_plain_sentences_of_a_long_paragraph() -> None:
    text = "Un. Deux ! « Trois ? » Quatre" + " mot" * 600
    spans = _plain_sentences(text, 2000)
    assert [text[s:e] for s, e in spans[:3]] == ["Un.", "Deux !", "« Trois ? »"]
    assert all(e - s <= 2000 for s, e in spans)
    assert spans[-1][1] == len(text)


def test_a_heading_line_is_never_glued_to_the_next_sentence() -> None:
    # Issue 23, item 8: "Le bilan" (under 20 characters, so once taken for an abbreviation's
    # fragment) was glued to the sentence under it, and the pair became the bold highlight.
    text = "Le bilan\nDeux cents vols ont été annulés dans la journée. Le trafic reprend mardi."
    assert [text[s:e] for s, e in sentence_spans(text, "fr")] == [
        "Le bilan",
        "Deux cents vols ont été annulés dans la journée.",
        "Le trafic reprend mardi.",
    ]
    assert is_heading(text, 0, 8)
    assert not is_heading(text, 9, 57)  # a sentence
    # A wrapped line goes on in lower case: a sentence's first half, still glued.
    wrapped = "Le 5\njanvier, le président a limogé le gouvernement du pays."
    assert [wrapped[s:e] for s, e in sentence_spans(wrapped, "fr")] == [wrapped]
    assert not is_heading(wrapped, 0, 4)


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("« Tirez sur les manifestants »", True),  # a quoted headline
        ("Grève à Orly (suite)", True),
        ("« Nous ne céderons pas. »", False),  # a quoted sentence
        ("Le bilan :", False),
        ("- deux cents vols annulés", False),  # a list item
        ("2. Deux cents vols annulés", False),
        ("deux cents vols annulés", False),  # a line going on
    ],
)
def test_what_a_heading_is(line: str, heading: bool) -> None:
    text = f"{line}\n\nLes contrôleurs aériens ont cessé le travail lundi matin."
    assert is_heading(text, 0, len(line)) is heading


def test_a_closing_quote_ends_the_sentence_it_closes() -> None:
    # pysbd cut after "semaine." and left "»" to open the next sentence: the bold highlight
    # started with a stray "»" (issue 23, item 8).
    text = (
        "Les syndicats ont dit : « Nous ne céderons pas.\n"
        "Le mouvement continuera toute la semaine. » Les négociations reprendront mercredi."
    )
    found = [text[s:e] for s, e in sentence_spans(text, "fr")]
    assert found == [
        "Les syndicats ont dit : « Nous ne céderons pas.",
        "Le mouvement continuera toute la semaine. »",
        "Les négociations reprendront mercredi.",
    ]
    seed = SEED.read_text(encoding="utf-8")
    starts = [seed[s] for s, _ in sentence_spans(seed, "fr")]
    assert not set(starts) & set("»”)")
    english = "She said: “It is over.” He left. (It was late.) Then the rain came down hard."
    assert all(english[s] not in "”)" for s, _ in sentence_spans(english, "en"))
