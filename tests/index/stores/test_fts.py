"""The embedded store's lexical leg: one query of every match, or two, choose the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.models import Article
from index.stores import fts
from index.stores.base import Filters, PassageRecord, Reset, SentenceRecord, StoreMeta
from index.stores.embedded import EmbeddedStore

DIM = 4
WORDS = ("miel", "abeille", "reine", "ruche", "fleur")


def passages(text: str, tokens: list[list[str]]) -> list[PassageRecord]:
    vector = np.eye(DIM, dtype=np.float32)[0]
    return [
        PassageRecord(0, len(text), vector, " ".join(t), (SentenceRecord(0, len(text), vector),))
        for t in tokens
    ]


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    """Articles whose passages share few words, many of them exactly: BM25 ties abound."""
    rng = np.random.default_rng(7)
    store = EmbeddedStore(tmp_path / "data")
    upserts = []
    for n in range(12):
        text = f"Article {n}."
        tokens = [
            [str(w) for w in rng.choice(WORDS, size=int(rng.integers(1, 4)))] for _ in range(8)
        ]
        item = Article(id=f"a{n}", title=f"A{n}", text=text, sha256=f"h{n}", outlet=f"o{n % 3}")
        upserts.append((item, passages(text, tokens)))
    store.write(upserts, reset=Reset(StoreMeta("m", DIM, 700, 1), np.zeros((0, DIM), np.float32)))
    return store


@pytest.mark.parametrize("question", ["miel", "miel reine", "abeille ruche fleur reine"])
@pytest.mark.parametrize("lexical_k", [1, 3, 10, 40])
@pytest.mark.parametrize("filters", [None, Filters(outlets=frozenset({"o1"}))])
def test_one_query_finds_what_two_did(
    store: EmbeddedStore,
    monkeypatch: pytest.MonkeyPatch,
    question: str,
    lexical_k: int,
    filters: Filters | None,
) -> None:
    terms = store.analyse(question, "fr")
    assert terms.postings and terms.postings <= fts.ALL_MATCHES_UP_TO
    query = np.eye(DIM, dtype=np.float32)[1]
    one = store.candidates(query, terms, 5, lexical_k, filters)
    monkeypatch.setattr(fts, "ALL_MATCHES_UP_TO", 0)  # every question takes the two queries
    two = store.candidates(query, terms, 5, lexical_k, filters)
    assert one.ids.tolist() == two.ids.tolist()
    assert one.lexical.tolist() == two.lexical.tolist()


def test_top_keeps_fts5s_order_of_equal_scores(store: EmbeddedStore) -> None:
    match = fts.match_any(("miel", "reine"))
    matches = fts.ranked(store._db, match)
    assert len({score for _, score in matches}) < len(matches)  # ties, or the test proves nothing
    for k in (1, 5, 20, 100):
        assert list(fts.top(matches, k, None).items()) == list(
            fts.best(store._db, match, k, None).items()
        )
