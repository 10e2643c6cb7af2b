"""PostgreSQL behind several bot processes: what one replica changes, every replica answers.

Each "replica" is its own ``IndexService`` and ``ArticleCollection`` (own connection pool) over
one database of the real server that ``tests/support/pg.py`` starts; the store contract itself runs
on both backends in ``tests/index/stores/test_stores.py``. The e5 model answers where answers are
compared (``migrate``); elsewhere the hashing embedder keeps the tests fast.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from index.collection.folder import ArticleCollection
from index.errors import IndexFailure, StorageUnavailableError
from index.retrieval.embed import Embedder
from index.service import IndexService
from index.settings import IndexSettings
from index.stores.postgres import PostgresStore, postings, public_url
from index.tools.cli import main
from tests.support.pgproxy import PgProxy

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_7774940a137d78f0.txt"
VOLCANO = "Les volcans\n\nUn volcan entre en éruption quand le magma remonte vers la surface.\n"
GLACIER = "Les glaciers\n\nLes glaciers des Alpes fondent chaque été un peu plus vite.\n"
BEES = "Les abeilles\n\nLes abeilles domestiques produisent le miel de la ruche.\n"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"  # one folder shared by the replicas (a shared volume)
    folder.mkdir()
    (folder / "volcans.txt").write_text(VOLCANO, encoding="utf-8")
    return folder


@pytest.fixture
def replicas(seeds: Path, database_url: str, tmp_path: Path) -> Iterator[list[ArticleCollection]]:
    made: list[ArticleCollection] = []
    for n in range(2):
        settings = IndexSettings(
            seeds_dir=seeds,
            data_dir=tmp_path / f"data-{n}",
            embedding_model="hashing-128",
            database_url=SecretStr(database_url),
        )
        made.append(ArticleCollection(settings, IndexService(settings)))
    made[0].service.rebuild()
    yield made
    for collection in made:
        collection.service.close()


def ids(collection: ArticleCollection) -> set[str]:
    return {a.id for a in collection.service.articles()}


def test_an_add_through_one_replica_is_answered_by_the_other(
    replicas: list[ArticleCollection],
) -> None:
    first, second = replicas
    assert ids(second) == {"volcans"}
    first.add_bytes("glaciers.txt", GLACIER.encode())
    answer = second.service.ask("Que font les glaciers des Alpes chaque été ?")
    assert answer.quotes[0].article_id == "glaciers"
    assert "fondent chaque été" in answer.quotes[0].text
    second.remove("glaciers")
    assert ids(first) == {"volcans"}


def test_nul_leaves_every_field_of_an_article_before_the_database(
    replicas: list[ArticleCollection],
) -> None:
    first, second = replicas  # PostgreSQL refuses NUL (0x00) in text
    record = {
        "title": "Les\x00 glaciers",
        "text": "Les glaciers des Alpes\x00 fondent chaque été un peu plus vite.",
        "url": "https://journal.example/\x00glaciers",
        "date": "2024-03-05\x00",
        "outlet": "Le\x00 Journal",
        "feed": "f\x001",
        "tags": ["clim\x00at", "\x00"],
    }
    first.add_bytes("glaciers.json", json.dumps(record).encode())
    stored = second.service.article("glaciers")
    assert stored is not None
    assert (stored.title, stored.url, stored.published, stored.outlet, stored.feed) == (
        "Les glaciers",
        "https://journal.example/glaciers",
        "2024-03-05",
        "Le Journal",
        "f1",
    )
    assert stored.tags == ("climat",) and "\x00" not in stored.text


def test_two_admins_adding_at_once_through_two_replicas_are_both_kept(
    replicas: list[ArticleCollection],
) -> None:
    errors: list[BaseException] = []

    def add(collection: ArticleCollection, name: str, text: str) -> None:
        try:
            for n in range(5):
                collection.add_bytes(f"{name}-{n}.txt", text.replace("Les", f"Les {n}").encode())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=add, args=(replicas[0], "glaciers", GLACIER)),
        threading.Thread(target=add, args=(replicas[1], "abeilles", BEES)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = (
        {"volcans"} | {f"glaciers-{n}" for n in range(5)} | {f"abeilles-{n}" for n in range(5)}
    )
    assert ids(replicas[0]) == ids(replicas[1]) == expected
    assert replicas[1].service.rebuild().added == 0  # the folder and the index agree


def test_a_reindex_in_one_replica_never_shows_the_other_half_an_index(
    replicas: list[ArticleCollection], seeds: Path
) -> None:
    first, second = replicas
    for n in range(40):
        (seeds / f"article-{n:02d}.txt").write_text(
            f"Article {n}\n\nLe paragraphe numéro {n} parle de la lave et du magma.\n",
            encoding="utf-8",
        )
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(second.service.store.counts().articles)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        first.service.rebuild()
    finally:
        stop.set()
        reader.join()
    assert seen <= {1, 41}


def test_another_models_index_is_refused_with_reindex(
    replicas: list[ArticleCollection], seeds: Path, database_url: str, tmp_path: Path
) -> None:
    other = IndexService(
        IndexSettings(
            seeds_dir=seeds,
            data_dir=tmp_path / "other",
            embedding_model="hashing-64",
            database_url=SecretStr(database_url),
        )
    )
    try:
        with pytest.raises(IndexFailure, match="reindex"):
            other.ask("Quand un volcan entre-t-il en éruption ?")
    finally:
        other.close()


def test_migrate_copies_an_embedded_index_without_embedding_again(
    tmp_path: Path,
    database_url: str,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds)
    embedded = IndexSettings(seeds_dir=seeds, data_dir=tmp_path / "data")
    local = IndexService(embedded, embedder)
    local.rebuild()
    question = "Qui a ordonné de tirer sur les manifestants ?"
    before = local.ask(question)
    local.close()
    monkeypatch.setenv("SEEDS_DIR", str(seeds))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    assert main(["migrate", "--to", database_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("copied 1 article, 10 passages and ")
    assert out.rstrip().endswith("nothing was embedded")

    remote = IndexService(
        embedded.model_copy(update={"database_url": SecretStr(database_url)}), embedder
    )
    try:
        assert remote.rebuild().embedded == 0  # the articles and the cache came along
        after = remote.ask(question)
    finally:
        remote.close()
    assert [(q.article_id, q.start, q.end) for q in after.quotes] == [
        (q.article_id, q.start, q.end) for q in before.quotes
    ]
    assert [q.score for q in after.quotes] == pytest.approx(
        [q.score for q in before.quotes], abs=1e-4
    )


def test_migrate_brings_the_readers_records_and_a_group_keeps_its_scope(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.chat.session import ChatSession
    from index.stores.readers import Gap, Scope, Turn, Vote, now_iso, open_readers

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, outlet, text in (
        ("volcans.json", "Le Journal", VOLCANO),
        ("glaciers.json", "La Gazette", GLACIER),
    ):
        title, body = text.split("\n\n")
        record = {"title": title, "outlet": outlet, "text": body}
        (seeds / name).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    embedded = IndexSettings(
        seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128"
    )
    IndexService(embedded).rebuild()
    readers = open_readers(embedded)
    readers.set_scope(-100, Scope(outlets=("La Gazette",)))
    readers.vote(Vote("Pourquoi ?", "p", -1, readers.voter_key(7), now_iso()))
    readers.record_gap(Gap("Comment faire des crêpes ?", "declined", "fr", now_iso()))
    readers.remember(Turn(7, "Que font les glaciers ?", ("glaciers",), now_iso()))
    readers.close()
    for name, value in (("SEEDS_DIR", seeds), ("DATA_DIR", tmp_path / "data")):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    assert main(["migrate", "--to", database_url]) == 0

    remote = embedded.model_copy(update={"database_url": SecretStr(database_url)})
    service = IndexService(remote)
    readers = open_readers(remote)
    try:
        assert readers.scope(-100) == Scope(outlets=("La Gazette",))
        assert [g.question for g in readers.gaps("")] == ["Comment faire des crêpes ?"]
        assert [v.voter for v in readers.votes(["p"], "")] == [readers.voter_key(7)]
        assert readers.last_turn(7) is not None
        session = ChatSession(service, readers, follow_up_seconds=0)
        asked = session.ask(-100, "Un volcan entre-t-il en éruption ?")
        assert {q.article_id for q in asked.answer.quotes} <= {"glaciers"}  # its scope holds
    finally:
        readers.close()
        service.close()


def test_the_password_stays_out_of_the_location() -> None:
    assert (
        public_url("postgresql://bot:s3cret@db:5433/articles")
        == "postgresql://bot@db:5433/articles"
    )
    assert public_url("postgresql:///articles?host=/tmp") == "postgresql:///articles?host=/tmp"


def test_an_unreachable_database_is_named() -> None:
    with pytest.raises(
        IndexFailure, match=r"^cannot reach the database at postgresql://bot@127\.0\.0\.1:9/x"
    ):
        PostgresStore("postgresql://bot:pw@127.0.0.1:9/x?connect_timeout=2")


def test_stems_are_indexed_as_written() -> None:
    # Taken as they are (no text search parser splitting "co-op" or "3.5" its own way), so
    # both stores rank the same terms.
    assert postings("l'eau co-op 3.5 abeil abeil") == (
        {"l'eau": 1, "co-op": 1, "3.5": 1, "abeil": 2},
        5,
    )


def test_a_common_word_reads_its_best_postings_and_candidates_are_scored_exactly(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without filters, each word's best ``LEXICAL_TOP_POSTINGS`` postings choose the lexical
    candidates; the scores are the exact BM25 all the same (compared with no bound at all)."""
    import numpy as np

    from index.models import Article
    from index.retrieval.lexical import passage_tokens
    from index.stores import postgres
    from index.stores.base import PassageRecord, Reset, SentenceRecord, StoreMeta

    dim = 4
    store = PostgresStore(database_url)
    texts = [f"Le miel numéro {n}." + " miel" * (n % 3) for n in range(12)]
    texts.append("La ruche et le miel.")
    vector = np.eye(dim, dtype=np.float32)[0]
    items = []
    for n, text in enumerate(texts):
        item = Article(id=f"a{n}", title=f"A{n}", text=text, sha256=f"h{n}")
        tokens = passage_tokens(item.title, text, "fr")
        items.append(
            (
                item,
                [
                    PassageRecord(
                        0, len(text), vector, tokens, (SentenceRecord(0, len(text), vector),)
                    )
                ],
            )
        )
    store.write(items, reset=Reset(StoreMeta("m", dim, 700, 1), np.eye(dim, dtype=np.float32)[:1]))
    terms = store.analyse("miel ruche", "fr")

    exact = store.candidates(vector, terms, dense_k=0, lexical_k=3)
    monkeypatch.setattr(postgres, "LEXICAL_TOP_POSTINGS", 2)
    bounded = store.candidates(vector, terms, dense_k=0, lexical_k=3)
    store.close()

    # The passage with the rare word is found either way, first, with the same score.
    assert exact.article_ids[int(np.argmax(exact.lexical))] == "a12"
    assert bounded.article_ids[int(np.argmax(bounded.lexical))] == "a12"
    exact_scores = dict(zip(exact.article_ids, exact.lexical.tolist(), strict=True))
    for article_id, score in zip(bounded.article_ids, bounded.lexical.tolist(), strict=True):
        assert score == pytest.approx(exact_scores.get(article_id, score))
    assert len(bounded.article_ids) == 3


def test_an_embed_worker_elsewhere_fills_the_shared_cache(
    seeds: Path,
    database_url: str,
    tmp_path: Path,
    capsys,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from index.tools.cli import main

    (seeds / "glaciers.txt").write_text(GLACIER, encoding="utf-8")
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    monkeypatch.setenv("DATABASE_URL", database_url)
    # The worker's machine: its own DATA_DIR, the bot's database.
    assert main(["embed-worker", str(seeds), "--data", str(tmp_path / "worker")]) == 0
    assert capsys.readouterr().out.startswith("2 new articles: embedded ")
    settings = IndexSettings(
        seeds_dir=seeds,
        data_dir=tmp_path / "bot",
        embedding_model="hashing-128",
        database_url=SecretStr(database_url),
    )
    service = IndexService(settings)
    report = service.rebuild()
    assert (report.articles, report.embedded) == (2, 0)
    service.close()


def test_a_follow_up_asked_through_another_replica_leans_on_the_first(
    replicas: list[ArticleCollection], database_url: str
) -> None:
    from index.chat.session import ChatSession
    from index.stores.reader_key import ReaderKey
    from index.stores.readers import PostgresReaderStore

    first = replicas[0]
    first.add_bytes("glaciers.txt", GLACIER.encode())
    key = ReaderKey(replicas[0].service.settings.data_dir / "readers.key")  # a shared DATA_DIR
    stores = [PostgresReaderStore(database_url, key) for _ in replicas]
    sessions = [
        ChatSession(c.service, s, follow_up_seconds=300)
        for c, s in zip(replicas, stores, strict=True)
    ]
    asked = sessions[0].ask(7, "Que font les glaciers des Alpes chaque été ?")
    assert asked.answer.quotes[0].article_id == "glaciers"
    after = sessions[1].ask(7, "Et chaque été ?")  # another replica answers the next message
    assert after.answer.follow_up_of == "Que font les glaciers des Alpes chaque été ?"
    assert after.answer.quotes[0].article_id == "glaciers"
    assert stores[1].last_turn(7) is not None
    for store in stores:
        store.close()


# ------------------------------------------------------------------------------ the database lost


def test_a_change_with_the_database_down_is_a_storage_failure_and_the_store_comes_back(
    seeds: Path, database_url: str, tmp_path: Path
) -> None:
    proxy = PgProxy(database_url)  # the database, behind a door the test closes
    settings = IndexSettings(
        seeds_dir=seeds,
        data_dir=tmp_path / "data",
        embedding_model="hashing-128",
        database_url=SecretStr(proxy.url),
    )
    store = PostgresStore(proxy.url, wait=1)
    collection = ArticleCollection(settings, IndexService(settings, store=store))
    try:
        collection.service.rebuild()
        proxy.close()
        with pytest.raises(StorageUnavailableError) as raised:
            collection.add_bytes("glaciers.txt", GLACIER.encode())
        assert str(raised.value) == (
            f"cannot reach the database at {store.location} "
            "(couldn't get a connection after 1.00 sec): nothing was changed"
        )
        assert not (seeds / "glaciers.txt").exists()  # a file that is not indexed is not kept
        proxy.open()
        collection.add_bytes("glaciers.txt", GLACIER.encode())
        assert ids(collection) == {"volcans", "glaciers"}
    finally:
        proxy.close()
        collection.service.close()


def test_connections_the_server_ended_are_replaced_before_use(
    replicas: list[ArticleCollection], database_url: str
) -> None:
    here = replicas[0]
    assert ids(here) == {"volcans"}  # the pool holds a connection now
    with psycopg.connect(database_url, autocommit=True) as db:  # a restart, as the pool sees it
        ended = db.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert ended is not None and ended[0] >= 1
    assert ids(here) == {"volcans"}  # not an error for the first request after it
