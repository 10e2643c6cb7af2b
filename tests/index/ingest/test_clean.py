"""Tests of index.ingest.clean: boilerplate goes, article paragraphs stay verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.ingest.clean import clean_text

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_7774940a137d78f0.txt"


def _seed_body() -> str:
    """The seed without its title line (ingest takes the title off before cleaning)."""
    return SEED.read_text(encoding="utf-8").split("\n", 1)[1]


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def test_seed_loses_credits_captions_bio_and_footer() -> None:
    cleaned = clean_text(_seed_body())
    for gone in (
        "©",
        "AZAMAT SARSENBAYEV",
        "SATELLITE VIA AFP",
        "Spoutnik via AFP",
        "Affrontements au Kazakhstan",
        "L’armée russe arrive à l’aéroport d’Almaty",
        "Kazakhstan des dizaines de soldats russes tués",
        "Lazarus Abraham",
        "Coffee pioneer",
        "Laisser un commentaire",
        "Votre adresse e-mail",
        "champs obligatoires",
    ):
        assert gone not in cleaned, gone


def test_seed_keeps_every_real_paragraph() -> None:
    body = _seed_body()
    cleaned = clean_text(body)
    removed = {
        "© AZAMAT SARSENBAYEV / AFP / ESN",
        "© SATELLITE VIA AFP",
        "© Ministère russe de la Défense / Spoutnik via AFP",
        "Affrontements au Kazakhstan",
        "L’armée russe arrive à l’aéroport d’Almaty",
        "Kazakhstan des dizaines de soldats russes tués",
        "Lazarus Abraham",
    }
    real = [
        p
        for p in _paragraphs(body)
        if p not in removed and not p.startswith(('"Coffee', "Laisser", "Votre adresse"))
    ]
    assert len(real) == 19
    kept = _paragraphs(cleaned)
    assert len(kept) == 19
    for original, after in zip(real, kept, strict=True):
        # Only the stray " . ." at the end of one paragraph is tidied.
        assert after == original.replace("jours . .", "jours.")
    assert kept[0].startswith("AGI – Le président kazakh")
    assert kept[-1].endswith("la sécurité des civils.")


def test_seed_title_is_not_taken_for_a_caption() -> None:
    cleaned = clean_text(SEED.read_text(encoding="utf-8"))
    assert cleaned.startswith("« Tirez sur les manifestants »\n\nAGI")


def test_cleaning_is_idempotent() -> None:
    once = clean_text(_seed_body())
    assert clean_text(once) == once


ENGLISH_BLOG = """\
Bees are the main pollinators of flowering plants, and there are about twenty thousand species.

Photo: Jane Smith / Unsplash

A honeybee on a lavender flower

Most of them live alone and never make honey.

Share this:

Facebook
Twitter
Email

Subscribe to our newsletter

Written by Tom Baker

Leave a Reply

Your email address will not be published. Required fields are marked *

Comment

Name *
"""


def test_english_blog_footer() -> None:
    assert clean_text(ENGLISH_BLOG) == (
        "Bees are the main pollinators of flowering plants, and there are about twenty "
        "thousand species.\n\nMost of them live alone and never make honey."
    )


FRENCH_NEWS = """\
Le gouvernement a présenté mercredi un plan pour protéger les pollinisateurs.

Lire aussi : Les abeilles menacées par un nouveau parasite

Le plan prévoit l’interdiction de trois pesticides d’ici à 2026.

Publicité

Lire aussi

Pesticides : ce que change la nouvelle loi

Les apiculteurs saluent une « avancée », mais jugent le calendrier trop lent.

Crédit photo : Jean Dupont / AFP

Partager sur Facebook

Partager sur Twitter

Abonnez-vous à notre newsletter
"""


def test_french_news_site_share_and_read_also() -> None:
    assert _paragraphs(clean_text(FRENCH_NEWS)) == [
        "Le gouvernement a présenté mercredi un plan pour protéger les pollinisateurs.",
        "Le plan prévoit l’interdiction de trois pesticides d’ici à 2026.",
        "Les apiculteurs saluent une « avancée », mais jugent le calendrier trop lent.",
    ]


CLEAN_ARTICLE = (
    "Les abeilles sauvages\n\n"
    "Il existe environ vingt mille espèces d’abeilles dans le monde.\n\n"
    "La plupart sont solitaires : elles ne vivent pas en colonie.\n"
    "Elles nichent dans le sol, dans le bois mort ou dans des tiges creuses.\n\n"
    "Partager un repas avec un apiculteur apprend beaucoup sur elles.\n\n"
    "Une conclusion courte"
)


def test_article_without_boilerplate_is_unchanged() -> None:
    assert clean_text(CLEAN_ARTICLE) == CLEAN_ARTICLE


def test_short_title_like_paragraph_away_from_credits_is_kept() -> None:
    text = (
        "Premier paragraphe de l’article, qui dit quelque chose.\n\n"
        "Une crise ancienne\n\n"
        "Le pays connaît des tensions depuis des années.\n\n"
        "© AFP\n\n"
        "Deuxième paragraphe, qui suit la photo."
    )
    assert _paragraphs(clean_text(text)) == [
        "Premier paragraphe de l’article, qui dit quelque chose.",
        "Une crise ancienne",
        "Le pays connaît des tensions depuis des années.",
        "Deuxième paragraphe, qui suit la photo.",
    ]


@pytest.mark.parametrize(
    "credit",
    [
        "© Reuters",
        "Photo : AFP",
        "Photo: John Doe",
        "Crédit : Ministère de l’Intérieur",
        "Crédits photo : DR",
        "Credit: Getty Images",
        "(Photo Jean Martin)",
        "Image: Wikimedia Commons",
        "Photo by Anna on Unsplash",
    ],
)
def test_credit_lines_and_their_captions_go(credit: str) -> None:
    text = f"Texte avant la photo.\n\nUn manifestant à Almaty\n\n{credit}\n\nTexte après la photo."
    assert clean_text(text) == "Texte avant la photo.\n\nTexte après la photo."


def test_long_paragraph_starting_like_a_credit_stays() -> None:
    paragraph = "Crédit : " + "la banque a accordé un prêt très important à l’entreprise. " * 5
    assert clean_text(paragraph) == paragraph.strip()


def test_caption_ending_with_a_full_stop_is_kept() -> None:
    text = "Il pleut.\n\n© AFP\n\nLe gouvernement a démissionné."
    assert clean_text(text) == "Il pleut.\n\nLe gouvernement a démissionné."


def test_boilerplate_lines_inside_a_multiline_paragraph() -> None:
    text = "Le premier vers du texte\nPhoto : AFP\nLe second vers du texte"
    assert clean_text(text) == "Le premier vers du texte\nLe second vers du texte"


def test_author_box_at_the_end_goes() -> None:
    text = (
        "Premier paragraphe.\n\nDeuxième paragraphe.\n\nTroisième paragraphe.\n\n"
        "À propos de l’auteur\n\nMarie Curie écrit sur la science depuis vingt ans."
    )
    assert (
        clean_text(text) == "Premier paragraphe.\n\nDeuxième paragraphe.\n\nTroisième paragraphe."
    )


def test_bio_that_opens_with_the_name() -> None:
    text = (
        "Premier paragraphe.\n\nDeuxième paragraphe.\n\n"
        "Jane Doe\n\nJane Doe is a freelance writer based in Lyon."
    )
    assert clean_text(text) == "Premier paragraphe.\n\nDeuxième paragraphe."


def test_name_followed_by_a_real_paragraph_is_kept() -> None:
    text = (
        "Premier paragraphe.\n\nDeuxième paragraphe.\n\n"
        "Emmanuel Macron\n\nLe président a parlé longtemps devant les élus."
    )
    assert clean_text(text) == text


def test_whitespace_and_unicode_are_normalised() -> None:
    decomposed = "Le cafe\u0301  est\tbon.  \r\n\r\n\r\n  Deuxie\u0300me   ligne. "
    assert clean_text(decomposed) == "Le café est bon.\n\nDeuxième ligne."


def test_nbsp_before_french_punctuation_is_kept() -> None:
    text = "Il a dit\u00a0: «\u00a0non\u00a0»."
    assert clean_text(text) == text


def test_spaced_ellipsis_is_not_touched() -> None:
    text = "Et puis . . .\n\nLa suite ."
    assert clean_text(text) == "Et puis . . .\n\nLa suite."


def test_footer_cuts_everything_after_it() -> None:
    text = "Vrai texte.\n\nLaisser une réponse\n\nAnnuler la réponse\n\nUn commentaire de lecteur."
    assert clean_text(text) == "Vrai texte."


def test_empty_and_whitespace() -> None:
    assert clean_text("") == ""
    assert clean_text(" \n\n \t \n") == ""
