"""The readers' store on both backends (SQLite, a real PostgreSQL), follow-up questions in
a chat session, and the follow-up rules on plain data."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from index.chat.followup import is_follow_up, joined_subject, leans_on_previous, led_by_own_ranking
from index.errors import ReaderKeyError
from index.models import Answer, Quote
from index.retrieval.confidence import Evidence
from index.stores.reader_key import ReaderKey
from index.stores.readers import (
    Gap,
    PostgresReaderStore,
    ReaderStore,
    Scope,
    SqliteReaderStore,
    Turn,
    Vote,
)

MakeReaders = Callable[..., ReaderStore]


class Storage:
    """Where the readers' records are (a SQLite file, a PostgreSQL database), read and written
    behind the store's back: to plant an old schema, to look at what is kept."""

    def __init__(self, folder: Path, url: str) -> None:
        self.path = folder / "readers.sqlite"
        self.key_path = folder / "readers.key"
        self.url = url

    def open(self, key: ReaderKey | None = None) -> ReaderStore:
        key = key or ReaderKey(self.key_path)
        if self.url:
            return PostgresReaderStore(self.url, key)
        return SqliteReaderStore(self.path, key)

    def run(self, statement: str, rows: list[tuple[Any, ...]] | None = None) -> None:
        if self.url:
            import psycopg

            with psycopg.connect(self.url) as db:
                db.cursor().executemany(statement.replace("?", "%s"), rows or [()])
        else:
            with sqlite3.connect(self.path) as db:
                db.executemany(statement, rows or [()])
            db.close()

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        if self.url:
            import psycopg

            with psycopg.connect(self.url) as db:
                return [tuple(r) for r in db.execute(query).fetchall()]
        with sqlite3.connect(self.path) as db:
            found = [tuple(r) for r in db.execute(query).fetchall()]
        db.close()
        return found


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    url = request.getfixturevalue("database_url") if request.param == "postgres" else ""
    return Storage(tmp_path, url)


@pytest.fixture
def make_readers(storage: Storage) -> Iterator[MakeReaders]:
    """Opens the readers' store; two opens are two replicas of one storage (and one DATA_DIR,
    whose readers.key they share unless ``key`` says otherwise)."""
    opened: list[ReaderStore] = []

    def make(key: ReaderKey | None = None) -> ReaderStore:
        store = storage.open(key)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def test_turns_are_one_per_chat_and_shared_by_replicas(make_readers: MakeReaders) -> None:
    one, two = make_readers(), make_readers()
    assert one.last_turn(42) is None
    one.remember(Turn(42, "Qui est Tokaïev ?", ("seed",), "2026-12-01T09:00:00Z"))
    two.remember(Turn(42, "Et Nazarbaïev ?", ("seed", "autre"), "2026-12-01T09:01:00Z"))
    assert one.last_turn(42) == Turn(
        42, "Et Nazarbaïev ?", ("seed", "autre"), "2026-12-01T09:01:00Z"
    )
    assert one.last_turn(-1001234567890) is None  # group ids need 64 bits


def test_votes_count_one_per_reader_and_keep_no_user_id(make_readers: MakeReaders) -> None:
    one, two = make_readers(), make_readers()
    voter = one.voter_key(123456789)
    assert voter == two.voter_key(123456789) != one.voter_key(987654321)
    assert "123456789" not in voter
    one.vote(Vote("q", "p1", -1, voter, "2026-12-01T09:00:00Z"))
    two.vote(Vote("q", "p1", +1, voter, "2026-12-01T09:05:00Z"))  # changed their mind
    one.vote(Vote("q", "p1", -1, one.voter_key(2), "2026-12-01T09:06:00Z"))
    one.vote(Vote("q", "p2", -1, one.voter_key(2), "2026-12-01T09:06:00Z"))
    got = sorted((v.passage, v.value, v.voter == voter) for v in one.votes(["p1"], "2026-01-01"))
    assert got == [("p1", -1, False), ("p1", 1, True)]
    assert one.votes(["p1"], "2026-12-02") == []
    assert one.disliked("2026-01-01") == [("q", "p2", -1)]


def test_gaps_scopes_and_retention(make_readers: MakeReaders) -> None:
    store = make_readers()
    store.record_gap(
        Gap("Comment faire une pâte à crêpes ?", "declined", "fr", "2026-11-01T00:00:00Z")
    )
    store.record_gap(Gap("Pourquoi ?", "closest", "fr", "2026-12-01T00:00:00Z"))
    assert [g.question for g in store.gaps("2026-11-15")] == ["Pourquoi ?"]
    assert store.scope(-100) == Scope()
    store.set_scope(-100, Scope(outlets=("Le Journal",), tags=("sport",)))
    assert store.scope(-100) == Scope(outlets=("Le Journal",), tags=("sport",))
    store.set_scope(-100, Scope())
    assert store.scope(-100) == Scope()
    store.remember(Turn(1, "q", (), "2026-10-01T00:00:00Z"))
    assert store.purge("2026-11-15T00:00:00Z") == 2  # the old gap and the old turn
    assert store.last_turn(1) is None and len(store.gaps("2000")) == 1


NOW = datetime(2026, 12, 1, 9, 2, tzinfo=UTC)
BEFORE = Turn(1, "Pourquoi les manifestations ont-elles commencé ?", ("a",), "2026-12-01T09:00:00Z")


@pytest.mark.parametrize(
    ("question", "replied", "seconds", "expected"),
    [
        ("Et à Almaty ?", False, 300, True),
        ("Et à Almaty ?", False, 60, False),  # too late
        ("Et à Almaty ?", True, 60, True),  # a reply always may
        ("Et à Almaty ?", False, 0, False),  # follow-ups off
        (
            "Combien de morts y a-t-il eu dans les affrontements à Almaty la semaine dernière ?",
            False,
            300,
            False,
        ),
    ],
)
def test_what_may_be_a_follow_up(
    question: str, replied: bool, seconds: int, expected: bool
) -> None:
    assert is_follow_up(question, BEFORE, NOW, seconds, replied) is expected
    assert not is_follow_up(question, None, NOW, seconds, replied)


@pytest.mark.parametrize(
    ("question", "lean"),
    [
        ("Et à Almaty ?", 1.0),
        ("What about the oil price?", 1.0),
        ("¿Y el petróleo?", 1.0),
        ("Und wie viele wurden verhaftet?", 1.0),
        ("Which other countries?", 1.0),  # "other" leans on the last answer
        ("Pourquoi ?", 1.0),  # no subject of its own
        ("Why?", 1.0),
        ("Who is Ablyazov?", 0.0),  # short, but its own subject
        ("morts ?", 0.0),
        ("Der Uranpreis?", 0.0),
        ("Where did he get asylum?", 0.5),
        ("Qu'a-t-il déclaré ?", 0.5),  # an inversion whose subject is the pronoun
        ("Quel article de l'OTSC Tokaïev a-t-il activé ?", 0.0),  # an inversion, not a pointer
        ("Combien d'espèces d'abeilles sont répertoriées ?", 0.0),
    ],
)
def test_how_a_question_leans_on_the_last_one(question: str, lean: float) -> None:
    assert leans_on_previous(question) == lean


def test_a_long_subject_keeps_its_latest_words() -> None:
    assert joined_subject("a " * 300, "Et b ?").endswith("a Et b ?")
    assert len(joined_subject("a " * 300, "Et b ?")) <= 400


def test_votes_adjust_only_with_three_readers_fade_and_stay_with_their_question() -> None:
    from dataclasses import replace

    from index.chat.feedback import adjustments

    now = datetime(2026, 12, 1, tzinfo=UTC)
    question = "Qui a ordonné de tirer sur les manifestants ?"
    votes = [Vote(question, "p", -1, f"r{n}", "2026-12-01T00:00:00Z") for n in range(3)]
    assert adjustments(question, votes, now) == {"p": -0.1}
    assert adjustments("Quel est le prix de l'uranium ?", votes, now) == {}
    assert adjustments(question, [replace(v, voter="r0") for v in votes], now) == {}
    faded = [replace(v, at="2026-09-02T00:00:00Z") for v in votes]  # 90 days: an eighth
    assert adjustments(question, faded, now) == {"p": -0.0125}
    mixed = [*votes[:2], replace(votes[2], value=1)]
    assert adjustments(question, mixed, now) == {"p": round(-0.1 / 3, 4)}


def test_feedback_reorders_the_quotes_it_is_given_and_adds_none(tmp_path: Path) -> None:
    from index.chat.feedback import passage_hash
    from index.service import IndexService
    from index.settings import IndexSettings

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n, text in enumerate(
        [
            "Le volcan du nord entre en éruption.",
            "Le volcan du sud entre en éruption.",
            "Le volcan de l'est entre en éruption.",
        ]
    ):
        (seeds / f"v{n}.txt").write_text(f"Volcan {n}\n\n{text}", encoding="utf-8")
    settings = IndexSettings(
        seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128", min_score=0.01
    )
    service = IndexService(settings)
    service.rebuild()
    plain = service.ask("Le volcan entre-t-il en éruption ?", k=5)
    first = plain.quotes[0]
    demoted = service.ask(
        "Le volcan entre-t-il en éruption ?",
        k=5,
        feedback=lambda hashes: {passage_hash(first.text): -1.0},
    )
    assert demoted.quotes[0] != first and first in [*demoted.quotes, *demoted.more]
    # Nothing added: the same passages, shown first or behind More.
    assert {q.text for q in [*demoted.quotes, *demoted.more]} == {
        q.text for q in [*plain.quotes, *plain.more]
    }


def test_answers_shown_are_shared_by_replicas_for_more_and_context(
    make_readers: MakeReaders, tmp_path: Path
) -> None:
    from index.chat.session import ChatSession
    from index.errors import AnswerExpiredError, PageSpentError
    from index.service import IndexService
    from index.settings import IndexSettings

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n in range(6):
        (seeds / f"v{n}.txt").write_text(
            f"Volcan {n}\n\nLe volcan numéro {n} entre en éruption ce matin.", encoding="utf-8"
        )
    settings = IndexSettings(
        seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128", min_score=0.01
    )
    service = IndexService(settings)
    service.rebuild()
    one = ChatSession(service, make_readers(), per_chat=2)
    two = ChatSession(service, make_readers(), per_chat=2)
    page = one.ask(-5, "Quel volcan entre en éruption ce matin ?")
    assert page.has_more
    assert two.page_of(-5, page.key).answer.quotes == page.answer.quotes
    assert two.context(-5, page.key, 1).article_id == page.answer.quotes[0].article_id
    following = two.more(-5, page.key)
    assert following.first == len(page.answer.quotes) and following.answer.quotes
    with pytest.raises(PageSpentError):
        one.more(-5, page.key)  # its More was used on the other replica
    one.ask(-5, "Un volcan ?")
    one.ask(-5, "Deux volcans ?")  # the chat keeps its 2 latest pages
    with pytest.raises(AnswerExpiredError):
        two.page_of(-5, page.key)


def test_an_answer_keeps_its_language_for_its_buttons_on_every_replica(
    make_readers: MakeReaders, tmp_path: Path
) -> None:
    """The reply's language is kept with its page: a button pressed on another replica, or
    by another reader, answers in the language of the answer it is under."""
    from index.chat.session import ChatSession
    from index.service import IndexService
    from index.settings import IndexSettings

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n in range(6):
        (seeds / f"v{n}.txt").write_text(
            f"Volcan {n}\n\nLe volcan numéro {n} entre en éruption ce matin.", encoding="utf-8"
        )
    settings = IndexSettings(
        seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128", min_score=0.01
    )
    service = IndexService(settings)
    service.rebuild()
    one = ChatSession(service, make_readers())
    two = ChatSession(service, make_readers())
    page = one.ask(-5, "¿Qué volcán entra en erupción esta mañana?", lang="es")
    assert page.lang == "es" and page.has_more
    assert two.page_of(-5, page.key).lang == "es"
    following = two.more(-5, page.key)
    assert following.lang == "es" and two.page_of(-5, following.key).lang == "es"
    # A page kept by an older version has no language: the presser's is used then.
    readers = make_readers()
    readers.put_page(-5, "old_page", '{"question": "q", "quotes": [], "first": 0, '
                     '"has_more": false, "spent": false, "filters": null}', "t", 5)  # fmt: skip
    assert two.page_of(-5, "old_page").lang == ""


def _quote(article: str, start: int, text: str = "x") -> Quote:
    return Quote(article, "t", None, text, start, start + 10, start, start + 1, 0.5)


def _answer(*quotes: Quote, same_language: bool = True) -> Answer:
    evidence = Evidence(0.2, 0.8, 0.7, 0.1, 0.1, 1.0, 0.05, float(same_language))
    return Answer("q", quotes[:2], more=quotes[2:], evidence=evidence)


def test_a_joined_answer_is_led_by_a_passage_the_question_alone_ranks_high() -> None:
    order, toll, other = _quote("a", 0), _quote("a", 100), _quote("b", 0)
    joined = _answer(order, other, toll)
    # The question alone ranks the toll first and the joined first passage third: it leads.
    led = led_by_own_ranking(joined, _answer(toll, other, order))
    assert [*led.quotes, *led.more] == [toll, order, other]
    assert len(led.quotes) == 2
    # Second alone is near enough: the joined order stays.
    assert led_by_own_ranking(joined, _answer(other, order, toll)) == joined
    # Another language's ranking (no lexical leg) or no ranking at all changes nothing.
    assert led_by_own_ranking(joined, _answer(toll, other, order, same_language=False)) == joined
    assert led_by_own_ranking(joined, Answer("q", ())) == joined


# ------------------------------------------------------------------------------ issue 22

# The tables as version 1 made them (before the schema version), verbatim.
V1_TABLES = [
    "CREATE TABLE IF NOT EXISTS reader_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reader_turns (chat_id {big} PRIMARY KEY, question TEXT NOT NULL,"
    " article_ids TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reader_votes (question TEXT NOT NULL, passage TEXT NOT NULL,"
    " value INTEGER NOT NULL, voter TEXT NOT NULL, at TEXT NOT NULL,"
    " PRIMARY KEY (passage, voter, question))",
    "CREATE INDEX IF NOT EXISTS reader_votes_at ON reader_votes (at)",
    "CREATE TABLE IF NOT EXISTS reader_gaps (question TEXT NOT NULL, outcome TEXT NOT NULL,"
    " lang TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reader_gaps_at ON reader_gaps (at)",
    "CREATE TABLE IF NOT EXISTS reader_scopes (chat_id {big} PRIMARY KEY, scope TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reader_pages (chat_id {big} NOT NULL, key TEXT NOT NULL,"
    " payload TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (chat_id, key))",
    "CREATE INDEX IF NOT EXISTS reader_pages_at ON reader_pages (at)",
]
OLD_KEY = "5e" * 32


def old_pseudonym(user_id: int) -> str:
    """Version 1's voter hash, with the key it kept in the database."""
    import hashlib
    import hmac

    return hmac.new(bytes.fromhex(OLD_KEY), str(user_id).encode(), hashlib.sha256).hexdigest()[:32]


def test_an_old_schema_is_upgraded_in_place(storage: Storage) -> None:
    for statement in V1_TABLES:
        storage.run(statement.format(big="BIGINT" if storage.url else "INTEGER"))
    storage.run("INSERT INTO reader_meta VALUES (?, ?)", [("voter_key", OLD_KEY)])
    votes = [  # one reader rewording: a row per question; their latest on p1 is +1
        (f"Qui a tiré ? ({n})", "p1", -1 if n < 4 else 1, old_pseudonym(7), f"2026-12-01T0{n}:00Z")
        for n in range(5)
    ] + [("Qui a tiré ?", "p1", -1, old_pseudonym(8), "2026-12-01T02:00Z")]
    storage.run("INSERT INTO reader_votes VALUES (?, ?, ?, ?, ?)", votes)
    storage.run(
        "INSERT INTO reader_gaps VALUES (?, ?, ?, ?)", [("Pourquoi ?", "declined", "fr", "t")]
    )
    storage.run(
        "INSERT INTO reader_scopes VALUES (?, ?)",
        [(-100, '{"outlets": ["Le Journal"], "feeds": [], "tags": []}')],
    )
    storage.run("INSERT INTO reader_turns VALUES (?, ?, ?, ?)", [(123456789, "q", "[]", "t")])
    storage.run("INSERT INTO reader_pages VALUES (?, ?, ?, ?)", [(123456789, "k", "{}", "t")])

    store = storage.open()
    try:
        kept = sorted((v.voter, v.question, v.value) for v in store.votes(["p1"], ""))
        assert kept == [
            (old_pseudonym(7), "Qui a tiré ? (4)", 1),
            (old_pseudonym(8), "Qui a tiré ?", -1),
        ]
        assert store.voter_key(7) == old_pseudonym(7)  # the key came along: votes count once
        assert [g.question for g in store.gaps("")] == ["Pourquoi ?"]
        assert store.scope(-100) == Scope(outlets=("Le Journal",))
        assert store.last_turn(123456789) is None  # turns and pages were dropped
        store.vote(Vote("Qui a tiré ?", "p1", -1, store.voter_key(7), "2026-12-02T00:00Z"))
        assert len(store.votes(["p1"], "")) == 2
    finally:
        store.close()
    assert storage.key_path.read_text().strip() == OLD_KEY
    assert stat.S_IMODE(storage.key_path.stat().st_mode) == 0o600
    meta = dict(storage.rows("SELECT key, value FROM reader_meta"))
    assert meta["schema"] == "3" and "voter_key" not in meta
    assert OLD_KEY not in repr(meta)
    store = storage.open()  # opening again changes nothing
    assert store.voter_key(7) == old_pseudonym(7) and len(store.votes(["p1"], "")) == 2
    store.close()


def test_a_version_2_store_gets_the_gaps_scope(storage: Storage) -> None:
    # Issue 23, item 9: a scoped group's gap is its scope's; version 2's gaps had no scope.
    storage.run(
        "CREATE TABLE reader_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )
    storage.run("INSERT INTO reader_meta VALUES (?, ?)", [("schema", "2")])
    storage.run(
        "CREATE TABLE reader_gaps (question TEXT NOT NULL, outcome TEXT NOT NULL,"
        " lang TEXT NOT NULL, at TEXT NOT NULL)"
    )
    storage.run(
        "INSERT INTO reader_gaps VALUES (?, ?, ?, ?)", [("Pourquoi ?", "declined", "fr", "t")]
    )
    store = storage.open()
    try:
        store.record_gap(Gap("Qui a tiré ?", "declined", "fr", "u", "transport"))
        assert store.gaps("") == [
            Gap("Pourquoi ?", "declined", "fr", "t", ""),
            Gap("Qui a tiré ?", "declined", "fr", "u", "transport"),
        ]
    finally:
        store.close()
    assert dict(storage.rows("SELECT key, value FROM reader_meta"))["schema"] == "3"


def test_chat_ids_are_hashed_and_the_key_stays_out_of_the_database(storage: Storage) -> None:
    store = storage.open()
    store.remember(Turn(123456789, "Qui est Tokaïev ?", ("seed",), "2026-12-01T09:00:00Z"))
    store.put_page(123456789, "abcdEF_-", '{"question": "Qui est Tokaïev ?"}', "t", 5)
    store.ask_removal(123456789, "xyzXYZ01", "seed", "t", 5)
    store.offer_upload(123456789, "xyzXYZ02", '{"file_id": "F"}', "t", 5)
    store.vote(Vote("Qui est Tokaïev ?", "p", 1, store.voter_key(123456789), "t"))
    assert store.last_turn(123456789) == Turn(
        123456789, "Qui est Tokaïev ?", ("seed",), "2026-12-01T09:00:00Z"
    )
    store.close()
    key = storage.key_path.read_text().strip()
    assert len(key) == 64 and stat.S_IMODE(storage.key_path.stat().st_mode) == 0o600
    everything = repr(
        [
            storage.rows(f"SELECT * FROM {table}")
            for table in (
                "reader_meta",
                "reader_turns",
                "reader_pages",
                "reader_removals",
                "reader_uploads",
            )
        ]
        + [storage.rows("SELECT * FROM reader_votes")]
    )
    assert "123456789" not in everything and key not in everything
    [(chat,)] = storage.rows("SELECT chat FROM reader_turns")
    [(voter,)] = storage.rows("SELECT voter FROM reader_votes")
    assert chat != voter  # a private chat's id is its user's: the hashes must differ


def test_a_replica_with_another_key_is_refused(storage: Storage, tmp_path: Path) -> None:
    storage.open().close()
    elsewhere = tmp_path / "other-data" / "readers.key"  # a replica without the shared file
    with pytest.raises(ReaderKeyError) as missing:
        storage.open(ReaderKey(elsewhere))
    assert str(missing.value) == (
        "the readers' records were written with a key this process does not have: copy"
        f" readers.key from the replica that made it into {elsewhere.parent}, or give every"
        " replica the same READERS_KEY"
    )
    with pytest.raises(ReaderKeyError) as wrong:
        storage.open(ReaderKey(elsewhere, "ab" * 32))
    assert str(wrong.value) == (
        "the readers' records were written with another key than READERS_KEY: give every"
        " replica the same READERS_KEY, or the same DATA_DIR/readers.key"
    )
    same = storage.open(ReaderKey(elsewhere, storage.key_path.read_text()))
    same.close()


def test_one_reader_rewording_keeps_one_vote_per_passage(make_readers: MakeReaders) -> None:
    store = make_readers()
    voter = store.voter_key(5)
    for n in range(50):
        store.vote(Vote(f"Qui a tiré ? ({n})", "p", -1, voter, f"2026-12-01T00:00:{n:02d}Z"))
    assert [(v.question, v.at) for v in store.votes(["p"], "")] == [
        ("Qui a tiré ? (49)", "2026-12-01T00:00:49Z")
    ]
    for n in range(5):
        store.vote(Vote("q", "p", -1, store.voter_key(100 + n), f"2026-12-0{n + 2}T00:00:00Z"))
    latest = store.votes(["p", "p"], "2026-12-03", per_passage=2)
    assert [v.at for v in latest] == ["2026-12-06T00:00:00Z", "2026-12-05T00:00:00Z"]


def test_removals_are_shared_and_taken_once(make_readers: MakeReaders) -> None:
    one, two = make_readers(), make_readers()
    for n in range(3):
        one.ask_removal(1001, f"token00{n}", f"article-{n}", f"2026-12-01T00:00:0{n}Z", 2)
    assert two.take_removal(1001, "token000") is None  # the chat keeps its 2 latest
    assert two.take_removal(7, "token001") is None  # another chat's token
    assert two.take_removal(1001, "token001") == "article-1"
    assert one.take_removal(1001, "token001") is None  # pressed again, on the other replica


def test_offered_uploads_are_shared_taken_once_and_purged(make_readers: MakeReaders) -> None:
    one, two = make_readers(), make_readers()
    for n in range(3):
        document = f'{{"file_id": "F{n}", "name": "v{n}.txt", "size": 10}}'
        one.offer_upload(1001, f"token00{n}", document, f"2026-12-01T00:00:0{n}Z", 2)
    assert two.take_upload(1001, "token000") is None  # the chat keeps its 2 latest
    assert two.take_upload(7, "token001") is None  # another chat's token
    assert two.take_removal(1001, "token001") is None  # a removal's token is another thing
    assert two.take_upload(1001, "token001") == '{"file_id": "F1", "name": "v1.txt", "size": 10}'
    assert one.take_upload(1001, "token001") is None  # pressed again, on the other replica
    assert one.purge("2026-12-02") == 1  # the last one, as old as the removals are kept
    assert two.take_upload(1001, "token002") is None
