"""Wire copies: fingerprints, the copy decision on real kinds of edits, the LSH index, the
collection's report on /add, and the answer that quotes a story once."""

from __future__ import annotations

import doctest
import random
from pathlib import Path

import pytest

import index.collection.feeds
import index.collection.wire
import index.ingest.dates
import index.ingest.documents
from bench.wire import Pair, copies, labelled_pairs, precision_recall
from index.collection.folder import ArticleCollection
from index.collection.wire import WireIndex, containment, estimated_containment, shingles
from index.retrieval.search import near_duplicate_groups
from index.service import IndexService
from index.settings import IndexSettings

STORY = [
    "Le Piton de la Fournaise est entré en éruption dans la nuit de lundi à mardi, selon "
    "l'observatoire volcanologique, après trois semaines de crise sismique sous le sommet.",
    "Une fissure s'est ouverte sur le flanc sud-est du cône principal ; les coulées de lave "
    "progressent lentement vers l'enclos Fouqué, loin de toute habitation.",
    "La préfecture de La Réunion a déclenché la phase d'alerte 2-1 et interdit l'accès à "
    "l'enclos, tandis que la route des laves reste ouverte à la circulation.",
    "Les scientifiques estiment le débit des coulées à plusieurs dizaines de mètres cubes "
    "par seconde, un niveau habituel pour ce volcan parmi les plus actifs au monde.",
]
OTHER = [
    "Les enseignants d'Almaty ont cessé le travail mercredi pour réclamer une hausse de leurs "
    "salaires, gelés depuis trois ans, selon leur syndicat.",
    "Le ministère de l'Éducation a promis de recevoir leurs représentants la semaine prochaine, "
    "sans s'engager sur un calendrier de revalorisation.",
]


@pytest.mark.parametrize(
    "module",
    [index.collection.wire, index.ingest.dates, index.ingest.documents, index.collection.feeds],
)
def test_the_docstring_examples_hold(module: object) -> None:
    failed, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried > 0 and failed == 0


def test_shingles_and_containment() -> None:
    assert shingles("") == set()
    assert shingles("Trois mots seulement") == {"trois mots seulement"}
    assert shingles("Un deux trois quatre cinq six") == {
        "un deux trois quatre cinq",
        "deux trois quatre cinq six",
    }
    assert containment({"a", "b"}, {"a", "b", "c", "d"}) == 1.0
    assert containment(set(), {"a"}) == 0.0
    assert estimated_containment(0.5, 100, 200) == 1.0  # 100 shared: all of the smaller one
    assert estimated_containment(0.25, 100, 100) == pytest.approx(0.4)
    assert estimated_containment(0.9, 0, 10) == 0.0


@pytest.mark.parametrize(
    "kind",
    [
        "new headline",
        "reordered",
        "credits, captions, byline",
        "other date line",
        "cut at 60%",
        "reworded",
        "mixed edits",
    ],
)
def test_every_kind_of_republication_is_a_copy(kind: str) -> None:
    original = "Le volcan se réveille\n\n" + "\n\n".join(STORY)
    edited = copies("Le volcan se réveille", STORY, random.Random(1))[kind]
    index = WireIndex()
    index.add("original", original)
    [found] = index.copies(edited)
    assert found.article_id == "original" and found.containment >= 0.6


def test_a_follow_up_that_reuses_one_paragraph_is_not_a_copy() -> None:
    index = WireIndex()
    index.add("original", "\n\n".join(STORY))
    follow_up = "\n\n".join([*OTHER, STORY[2], "Une réunion est prévue vendredi à la mairie."])
    assert index.copies(follow_up) == []
    index.remove("original")
    assert index.copies("\n\n".join(STORY)) == [] and len(index) == 0


def test_the_labelled_set_and_its_figures_hold() -> None:
    folder = Path(__file__).resolve().parents[4] / "shared" / "eval" / "piaf" / "articles"
    if not folder.is_dir():
        pytest.skip("PIAF is not next to the repository")
    pairs = [p for p in labelled_pairs(folder) if p.split == "test"][:220]
    scores = [containment(shingles(p.first), shingles(p.second)) for p in pairs]
    precision, recall = precision_recall(pairs, scores, 0.6)
    assert recall == 1.0 and precision >= 0.9
    assert precision_recall([Pair("k", "a", "b", True, "test")], [0.0], 0.6) == (1.0, 0.0)


def test_a_short_text_never_hides_a_longer_one_that_contains_it() -> None:
    caption = "Légende : vue générale du site, lundi matin."
    long_one = caption + " " + " ".join(OTHER)
    assert near_duplicate_groups([caption, long_one]) == [(0, []), (1, [])]
    assert near_duplicate_groups([long_one, caption]) == [(0, [1])]


def test_the_collection_names_the_copies_an_add_brings(tmp_path: Path) -> None:
    settings, service = _empty_collection(tmp_path)
    collection = ArticleCollection(settings, service)
    first = collection.add_bytes(
        "journal.json",
        _json("Le volcan se réveille", STORY, "Le Journal"),
    )
    assert first.copies == ()
    copy = collection.add_bytes(
        "gazette.json",
        _json("Éruption à La Réunion", ["(AFP) " + STORY[0], *STORY[1:3]], "La Gazette"),
    )
    assert [a.id for a in copy.copies] == ["journal"]
    other = collection.add_bytes("almaty.json", _json("Grève", OTHER, "Le Canal"))
    assert other.copies == ()
    answer = service.ask("Où progressent les coulées de lave du Piton de la Fournaise ?")
    [quote] = [q for q in answer.quotes if "enclos Fouqué" in q.text]
    assert quote.also_in in (("La Gazette",), ("Le Journal",))
    collection.remove("journal")
    again = collection.add_bytes(
        "reprise.json", _json("Le volcan, suite", STORY[:3], "Le Quotidien")
    )
    assert [a.id for a in again.copies] == ["gazette"]


def _empty_collection(tmp_path: Path) -> tuple[IndexSettings, IndexService]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    settings = IndexSettings(
        seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128"
    )
    service = IndexService(settings)
    service.rebuild()
    return settings, service


def _json(title: str, paragraphs: list[str], outlet: str) -> bytes:
    import json

    return json.dumps({"title": title, "outlet": outlet, "text": "\n\n".join(paragraphs)}).encode()


def test_a_one_shot_collection_does_not_make_fingerprints(tmp_path: Path) -> None:
    settings, service = _empty_collection(tmp_path)
    collection = ArticleCollection(settings, service, find_copies=False)
    collection.add_bytes("journal.json", _json("Le volcan se réveille", STORY, "Le Journal"))
    copy = collection.add_bytes("gazette.json", _json("Éruption", STORY[:3], "La Gazette"))
    assert copy.copies == () and collection._wire is None
