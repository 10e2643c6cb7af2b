"""``python -m index build|search|stats|eval|calibrate|add|remove|migrate|embed-worker|backup|restore``.

``add`` and ``remove`` take the same path as the bot's /add and /remove (``ArticleCollection``):
the file goes into SEEDS_DIR (or out to the trash) and the index changes with it.
``embed-worker`` embeds the texts of a folder of articles into the store's vector cache and
writes nothing else: run it on another machine (a GPU: ``EMBED_DEVICE=cuda``) against the
same PostgreSQL while the bot keeps serving, then the bot's /reindex or ``add`` of those
articles embeds nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from index.collection.folder import ArticleCollection
from index.errors import ArticleNotFoundError, IndexFailure
from index.models import Quote
from index.retrieval.indexer import SyncReport
from index.service import IndexService
from index.settings import IndexSettings, describe_validation_error
from index.stores import open_store
from index.stores.base import IndexStore
from index.tools.evaluate import format_report, run_eval

__all__ = ["main"]


class _ProgressBar:
    """One tqdm bar per build stage, on stderr; a new stage closes the previous bar."""

    def __init__(self) -> None:
        self._stage = ""
        self._bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self._stage:
            self.close()
            self._stage = stage
            unit = {"chunk": " articles", "embed": " texts"}.get(stage, " steps")
            self._bar = tqdm(total=total, desc=f"{stage:5s}", unit=unit, file=sys.stderr)
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _count(number: int, noun: str) -> str:
    """``1 passage``, ``2 passages``: the CLI says counts in English, right.

    >>> _count(1, "passage"), _count(0, "article")
    ('1 passage', '0 articles')
    """
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _print_build(report: SyncReport) -> None:
    for problem in report.problems:
        print(f"skipped {problem.path}: {problem.reason}", file=sys.stderr)
    print(
        f"{_count(report.articles, 'article')}, {_count(report.chunks, 'passage')}; "
        f"{report.added} added, "
        f"{report.updated} changed, {report.removed} removed, {report.unchanged} unchanged; "
        f"embedded {report.embedded}, reused {report.reused}; {report.seconds:.2f} s"
    )


def _quote_json(quote: Quote) -> dict[str, object]:
    """The search JSON shape other tools read (``quote`` is the verbatim text)."""
    return {
        "article_id": quote.article_id,
        "title": quote.title,
        "url": quote.url,
        "quote": quote.text,
        "start": quote.start,
        "end": quote.end,
        "highlight": quote.highlight,
        "highlight_start": quote.highlight_start,
        "highlight_end": quote.highlight_end,
        "score": quote.score,
        "confidence": quote.confidence,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="(re)build the index from the articles folder")
    build.add_argument("--seeds", type=Path, help="articles folder (SEEDS_DIR)")
    build.add_argument("--data", type=Path, help="index folder (DATA_DIR)")
    ask = sub.add_parser("search", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("--k", type=int, default=None, help="number of quotes")
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.add_argument("--data", type=Path, help="index folder (DATA_DIR)")
    stats = sub.add_parser("stats", help="what the index holds")
    stats.add_argument("--data", type=Path, help="index folder (DATA_DIR)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    add = sub.add_parser("add", help="add article files (copied into SEEDS_DIR, then indexed)")
    add.add_argument("files", nargs="+", type=Path)
    add.add_argument("--seeds", type=Path, help="articles folder (SEEDS_DIR)")
    add.add_argument("--data", type=Path, help="index folder (DATA_DIR)")
    remove = sub.add_parser("remove", help="remove articles by id (files go to DATA_DIR/trash)")
    remove.add_argument("ids", nargs="+")
    remove.add_argument("--seeds", type=Path, help="articles folder (SEEDS_DIR)")
    remove.add_argument("--data", type=Path, help="index folder (DATA_DIR)")
    migrate = sub.add_parser(
        "migrate",
        help="copy the embedded index and the readers' records into PostgreSQL, embedding "
        "nothing again",
    )
    migrate.add_argument("--to", required=True, help="postgresql://user:password@host/db")
    migrate.add_argument("--data", type=Path, help="index folder to copy from (DATA_DIR)")
    worker = sub.add_parser(
        "embed-worker",
        help="embed a folder's articles into the store's vector cache, writing nothing else",
    )
    worker.add_argument("folders", nargs="*", type=Path, help="articles (default: SEEDS_DIR)")
    worker.add_argument("--data", type=Path, help="index folder (DATA_DIR)")
    worker.add_argument(
        "--watch", type=float, metavar="SECONDS", help="look again every SECONDS (until ^C)"
    )
    ev = sub.add_parser("eval", help="evaluate retrieval on a QA set")
    ev.add_argument("--articles", type=Path, required=True)
    ev.add_argument("--questions", type=Path, required=True)
    ev.add_argument("--split", choices=["dev", "test", "all"], default="test")
    ev.add_argument("--data", type=Path, help="index folder (default: DATA_DIR/eval-<folder>)")
    ev.add_argument("--holdout", type=int, default=20, help="articles left out (abstention)")
    ev.add_argument("--json", action="store_true", help="print JSON")
    ev.add_argument(
        "--offtopic", type=Path, help="general-knowledge questions (JSONL) that must be declined"
    )
    ev.add_argument(
        "--evidence", type=Path, help="write each question's evidence here (for calibrate)"
    )
    ev.add_argument(
        "--database-url",
        help="evaluate on this PostgreSQL database instead (emptied: never the bot's own)",
    )
    cal = sub.add_parser(
        "calibrate", help="fit the confidence model on evidence files of dev questions"
    )
    cal.add_argument("rest", nargs=argparse.REMAINDER)
    _backup_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command of ``python -m index``.

    Args:
        argv: The command line after the program name; None for ``sys.argv[1:]``.

    Returns:
        The exit code: 0 done, 1 when the index refused or part of the command failed, 2 on
        bad settings, 130 when interrupted.
    """
    args = _parser().parse_args(argv)
    if args.command == "calibrate":
        from index.tools.calibrate import main as calibrate

        return calibrate(args.rest)
    try:
        overrides: dict[str, Path] = {}
        if getattr(args, "seeds", None):
            overrides["seeds_dir"] = args.seeds
        if getattr(args, "data", None) and args.command != "eval":
            overrides["data_dir"] = args.data
        settings = IndexSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        print(f"error: {describe_validation_error(exc)}", file=sys.stderr)
        return 2
    try:
        return _COMMANDS[args.command](args, settings)
    except IndexFailure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the previous index is still in place", file=sys.stderr)
        return 130


def _build(args: argparse.Namespace, settings: IndexSettings) -> int:
    """``build``: the index of SEEDS_DIR, with a progress bar per stage."""
    service = IndexService(settings)
    progress = _ProgressBar()
    try:
        report = service.rebuild(progress)
    finally:
        progress.close()
    _print_build(report)
    return 0


def _search(args: argparse.Namespace, settings: IndexSettings) -> int:
    """``search QUESTION``: the quotes, highlight marked, or ``--json`` for other tools."""
    answer = IndexService(settings).ask(args.question, k=args.k)
    if args.json:
        print(json.dumps([_quote_json(q) for q in answer.quotes], ensure_ascii=False, indent=1))
        return 0
    if not answer.quotes:
        print("The articles do not answer this question.")
    elif answer.outcome == "closest":
        print("No sure answer; the closest passages (they may not answer it):\n")
    for n, quote in enumerate(answer.quotes, 1):
        print(f"[{n}] {quote.title} ({quote.article_id}, score {quote.score:.3f})")
        before = quote.text[: quote.highlight_start - quote.start]
        after = quote.text[quote.highlight_end - quote.start :]
        print(f"    {before}>>{quote.highlight}<<{after}\n")
    return 0


def _stats(args: argparse.Namespace, settings: IndexSettings) -> int:
    """``stats``: what the index holds, one ``key: value`` a line or ``--json``."""
    stats = asdict(IndexService(settings).stats())
    if args.json:
        print(json.dumps(stats, indent=1))
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def _add_or_remove(args: argparse.Namespace, settings: IndexSettings) -> int:
    """``add`` / ``remove``: through ``ArticleCollection``, as the bot's /add and /remove."""
    # No wire copies: in a one-shot process, fingerprinting every article would cost more
    # than the add, and the CLI does not report copies anyway.
    service = IndexService(settings)
    return _change(ArticleCollection(settings, service, find_copies=False), args)


def _eval(args: argparse.Namespace, settings: IndexSettings) -> int:
    """``eval``: its own index, in ``--data`` or DATA_DIR/eval-<articles folder>."""
    data_dir = args.data or settings.data_dir / f"eval-{args.articles.resolve().name}"
    service = IndexService(settings.model_copy(update={"data_dir": data_dir}))
    evaluation = run_eval(
        args.articles,
        args.questions,
        data_dir=data_dir,
        embedder=service.embedder,
        build_params=service.build_params(),
        search_params=service.search_params,
        split=None if args.split == "all" else args.split,
        holdout=args.holdout,
        store=_eval_store(args.database_url) if args.database_url else None,
        offtopic_file=args.offtopic,
        evidence_file=args.evidence,
        shown_k=settings.search_k,
    )
    service.close()
    print(evaluation.to_json() if args.json else format_report(evaluation))
    return 0


def _eval_store(url: str) -> IndexStore:
    from index.stores.postgres import PostgresStore  # psycopg only when asked for

    return PostgresStore(url)


def _change(collection: ArticleCollection, args: argparse.Namespace) -> int:
    """``add FILE…`` / ``remove ID…``; exit 1 when any of them could not be done."""
    if args.command == "add":
        added, problems = collection.add_files(args.files)
        for item in added:
            if item.unchanged:
                print(
                    f"unchanged {item.article.id}: {item.article.title} (already in the collection)"
                )
            else:
                passages = _count(item.passages, "passage")
                print(f"added {item.article.id}: {item.article.title} ({passages})")
        for problem in problems:
            print(f"not added {problem.path}: {problem.reason}", file=sys.stderr)
        return 1 if problems else 0
    failed = False
    for article_id in args.ids:
        try:
            removed = collection.remove(article_id)
        except ArticleNotFoundError as exc:
            print(f"not removed: {exc}", file=sys.stderr)
            failed = True
            continue
        where = f"; file moved to {removed.trashed}" if removed.trashed else ""
        print(f"removed {removed.article.id}: {removed.article.title}{where}")
    return 1 if failed else 0


def _embed_worker(args: argparse.Namespace, settings: IndexSettings) -> int:
    """``embed-worker``: embed what the articles of ``args.folders`` (default SEEDS_DIR) need
    into the vector cache, once or every ``args.watch`` seconds; articles already done in an
    earlier round are not looked at again."""
    import time

    from index.ingest.loader import load_articles

    service = IndexService(settings)
    folders: list[Path] = args.folders or [settings.seeds_dir]
    watch: float | None = args.watch
    meta = service.store.meta()
    model = service.embedder.model_id
    if meta is not None and meta.model_id != model:
        raise IndexFailure(
            f"the index is built with {meta.model_id}, this worker embeds with {model}: "
            "its vectors would never be used (set the same EMBEDDING_MODEL)"
        )
    done: set[str] = set()
    while True:
        started = time.perf_counter()
        articles = []
        for folder in folders:
            found, problems = load_articles(folder)
            articles += [a for a in found if a.sha256 not in done]
            for problem in problems:
                print(f"skipped {problem.path}: {problem.reason}", file=sys.stderr)
        progress = _ProgressBar()
        try:
            embedded, cached = service.indexer.embed_only(articles, progress)
        finally:
            progress.close()
        done.update(a.sha256 for a in articles)
        print(
            f"{len(articles)} new articles: embedded {embedded} texts, {cached} were cached; "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        if watch is None:
            return 0
        time.sleep(watch)


def _migrate(args: argparse.Namespace, settings: IndexSettings) -> int:
    """``migrate``: copy the embedded store of DATA_DIR (articles, passages, vectors, cache)
    into the database at ``args.to``, and the readers' records (scopes, votes, gaps, turns,
    pages) beside it."""
    url: str = args.to
    from index.stores.embedded import EmbeddedStore
    from index.stores.migrate import copy_store

    target_settings = settings.model_copy(update={"database_url": SecretStr(url)})
    source = EmbeddedStore(settings.data_dir)
    target = open_store(target_settings)
    try:
        report = copy_store(source, target)
    finally:
        source.close()
        target.close()
    print(
        f"copied {_count(report.articles, 'article')}, {_count(report.passages, 'passage')} and "
        f"{report.cached} cached vectors in {report.seconds:.1f} s; nothing was embedded"
    )
    if (settings.data_dir / "readers.sqlite").exists():
        _migrate_readers(settings, url)
    return 0


def _migrate_readers(settings: IndexSettings, url: str) -> None:
    """The readers' records of DATA_DIR/readers.sqlite into ``url``'s tables, same key."""
    from index.stores.reader_key import ReaderKey
    from index.stores.readers import KEY_FILE, PostgresReaderStore, SqliteReaderStore, copy_readers

    configured = settings.readers_key.get_secret_value() if settings.readers_key else None
    key = ReaderKey(settings.data_dir / KEY_FILE, configured)
    source = SqliteReaderStore(settings.data_dir / "readers.sqlite", key)
    try:
        target = PostgresReaderStore(url, key)
        try:
            copied = copy_readers(source, target)
        finally:
            target.close()
    finally:
        source.close()
    print(
        f"copied the readers' records: {copied['reader_scopes']} group scopes, "
        f"{copied['reader_votes']} votes, {copied['reader_gaps']} gaps, "
        f"{copied['reader_turns']} chats' last questions, {copied['reader_pages']} answers shown"
    )
    if configured is None:
        print(
            f"they are keyed by {key.path}: give the bot that file in its DATA_DIR, "
            "or its content as READERS_KEY, on every replica"
        )


def _backup_parsers(sub: Any) -> None:
    """``backup PATH`` and ``restore PATH`` (``-``: standard output / input)."""
    backup = sub.add_parser(
        "backup",
        help="copy DATA_DIR (databases, readers.key, trash) and SEEDS_DIR into a tar file, "
        "while the bot serves",
    )
    backup.add_argument("path", help="a new .tar (or .tar.gz) file, or - for standard output")
    backup.add_argument("--seeds", type=Path, help="articles folder (SEEDS_DIR)")
    backup.add_argument("--data", type=Path, help="index folder (DATA_DIR)")
    restore = sub.add_parser(
        "restore", help="write a backup into an empty DATA_DIR and SEEDS_DIR (stop the bot first)"
    )
    restore.add_argument("path", help="the backup's tar file, or - for standard input")
    restore.add_argument("--seeds", type=Path, help="articles folder (SEEDS_DIR)")
    restore.add_argument("--data", type=Path, help="index folder (DATA_DIR)")
    restore.add_argument(
        "--force", action="store_true", help="replace what DATA_DIR and SEEDS_DIR hold"
    )


def _backup_command(args: argparse.Namespace, settings: IndexSettings) -> int:
    from index.tools.backup import describe, restore_backup, stdout_is_terminal, take_backup

    to_stream = args.path == "-"
    if args.command == "backup":
        if to_stream and stdout_is_terminal():
            print("error: the backup is binary: redirect it (> data.tar)", file=sys.stderr)
            return 2
        target = sys.stdout.buffer if to_stream else Path(args.path)
        report = take_backup(settings.data_dir, settings.seeds_dir, target)
        if to_stream:
            sys.stdout.buffer.flush()
        where = "standard output" if to_stream else args.path
        print(
            f"backed up to {where}: {describe(report)}; {report.bytes / 1e6:.1f} MB in "
            f"{report.seconds:.1f} s",
            file=sys.stderr,
        )
        _backup_notes(settings, report.key_file)
        return 0
    source = sys.stdin.buffer if to_stream else Path(args.path)
    restored = restore_backup(source, settings.data_dir, settings.seeds_dir, force=args.force)
    print(
        f"restored the backup of {restored.created_at} into {settings.data_dir} and "
        f"{settings.seeds_dir}: {describe(restored)}",
        file=sys.stderr,
    )
    _backup_notes(settings, restored.key_file)
    return 0


def _backup_notes(settings: IndexSettings, key_file: bool) -> None:
    """What the tar file does not hold, said where the operator reads it."""
    if settings.readers_key is not None:
        print(
            "note: READERS_KEY is set, so the readers' key is not in the backup: keep it with "
            "the backup, or the readers' records no longer match their chats",
            file=sys.stderr,
        )
    elif not key_file:
        print("note: no readers.key (no reader had been recorded)", file=sys.stderr)
    if settings.database_url is not None:
        print(
            "note: DATABASE_URL is set: the index and the readers' records are in PostgreSQL; "
            "back them up with pg_dump (docs/operations.md, Backups)",
            file=sys.stderr,
        )


# Each subcommand of ``_parser`` (but ``calibrate``, which parses its own arguments) and the
# function that runs it: a new command is a subparser there and a line here.
_COMMANDS: dict[str, Callable[[argparse.Namespace, IndexSettings], int]] = {
    "build": _build,
    "search": _search,
    "stats": _stats,
    "add": _add_or_remove,
    "remove": _add_or_remove,
    "migrate": _migrate,
    "embed-worker": _embed_worker,
    "eval": _eval,
    "backup": _backup_command,
    "restore": _backup_command,
}
