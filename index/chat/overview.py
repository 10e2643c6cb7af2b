"""Questions about the collection itself, answered by listing articles, not by a search.

"De quoi parle l'article ?", "Résume les articles", "What do you know about?" ask what the
collection holds: no passage answers them, and no language model summarises here. The answer
is the articles, newest first, each with its title, outlet, date and lead sentence (its first
sentence, verbatim). The same list answers a question that is only a time frame ("Quoi de
neuf cette semaine ?", ``index.ingest.dates``), with the period's articles.

>>> asks_about_collection("De quoi parle l'article ?"), asks_about_collection("What do you know about?")
(True, True)
>>> asks_about_collection("De quoi parle Ablyazov dans son discours ?")
False
>>> lead_sentence("Le président kazakh a parlé devant la nation. Puis il est reparti vers la capitale sous bonne escorte.\\n\\nSuite.")
'Le président kazakh a parlé devant la nation.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.chat.followup import has_own_subject
from index.ingest.dates import TimeFrame
from index.retrieval.chunk import paragraph_spans, sentence_spans

__all__ = [
    "LEAD_CHARS",
    "ArticleLead",
    "asks_about_collection",
    "lead_sentence",
    "listed_period",
    "only_time_frame",
]

LEAD_CHARS = 240  # a lead longer than this is cut at a word, with "…"

# The questions that ask what the articles are about, in the languages of the evaluation sets.
# Anchored at both ends: "De quoi parle Ablyazov ?" is a question about a subject.
_ARTICLES = (
    r"(?:(?:l['’]\s*|l\s+|les?\s+|ces?\s+|cet\s+|vos\s+|tes\s+)?(?:article|articles|texte|textes|documents?|"
    r"collection|sources))"
)
_ABOUT = [
    # French
    rf"(?:de\s+quoi|sur\s+quoi)\s+(?:parle|parlent|traite|traitent)(?:-ils|-t-il|-elles)?\s+{_ARTICLES}",
    rf"(?:que|qu['’])\s*(?:dit|disent|raconte|racontent)\s+{_ARTICLES}",
    rf"(?:résume|resume|résumez|resumez|résumer|resumer)(?:-moi|-nous)?\s+{_ARTICLES}",
    rf"(?:un\s+)?résumé\s+(?:de\s+|des\s+)?{_ARTICLES}",
    r"(?:que|qu['’])\s*(?:sais|savez|connais|connaissez)[-\s]*(?:tu|vous)(?:\s+faire)?",
    r"(?:quels?|quelles?)\s+(?:sont\s+)?(?:les\s+)?(?:articles|sujets|thèmes)(?:\s+(?:as-tu|avez-vous|"
    r"connais-tu|connaissez-vous|couvres-tu|couvrez-vous))?",
    rf"(?:quel\s+est\s+le\s+sujet|(?:c['’]est|il\s+est)\s+quoi\s+le\s+sujet)\s+(?:de\s+|des\s+)?{_ARTICLES}",
    # English
    r"what\s+do\s+you\s+know(?:\s+about)?",
    r"what\s+(?:are|is)\s+(?:the|your|these|this)\s+(?:articles?|texts?|documents?|sources?|"
    r"collection)\s+about",
    r"(?:summari[sz]e|sum\s+up)\s+(?:the|your|these|this)\s+(?:articles?|texts?|documents?|collection)",
    r"what\s+(?:articles|topics|subjects)\s+(?:do\s+you\s+(?:have|know|cover)|are\s+there)",
    # Spanish
    r"(?:de\s+qu[ée]|sobre\s+qu[ée])\s+(?:trata|tratan|habla|hablan)\s+(?:el|los|este|estos)\s+"
    r"(?:art[íi]culos?|textos?|documentos?)",
    r"(?:resume|resumen|res[úu]meme)\s+(?:el|los)\s+(?:art[íi]culos?|textos?)",
    r"qu[ée]\s+sabes",
    # German
    r"worum\s+geht\s+es\s+(?:im|in\s+den|in\s+diesem|in\s+diesen)\s+(?:artikeln?|texten?|dokumenten?)",
    r"was\s+wei(?:ß|ss)t\s+du",
    r"(?:fasse|fass)\s+(?:den|die)\s+(?:artikel|texte)\s+zusammen",
    # Italian
    r"di\s+(?:cosa|che\s+cosa)\s+(?:parla|parlano)\s+(?:l['’]|gli\s+|questo\s+|questi\s+)?"
    r"(?:articolo|articoli|testi?)",
    r"(?:riassumi|riassumere)\s+(?:l['’]|gli\s+)?(?:articolo|articoli)",
    r"cosa\s+sai",
]
_ASKS_ABOUT = re.compile(
    r"^\W*(?:et\s+|and\s+|so\s+|alors\s+)?(?:" + "|".join(_ABOUT) + r")\W*$", re.I
)


def asks_about_collection(question: str) -> bool:
    """Whether ``question`` asks what the collection is about rather than about a subject."""
    return bool(_ASKS_ABOUT.match(" ".join(question.split())))


@dataclass(frozen=True, slots=True)
class ArticleLead:
    """One article as a list of the collection shows it."""

    article_id: str
    title: str
    lead: str  # its first sentence, verbatim (cut past ``LEAD_CHARS``)
    outlet: str | None = None
    published: str | None = None  # ISO 8601, as ``Article.published``
    url: str | None = None


def lead_sentence(text: str, lang: str = "fr", max_chars: int = LEAD_CHARS) -> str:
    """The article's first sentence, as it is written; cut at a word past ``max_chars``."""
    paragraphs = paragraph_spans(text)
    if not paragraphs:
        return ""
    start, end = paragraphs[0]
    end = min(end, start + 4 * max_chars)  # a wall of text with no stop is not segmented whole
    sentences = sentence_spans(text, lang, start, end)
    lead = text[slice(*sentences[0])] if sentences else text[start:end]
    if len(lead) <= max_chars:
        return lead
    cut = lead[:max_chars].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


# Words that ask for news without naming a subject ("Quoi de neuf ?", "What happened?",
# "¿Qué pasó?", "Was gibt es Neues?"), accents folded: with a time frame and nothing else, the
# question asks for the period's articles.
_NEWS_WORDS = frozenset(
    [
        "neuf",
        "nouveau",
        "nouveaux",
        "nouvelle",
        "nouvelles",
        "nouveautes",
        "actualite",
        "actualites",
        "actu",
        "actus",
        "info",
        "infos",
        "information",
        "informations",
        "passe",
        "passes",
        "arrive",
        "arrivee",
        "publie",
        "publies",
        "publiee",
        "publiees",
        "sorti",
        "sortis",
        "article",
        "articles",
        "evenement",
        "evenements",
        "raconte",
        "dis",
        "lieu",
        "new",
        "news",
        "happened",
        "happen",
        "happening",
        "going",
        "anything",
        "stories",
        "story",
        "events",
        "published",
        "latest",
        "recent",
        "recently",
        "nuevo",
        "nueva",
        "nuevos",
        "nuevas",
        "novedades",
        "noticia",
        "noticias",
        "paso",
        "pasado",
        "ocurrido",
        "ocurrio",
        "sucedido",
        "sucedio",
        "articulo",
        "articulos",
        "publico",
        "publicado",
        "publicaron",
        "ultimas",
        "ultimos",
        "ultima",
        "reciente",
        "hay",
        "neues",
        "neu",
        "neuigkeiten",
        "nachricht",
        "nachrichten",
        "neueste",
        "neuesten",
        "passiert",
        "geschehen",
        "artikel",
        "veroffentlicht",
        "gibt",
        "los",
        "nuovo",
        "nuove",
        "novita",
        "notizia",
        "notizie",
        "successo",
        "accaduto",
        "articoli",
        "pubblicato",
        "ultime",
    ]
)


def only_time_frame(frame: TimeFrame) -> bool:
    """Whether the question is only its time frame ("Que s'est-il passé hier ?", "What's the
    latest news?"): nothing left but question words and news words once the frame is out.

    >>> from index.ingest.dates import TimeFrame
    >>> only_time_frame(TimeFrame(None, None, "hier", "Que s'est-il passé ?"))
    True
    >>> only_time_frame(TimeFrame(None, None, "depuis lundi", "Les grèves ?"))
    False
    """
    rest = frame.question.replace(frame.phrase, " ") if frame.latest else frame.question
    return not has_own_subject(rest, besides=_NEWS_WORDS)


def listed_period(frame: TimeFrame) -> tuple[str | None, str | None]:
    """The bounds of the articles a period's list shows: the frame's, but every dated article
    for "the latest" (newest first, however old), never an undated one."""
    return (None, None) if frame.latest else (frame.start, frame.end)
