"""The store contract: every backend passes the same tests (``IndexStore`` in index/stores/base.py).

Vectors are small hand-made ones (dimension 8), so what is nearest is known; the lexical leg gets
real stems. ``make_store`` opens a store over one fresh location; calling it twice gives two
"processes" on the same data.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from index.errors import IndexFailure
from index.models import Article, ArticleSummary
from index.retrieval.lexical import passage_tokens
from index.stores.base import (
    Filters,
    IndexStore,
    PassageRecord,
    Reset,
    SentenceRecord,
    StoreMeta,
)
from index.stores.embedded import EmbeddedStore
from index.stores.postgres import PostgresStore
from index.stores.sql import SUMMARY_COLUMNS

DIM = 8
META = StoreMeta(model_id="test-model", dim=DIM, chunk_max_chars=700, chunk_overlap=1)
BACKGROUND = np.eye(DIM, dtype=np.float32)[:3]

MakeStore = Callable[[], IndexStore]


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(DIM, np.float32)
    vector[: len(values)] = values
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def article(article_id: str, text: str, **fields: object) -> Article:
    return Article(id=article_id, title=article_id.title(), text=text, sha256=f"h-{text}", **fields)  # type: ignore[arg-type]


def records(item: Article, vectors: list[np.ndarray]) -> list[PassageRecord]:
    """One passage per paragraph (split on blank lines), each one sentence, with these vectors."""
    found: list[PassageRecord] = []
    start = 0
    for paragraph, vector in zip(item.text.split("\n\n"), vectors, strict=True):
        begin = item.text.index(paragraph, start)
        end = begin + len(paragraph)
        start = end
        found.append(
            PassageRecord(
                begin,
                end,
                vector,
                passage_tokens(item.title, paragraph, item.lang),
                (SentenceRecord(begin, end, vector),),
            )
        )
    return found


BEES = article("abeilles", "Les abeilles font du miel.\n\nLa reine pond des œufs.", outlet="Ruche")
VOLCANOES = article(
    "volcans",
    "Le volcan crache de la lave.\n\nLe magma remonte.",
    outlet="Terre",
    tags=("science", "géologie"),
    published="2024-05-01",
)
CATS = article(
    "chats", "Le chat dort sur le radiateur.", lang="fr", feed="f1", published="2023-01-01"
)


def fill(store: IndexStore) -> None:
    store.write(
        [
            (BEES, records(BEES, [unit(1, 0.1), unit(1, 0.3)])),
            (VOLCANOES, records(VOLCANOES, [unit(0, 1), unit(0.2, 1)])),
            (CATS, records(CATS, [unit(0, 0, 1)])),
        ],
        reset=Reset(META, BACKGROUND),
    )


@pytest.fixture(params=["embedded", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    opened: list[IndexStore] = []
    url = request.getfixturevalue("database_url") if request.param == "postgres" else ""

    def make() -> IndexStore:
        store: IndexStore = PostgresStore(url) if url else EmbeddedStore(tmp_path / "data")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: MakeStore) -> IndexStore:
    made = make_store()
    fill(made)
    return made


# ------------------------------------------------------------------------------ what it holds


def test_a_new_store_is_empty(make_store: MakeStore) -> None:
    empty = make_store()
    assert empty.meta() is None
    assert (empty.counts().articles, empty.counts().passages) == (0, 0)
    assert empty.articles() == [] and empty.article("abeilles") is None
    assert empty.summaries() == []
    assert empty.languages() == ("fr",)


def test_articles_come_back_as_written(store: IndexStore) -> None:
    assert store.meta() == META
    counts = store.counts()
    assert (counts.articles, counts.passages, counts.sentences) == (3, 5, 5)
    assert counts.updated_at is not None
    assert store.article("volcans") == VOLCANOES
    assert {a.id for a in store.articles(["chats", "abeilles", "absent"])} == {"chats", "abeilles"}
    assert sorted(a.id for a in store.articles()) == ["abeilles", "chats", "volcans"]
    assert store.sources()["chats"].sha256 == CATS.sha256
    np.testing.assert_allclose(store.background(), BACKGROUND)


def test_summaries_are_the_articles_without_their_texts(store: IndexStore) -> None:
    summaries = {s.id: s for s in store.summaries()}
    assert summaries["volcans"] == ArticleSummary(
        "volcans",
        "Volcans",
        lang="fr",
        outlet="Terre",
        tags=("science", "géologie"),
        published="2024-05-01",
        chars=len(VOLCANOES.text),
    )
    assert summaries["chats"] == ArticleSummary(
        "chats", "Chats", feed="f1", published="2023-01-01", chars=len(CATS.text)
    )
    assert sorted(summaries) == ["abeilles", "chats", "volcans"]
    store.write([], deletes=["chats"])
    assert sorted(s.id for s in store.summaries()) == ["abeilles", "volcans"]


def test_an_embedded_store_of_schema_1_lists_articles_from_an_index(tmp_path: Path) -> None:
    """Schema 2 adds the index /sources reads, so the rows' long texts are never paged in."""
    store = EmbeddedStore(tmp_path)
    fill(store)
    store.close()
    with sqlite3.connect(tmp_path / "index.sqlite") as db:  # back to schema 1
        db.execute("DROP INDEX articles_listing")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    reopened = EmbeddedStore(tmp_path)
    assert sorted(s.id for s in reopened.summaries()) == ["abeilles", "chats", "volcans"]
    reopened.close()
    with sqlite3.connect(tmp_path / "index.sqlite") as db:
        [(*_, plan)] = db.execute(f"EXPLAIN QUERY PLAN SELECT {SUMMARY_COLUMNS} FROM articles")
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert (plan, version) == ("SCAN articles USING COVERING INDEX articles_listing", ("2",))


def test_languages_most_text_first(store: IndexStore) -> None:
    english = article(
        "bees", "The bees make honey, a great deal of honey, all summer long.", lang="en"
    )
    store.write([(english, records(english, [unit(1, 1)]))])
    assert store.languages() == ("fr", "en")


# ------------------------------------------------------------------------------ retrieval


def test_the_dense_leg_finds_the_nearest_passages(store: IndexStore) -> None:
    found = store.candidates(unit(0, 1), None, dense_k=2, lexical_k=10)
    assert found.article_ids == ("volcans", "volcans")
    assert list(found.ids) == sorted(found.ids)
    text = VOLCANOES.text
    assert [text[s:e] for s, e in zip(found.starts, found.ends, strict=True)] == [
        "Le volcan crache de la lave.",
        "Le magma remonte.",
    ]
    np.testing.assert_allclose(found.vectors[0], unit(0, 1), atol=1e-6)
    assert found.lexical.tolist() == [0.0, 0.0]


def test_the_lexical_leg_scores_every_candidate(store: IndexStore) -> None:
    terms = store.analyse("Que mangent les abeilles ?", "fr")
    assert terms.coverage == pytest.approx(0.5)  # "abeilles" is known, "mangent" is not
    found = store.candidates(unit(0, 0, 1), terms, dense_k=1, lexical_k=5)
    by_article = dict(zip(found.article_ids, found.lexical.tolist(), strict=True))
    assert set(found.article_ids) == {"chats", "abeilles"}
    assert by_article["abeilles"] > 0 and by_article["chats"] == 0.0


def test_coverage_counts_words_the_collection_uses(store: IndexStore) -> None:
    assert store.analyse("volcan lave", "fr").coverage == 1.0
    assert store.analyse("zorglub quantique", "fr").coverage == 0.0
    assert store.analyse("", "fr").tokens == ()


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (Filters(article_ids=frozenset({"chats"})), {"chats"}),
        (Filters(outlets=frozenset({"Terre"})), {"volcans"}),
        (Filters(feeds=frozenset({"f1"})), {"chats"}),
        (Filters(tags=frozenset({"géologie", "autre"})), {"volcans"}),
        (Filters(published_from="2024-01-01"), {"volcans"}),
        (Filters(published_to="2024-01-01"), {"chats"}),
        (Filters(article_ids=frozenset()), set()),
    ],
)
def test_filters_apply_inside_the_query(
    store: IndexStore, filters: Filters, allowed: set[str]
) -> None:
    terms = store.analyse("abeilles volcan chat lave miel", "fr")
    found = store.candidates(unit(1, 0.1), terms, dense_k=2, lexical_k=2, filters=filters)
    assert set(found.article_ids) == allowed
    # A narrow filter still fills the page: the nearest allowed passages, not the nearest overall.
    if allowed == {"volcans"}:
        assert len(found) == 2
    # The article lists (/sources in a scoped group) apply the very same filter.
    assert {s.id for s in store.summaries(filters)} == allowed


def test_sentences_come_in_the_order_asked(store: IndexStore) -> None:
    found = store.candidates(unit(1, 0.1), None, dense_k=5, lexical_k=0)
    ids = list(reversed(found.ids.tolist()))
    sentences = store.sentences(ids)
    assert sentences.ptr.tolist() == list(range(len(ids) + 1))
    spans = {i: s for i, s in zip(ids, sentences.spans, strict=True)}
    for passage_id, start, end in zip(found.ids, found.starts, found.ends, strict=True):
        assert spans[int(passage_id)] == ((start, end),)
    assert sentences.vectors.shape == (len(ids), DIM)


def test_reference_vectors_hold_the_background_and_a_sample(store: IndexStore) -> None:
    reference = store.reference_vectors()
    assert reference.shape == (3 + 5, DIM)
    np.testing.assert_allclose(reference[:3], BACKGROUND)


# ------------------------------------------------------------------------------ changes


def test_an_upsert_replaces_the_whole_article(store: IndexStore) -> None:
    shorter = article("volcans", "Le volcan dort.", outlet="Terre")
    store.write([(shorter, records(shorter, [unit(0, 1)]))])
    assert store.counts().passages == 4
    found = store.candidates(unit(0, 1), store.analyse("magma", "fr"), dense_k=10, lexical_k=10)
    volcano_spans = [
        (s, e)
        for a, s, e in zip(found.article_ids, found.starts, found.ends, strict=True)
        if a == "volcans"
    ]
    assert volcano_spans == [(0, len(shorter.text))]
    assert store.analyse("magma", "fr").coverage == 0.0  # its words went with it


def test_a_delete_removes_everything_of_the_article(store: IndexStore) -> None:
    store.write([], ["abeilles", "absent"])
    assert store.article("abeilles") is None and store.counts().passages == 3
    found = store.candidates(unit(1, 0.1), store.analyse("abeilles miel", "fr"), 10, 10)
    assert "abeilles" not in found.article_ids
    assert "abeilles" not in store.sources()


def test_a_failed_write_changes_nothing(store: IndexStore) -> None:
    bad = article("chats", "Un autre chat.")
    wrong = PassageRecord(0, len(bad.text), np.ones(3, np.float32), "chat", ())
    with pytest.raises(IndexFailure, match="dimension"):
        store.write([(bad, [wrong])], ["abeilles"])
    assert store.article("chats") == CATS and store.article("abeilles") == BEES
    assert store.counts().passages == 5
    assert "abeilles" in store.candidates(unit(1, 0.1), None, 5, 0).article_ids


def test_a_first_write_must_say_which_model(make_store: MakeStore) -> None:
    with pytest.raises(IndexFailure, match="a first write must reset it"):
        make_store().write([(CATS, records(CATS, [unit(1)]))])


def test_a_reset_empties_the_store_for_another_model(store: IndexStore) -> None:
    other = StoreMeta("other-model", DIM, 700, 1)
    store.write([(CATS, records(CATS, [unit(1)]))], reset=Reset(other, BACKGROUND[:1]))
    assert store.meta() == other and store.counts().articles == 1
    assert store.candidates(unit(1), None, 5, 0).article_ids == ("chats",)


# ------------------------------------------------------------------------------ several processes


def test_a_second_process_sees_every_change(make_store: MakeStore) -> None:
    writer, reader = make_store(), make_store()
    fill(writer)
    assert set(reader.candidates(unit(1, 0.1), None, 10, 0).article_ids) == {
        "abeilles",
        "volcans",
        "chats",
    }
    writer.write([], ["chats"])
    lion = article("lions", "Le lion rugit.")
    writer.write([(lion, records(lion, [unit(1, 0.2)]))])
    found = reader.candidates(unit(1, 0.2), None, 10, 0)
    assert set(found.article_ids) == {"abeilles", "volcans", "lions"}
    assert reader.article("lions") == lion and reader.article("chats") is None


def test_readers_see_before_or_after_a_write_never_half(store: IndexStore) -> None:
    many = [article(f"a{n:03d}", f"Texte numéro {n}.") for n in range(60)]
    stop = threading.Event()
    seen: set[int] = set()

    def read() -> None:
        while not stop.is_set():
            seen.add(store.counts().articles)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        store.write((item, records(item, [unit(1, n / 60)])) for n, item in enumerate(many))
    finally:
        stop.set()
        reader.join()
    assert seen <= {3, 63}


# ------------------------------------------------------------------------------ the vector cache


def test_the_cache_keeps_vectors_by_key(make_store: MakeStore) -> None:
    cache = make_store()
    cache.cache_vectors([("k1", unit(1)), ("k2", unit(0, 1))])
    found = cache.cached_vectors(["k1", "k2", "k3"], DIM)
    assert found.keys() == {"k1", "k2"}
    np.testing.assert_allclose(found["k2"], unit(0, 1))
    assert cache.cached_vectors(["k1"], DIM + 1) == {}  # another model's dimension
    assert dict(cache.export_cache()).keys() == {"k1", "k2"}


def test_export_gives_back_what_was_written(store: IndexStore) -> None:
    exported = dict(store.export())
    assert set(exported) == {BEES, VOLCANOES, CATS}
    passages = exported[VOLCANOES]
    assert [(p.start, p.end) for p in passages] == [(0, 28), (30, 47)]
    np.testing.assert_allclose(passages[1].vector, unit(0.2, 1), atol=1e-6)
    assert passages[0].sentences[0].start == 0


def test_the_commonest_words_are_known_but_not_searched(
    store: IndexStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scaled down: a word in more than one passage is "common" here, as one in more than
    # LEXICAL_MAX_DF (20,000) passages is in a real store.
    monkeypatch.setattr("index.stores.base.LEXICAL_MAX_DF", 1)  # both backends' analyse
    terms = store.analyse("abeilles reine", "fr")  # "abeilles" is in both bee passages' titles
    assert terms.coverage == 1.0
    assert terms.tokens == ("rein",)


def test_candidates_carry_their_sentences(store: IndexStore) -> None:
    terms = store.analyse("abeilles volcan chat lave miel", "fr")
    found = store.candidates(unit(1, 0.1), terms, dense_k=5, lexical_k=5)
    assert found.sentences is not None and len(found) == 5
    asked = store.sentences(found.ids.tolist())
    assert found.sentences.spans == asked.spans
    assert found.sentences.ptr.tolist() == asked.ptr.tolist()
    np.testing.assert_array_equal(found.sentences.vectors, asked.vectors)


def test_an_article_read_again_is_the_one_written_since(make_store: MakeStore) -> None:
    writer, reader = make_store(), make_store()
    fill(writer)
    assert reader.article("chats") == CATS and len(reader.articles(["chats", "volcans"])) == 2
    calmer = article("chats", "Le chat ronronne.")
    writer.write([(calmer, records(calmer, [unit(0, 0, 1)]))])
    assert reader.article("chats") == calmer
    assert {a.text for a in reader.articles(["chats", "volcans", "absent"])} == {
        calmer.text,
        VOLCANOES.text,
    }
