"""The bot's own words in French, English, Spanish, German and Italian: ``t(key, lang, **values)``.

Messages are Telegram HTML; ``t`` escapes every value it inserts, so user and article text can
be passed as is. ``t_plain`` gives the same message as plain text for the console.

A count is said right in every language with an inline plural, ``{name|one|other}``: the form
for one (French: 0 and 1) or for more of the number ``name``, itself in a form or beside it
(``"{days|last day|last {days} days}"``, ``"{n} {n|article|articles}"``).

Which language: ``reply_language`` (a question's own when sure, else the reader's Telegram
language, else ``DEFAULT_LANGUAGE``); ``pick_language`` when there is no question (/help).

>>> t("no_more", "en")
'No more passages.'
>>> t("add_done", "fr", title="<b>x</b>", id="x", passages=1)
'Ajouté : « &lt;b&gt;x&lt;/b&gt; » (<code>x</code>), 1 passage.'
>>> t("add_done", "de", title="x", id="x", passages=3)
'Hinzugefügt: „x“ (<code>x</code>), 3 Passagen.'
"""

from __future__ import annotations

import html
import re
from typing import Final

from bot.reason_texts import REASON_TEXTS
from index import (
    ENGLISH,
    AnswerExpiredError,
    AnswerOutOfDateError,
    IndexMissingError,
    ModelMismatchError,
    PageSpentError,
    Reason,
    StorageUnavailableError,
    StorageWriteError,
    stored_reason,
    sure_language,
)

__all__ = [
    "LANGUAGES",
    "MAX_VALUE_CHARS",
    "MESSAGES",
    "error_key",
    "pick_language",
    "placeholders",
    "plural_one",
    "reason_text",
    "reply_language",
    "stored_reason_text",
    "t",
    "t_plain",
    "why",
]

# The languages of the evaluation sets; every message exists in each (tests/bot/test_i18n.py).
LANGUAGES: Final = ("fr", "en", "es", "de", "it")
# A value put into a message (a title, a file name, a reason) is cut past this: a 5,000-character
# title must not make "Added: …" longer than Telegram's 4,096 and lose the reply.
MAX_VALUE_CHARS: Final = 200

MESSAGES: Final[dict[str, dict[str, str]]] = {
    "help": {
        "fr": (
            "Je réponds aux questions sur {articles} {articles|article|articles} en citant mot "
            "pour mot les passages qui y répondent, avec leur source.\n\n"
            "• En privé : écrivez simplement votre question.\n"
            "• Dans un groupe : mentionnez-moi (@{bot} question), répondez à un de mes "
            "messages ou utilisez /ask question.\n"
            "• Dans n'importe quelle discussion : tapez @{bot} question.\n\n"
            "Les questions peuvent être posées dans toutes les langues, et enchaînées : « Et à "
            "Almaty ? » juste après une réponse en reprend le sujet. Une date situe la "
            "question (« depuis lundi », « la semaine dernière »). 👍 et 👎 sous une réponse "
            "aident à classer les passages. /sources liste les articles."
        ),
        "en": (
            "I answer questions about {articles} {articles|article|articles} by quoting, word "
            "for word, the passages that answer them, with their source.\n\n"
            "• In private: just write your question.\n"
            "• In a group: mention me (@{bot} question), reply to one of my messages or use "
            "/ask question.\n"
            "• In any chat: type @{bot} question.\n\n"
            'Questions are welcome in any language, and can follow on: "And in Almaty?" '
            'right after an answer keeps its subject. A date places the question ("since '
            'Monday", "last week"). 👍 and 👎 under an answer help rank the passages. '
            "/sources lists the articles."
        ),
        "es": (
            "Respondo a preguntas sobre {articles} {articles|artículo|artículos} citando "
            "palabra por palabra los pasajes que las responden, con su fuente.\n\n"
            "• En privado: escriba simplemente su pregunta.\n"
            "• En un grupo: mencióneme (@{bot} pregunta), responda a uno de mis mensajes o use "
            "/ask pregunta.\n"
            "• En cualquier chat: escriba @{bot} pregunta.\n\n"
            "Se puede preguntar en cualquier idioma, y encadenar: «¿Y en Almaty?» justo "
            "después de una respuesta retoma su tema. Una fecha sitúa la pregunta («desde el "
            "lunes», «la semana pasada»). 👍 y 👎 bajo una respuesta ayudan a ordenar los "
            "pasajes. /sources lista los artículos."
        ),
        "de": (
            "Ich beantworte Fragen zu {articles} {articles|Artikel|Artikeln}, indem ich die "
            "Stellen, die sie beantworten, wörtlich zitiere, mit ihrer Quelle.\n\n"
            "• Privat: Schreiben Sie einfach Ihre Frage.\n"
            "• In einer Gruppe: Erwähnen Sie mich (@{bot} Frage), antworten Sie auf eine "
            "meiner Nachrichten oder nutzen Sie /ask Frage.\n"
            "• In jedem Chat: Tippen Sie @{bot} Frage.\n\n"
            "Fragen sind in jeder Sprache willkommen und können aneinander anschließen: „Und "
            "in Almaty?“ direkt nach einer Antwort behält deren Thema. Eine Zeitangabe grenzt "
            "die Frage ein („seit Montag“, „letzte Woche“). 👍 und 👎 unter einer Antwort "
            "helfen, die Stellen zu ordnen. /sources listet die Artikel."
        ),
        "it": (
            "Rispondo alle domande su {articles} {articles|articolo|articoli} citando parola "
            "per parola i passaggi che vi rispondono, con la loro fonte.\n\n"
            "• In privato: scriva semplicemente la sua domanda.\n"
            "• In un gruppo: mi menzioni (@{bot} domanda), risponda a uno dei miei messaggi o "
            "usi /ask domanda.\n"
            "• In qualsiasi chat: digiti @{bot} domanda.\n\n"
            "Le domande sono benvenute in ogni lingua e possono concatenarsi: «E ad Almaty?» "
            "subito dopo una risposta ne riprende l'argomento. Una data colloca la domanda "
            "(«da lunedì», «la settimana scorsa»). 👍 e 👎 sotto una risposta aiutano a ordinare "
            "i passaggi. /sources elenca gli articoli."
        ),
    },
    "admin_help": {
        "fr": "Commandes d'administration : /reindex, /add (document ou URL), /remove ID…, /edit ID CHAMP VALEUR (title, date, outlet), /feeds (flux RSS et Atom), /gaps (questions sans réponse), /stats.",
        "en": "Admin commands: /reindex, /add (document or URL), /remove ID…, /edit ID FIELD VALUE (title, date, outlet), /feeds (RSS and Atom feeds), /gaps (unanswered questions), /stats.",
        "es": "Comandos de administración: /reindex, /add (documento o URL), /remove ID…, /edit ID CAMPO VALOR (title, date, outlet), /feeds (fuentes RSS y Atom), /gaps (preguntas sin respuesta), /stats.",
        "de": "Admin-Befehle: /reindex, /add (Dokument oder URL), /remove ID…, /edit ID FELD WERT (title, date, outlet), /feeds (RSS- und Atom-Feeds), /gaps (unbeantwortete Fragen), /stats.",
        "it": "Comandi di amministrazione: /reindex, /add (documento o URL), /remove ID…, /edit ID CAMPO VALORE (title, date, outlet), /feeds (feed RSS e Atom), /gaps (domande senza risposta), /stats.",
    },
    "no_answer": {
        "fr": "Les articles ne répondent pas à cette question. /sources montre ce qu'ils couvrent.",
        "en": "The articles do not answer this question. /sources shows what they cover.",
        "es": "Los artículos no responden a esta pregunta. /sources muestra lo que cubren.",
        "de": "Die Artikel beantworten diese Frage nicht. /sources zeigt, was sie abdecken.",
        "it": "Gli articoli non rispondono a questa domanda. /sources mostra di cosa trattano.",
    },
    "closest_note": {
        "fr": (
            "Je ne trouve pas de réponse sûre. Voici les passages les plus proches ; "
            "ils n'y répondent peut-être pas."
        ),
        "en": "I found no sure answer. Here are the closest passages; they may not answer it.",
        "es": (
            "No encuentro una respuesta segura. Estos son los pasajes más cercanos; puede que "
            "no respondan."
        ),
        "de": (
            "Ich finde keine sichere Antwort. Hier sind die nächstliegenden Stellen; "
            "vielleicht beantworten sie die Frage nicht."
        ),
        "it": (
            "Non trovo una risposta sicura. Ecco i passaggi più vicini; potrebbero non rispondere."
        ),
    },
    "closest_inline": {
        "fr": "Passage le plus proche",
        "en": "Closest passage",
        "es": "Pasaje más cercano",
        "de": "Nächstliegende Stelle",
        "it": "Passaggio più vicino",
    },
    "follow_up_note": {
        "fr": "Suite de : « {question} »",
        "en": "Following: “{question}”",
        "es": "Continuación de: «{question}»",
        "de": "Fortsetzung von: „{question}“",
        "it": "Seguito di: «{question}»",
    },
    "period": {
        "fr": "Articles publiés {period}",
        "en": "Articles published {period}",
        "es": "Artículos publicados {period}",
        "de": "Artikel, erschienen {period}",
        "it": "Articoli pubblicati {period}",
    },
    "period_widened": {
        "fr": "Aucun article publié {period} n'y répond ; voici les passages de tous les articles.",
        "en": "No article published {period} answers it; here are the passages of all the articles.",
        "es": (
            "Ningún artículo publicado {period} responde; estos son los pasajes de todos los "
            "artículos."
        ),
        "de": (
            "Kein Artikel, erschienen {period}, beantwortet sie; hier sind die Stellen aller "
            "Artikel."
        ),
        "it": (
            "Nessun articolo pubblicato {period} risponde; ecco i passaggi di tutti gli articoli."
        ),
    },
    "period_since": {
        "fr": "depuis le {first}",
        "en": "since {first}",
        "es": "desde el {first}",
        "de": "seit dem {first}",
        "it": "dal giorno {first}",
    },
    "period_until": {
        "fr": "jusqu'au {last}",
        "en": "until {last}",
        "es": "hasta el {last}",
        "de": "bis zum {last}",
        "it": "fino al giorno {last}",
    },
    "period_between": {
        "fr": "du {first} au {last}",
        "en": "from {first} to {last}",
        "es": "del {first} al {last}",
        "de": "vom {first} bis zum {last}",
        "it": "dal giorno {first} al giorno {last}",
    },
    "period_day": {
        "fr": "le {first}",
        "en": "on {first}",
        "es": "el {first}",
        "de": "am {first}",
        "it": "il giorno {first}",
    },
    "add_copies": {
        "fr": "Même texte que {names} : les réponses le citeront une fois.",
        "en": "Same text as {names}: answers will quote it once.",
        "es": "Mismo texto que {names}: las respuestas lo citarán una sola vez.",
        "de": "Derselbe Text wie {names}: Antworten zitieren ihn nur einmal.",
        "it": "Stesso testo di {names}: le risposte lo citeranno una volta sola.",
    },
    "forward_empty": {
        "fr": "Ce message transféré n'a pas de texte à ajouter.",
        "en": "This forwarded message has no text to add.",
        "es": "Este mensaje reenviado no tiene texto que añadir.",
        "de": "Diese weitergeleitete Nachricht hat keinen Text zum Hinzufügen.",
        "it": "Questo messaggio inoltrato non ha testo da aggiungere.",
    },
    "scope_private": {
        "fr": "Les discussions privées voient toute la collection ; /scope se choisit dans un groupe.",
        "en": "Private chats see the whole collection; /scope is chosen in a group.",
        "es": "Los chats privados ven toda la colección; /scope se elige en un grupo.",
        "de": "Private Chats sehen die ganze Sammlung; /scope wird in einer Gruppe gewählt.",
        "it": "Le chat private vedono tutta la raccolta; /scope si sceglie in un gruppo.",
    },
    "scope_refused": {
        "fr": "Seuls les administrateurs du groupe choisissent sa portée.",
        "en": "Only the group's administrators choose its scope.",
        "es": "Solo los administradores del grupo eligen su alcance.",
        "de": "Nur die Administratoren der Gruppe wählen ihren Bereich.",
        "it": "Solo gli amministratori del gruppo ne scelgono l'ambito.",
    },
    "scope_header": {
        "fr": "Portée de ce groupe : {scope}. Touchez un média, un flux ou un thème pour l'ajouter ou le retirer.",
        "en": "This group's scope: {scope}. Tap an outlet, a feed or a tag to add or remove it.",
        "es": (
            "Alcance de este grupo: {scope}. Toque un medio, una fuente o una etiqueta para "
            "añadirlo o quitarlo."
        ),
        "de": (
            "Bereich dieser Gruppe: {scope}. Tippen Sie auf ein Medium, einen Feed oder ein "
            "Schlagwort, um es hinzuzufügen oder zu entfernen."
        ),
        "it": (
            "Ambito di questo gruppo: {scope}. Tocchi una testata, un feed o un tag per "
            "aggiungerlo o rimuoverlo."
        ),
    },
    "scope_everything": {
        "fr": "toute la collection",
        "en": "the whole collection",
        "es": "toda la colección",
        "de": "die ganze Sammlung",
        "it": "tutta la raccolta",
    },
    "scope_all_button": {
        "fr": "Toute la collection",
        "en": "The whole collection",
        "es": "Toda la colección",
        "de": "Die ganze Sammlung",
        "it": "Tutta la raccolta",
    },
    "command_scope": {
        "fr": "Portée du groupe (administrateurs du groupe)",
        "en": "The group's scope (group administrators)",
        "es": "Alcance del grupo (administradores del grupo)",
        "de": "Bereich der Gruppe (Gruppenadministratoren)",
        "it": "Ambito del gruppo (amministratori del gruppo)",
    },
    "gaps_header": {
        "fr": "<b>Questions sans réponse sûre, {days|dernier jour|{days} derniers jours}</b>",
        "en": "<b>Questions without a sure answer, last {days|day|{days} days}</b>",
        "es": "<b>Preguntas sin respuesta segura, {days|último día|últimos {days} días}</b>",
        "de": "<b>Fragen ohne sichere Antwort, {days|letzter Tag|letzte {days} Tage}</b>",
        "it": "<b>Domande senza risposta sicura, {days|ultimo giorno|ultimi {days} giorni}</b>",
    },
    "gaps_none": {
        "fr": "Aucune.",
        "en": "None.",
        "es": "Ninguna.",
        "de": "Keine.",
        "it": "Nessuna.",
    },
    "gaps_disliked": {
        "fr": "<b>Réponses les moins bien notées</b>",
        "en": "<b>Lowest-rated answers</b>",
        "es": "<b>Respuestas peor valoradas</b>",
        "de": "<b>Am schlechtesten bewertete Antworten</b>",
        "it": "<b>Risposte con il voto più basso</b>",
    },
    # -- issue 22 (readers): /gaps cut to one message, one at a time per admin
    "gaps_more": {
        "fr": "… et {count} de plus",
        "en": "… and {count} more",
        "es": "… y {count} más",
        "de": "… und {count} weitere",
        "it": "… e altre {count}",
    },
    "gaps_busy": {
        "fr": "Le rapport est déjà en préparation : il arrive dès qu'il est prêt.",
        "en": "Already working on it: the report comes as soon as it is ready.",
        "es": "El informe ya se está preparando: llegará en cuanto esté listo.",
        "de": "Der Bericht wird schon erstellt: Er kommt, sobald er fertig ist.",
        "it": "Il rapporto è già in preparazione: arriva appena è pronto.",
    },
    # --
    "gap_declined": {
        "fr": "sans réponse",
        "en": "declined",
        "es": "sin respuesta",
        "de": "ohne Antwort",
        "it": "senza risposta",
    },
    "gap_closest": {
        "fr": "passages proches",
        "en": "closest passages",
        "es": "pasajes cercanos",
        "de": "nahe Stellen",
        "it": "passaggi vicini",
    },
    # -- issue 23 (scope said): a scoped group's replies, /sources and /gaps name its scope
    "no_answer_scoped": {
        "fr": "Les articles de ce groupe (portée : {scope}) ne répondent pas à cette question. /sources montre ce qu'ils couvrent.",
        "en": "This group's articles (scope: {scope}) do not answer this question. /sources shows what they cover.",
        "es": "Los artículos de este grupo (ámbito: {scope}) no responden a esta pregunta. /sources muestra lo que abarcan.",
        "de": "Die Artikel dieser Gruppe (Bereich: {scope}) beantworten diese Frage nicht. /sources zeigt, was sie abdecken.",
        "it": "Gli articoli di questo gruppo (ambito: {scope}) non rispondono a questa domanda. /sources mostra cosa coprono.",
    },
    "sources_scope": {
        "fr": "Portée de ce groupe : {scope}.",
        "en": "This group's scope: {scope}.",
        "es": "Ámbito de este grupo: {scope}.",
        "de": "Bereich dieser Gruppe: {scope}.",
        "it": "Ambito di questo gruppo: {scope}.",
    },
    "sources_scope_empty": {
        "fr": "Aucun article de la collection n'est dans la portée de ce groupe ({scope}).",
        "en": "No article of the collection is in this group's scope ({scope}).",
        "es": "Ningún artículo de la colección está en el ámbito de este grupo ({scope}).",
        "de": "Kein Artikel der Sammlung liegt im Bereich dieser Gruppe ({scope}).",
        "it": "Nessun articolo della raccolta rientra nell'ambito di questo gruppo ({scope}).",
    },
    "gap_scope": {
        "fr": "portée : {scope}",
        "en": "scope: {scope}",
        "es": "ámbito: {scope}",
        "de": "Bereich: {scope}",
        "it": "ambito: {scope}",
    },
    # --
    "command_gaps": {
        "fr": "Questions restées sans réponse",
        "en": "Questions left without an answer",
        "es": "Preguntas que quedaron sin respuesta",
        "de": "Unbeantwortet gebliebene Fragen",
        "it": "Domande rimaste senza risposta",
    },
    "feeds_usage": {
        "fr": (
            "/feeds liste les flux suivis, /feeds add URL en ajoute un (RSS ou Atom), "
            "/feeds remove ID le retire (ses articles restent)."
        ),
        "en": (
            "/feeds lists the feeds followed, /feeds add URL adds one (RSS or Atom), "
            "/feeds remove ID removes it (its articles stay)."
        ),
        "es": (
            "/feeds lista las fuentes seguidas, /feeds add URL añade una (RSS o Atom), /feeds "
            "remove ID la quita (sus artículos se quedan)."
        ),
        "de": (
            "/feeds listet die abonnierten Feeds, /feeds add URL fügt einen hinzu (RSS oder "
            "Atom), /feeds remove ID entfernt ihn (seine Artikel bleiben)."
        ),
        "it": (
            "/feeds elenca i feed seguiti, /feeds add URL ne aggiunge uno (RSS o Atom), /feeds "
            "remove ID lo rimuove (i suoi articoli restano)."
        ),
    },
    "feeds_empty": {
        "fr": "Aucun flux suivi. Ajoutez-en un avec /feeds add URL.",
        "en": "No feed followed. Add one with /feeds add URL.",
        "es": "No se sigue ninguna fuente. Añada una con /feeds add URL.",
        "de": "Kein Feed abonniert. Fügen Sie einen mit /feeds add URL hinzu.",
        "it": "Nessun feed seguito. Ne aggiunga uno con /feeds add URL.",
    },
    "feeds_header": {
        "fr": "Flux suivis : {count}",
        "en": "Feeds followed: {count}",
        "es": "Fuentes seguidas: {count}",
        "de": "Abonnierte Feeds: {count}",
        "it": "Feed seguiti: {count}",
    },
    "feeds_header_paged": {
        "fr": "Flux suivis : {count} (page {page}/{pages})",
        "en": "Feeds followed: {count} (page {page}/{pages})",
        "es": "Fuentes seguidas: {count} (página {page}/{pages})",
        "de": "Abonnierte Feeds: {count} (Seite {page}/{pages})",
        "it": "Feed seguiti: {count} (pagina {page}/{pages})",
    },
    "feeds_skipped": {
        "fr": (
            "  ⚠️ {count} {count|entrée ignorée|entrées ignorées}, la dernière ({when}) : {reason}"
        ),
        "en": "  ⚠️ {count} {count|entry|entries} skipped, the last ({when}): {reason}",
        "es": (
            "  ⚠️ {count} {count|entrada omitida|entradas omitidas}, la última ({when}): {reason}"
        ),
        "de": "  ⚠️ {count} {count|Eintrag|Einträge} übersprungen, der letzte ({when}): {reason}",
        "it": "  ⚠️ {count} {count|voce ignorata|voci ignorate}, l'ultima ({when}): {reason}",
    },
    "feeds_health": {
        "fr": (
            "  dernière lecture réussie : {success} · {added} {added|article ajouté|articles "
            "ajoutés}"
        ),
        "en": "  last successful read: {success} · {added} {added|article|articles} added",
        "es": (
            "  última lectura correcta: {success} · {added} {added|artículo añadido|artículos "
            "añadidos}"
        ),
        "de": "  letzter erfolgreicher Abruf: {success} · {added} Artikel hinzugefügt",
        "it": (
            "  ultima lettura riuscita: {success} · {added} {added|articolo aggiunto|articoli "
            "aggiunti}"
        ),
    },
    "feeds_error": {
        "fr": "  ⚠️ dernière erreur ({when}) : {reason}",
        "en": "  ⚠️ last error ({when}): {reason}",
        "es": "  ⚠️ último error ({when}): {reason}",
        "de": "  ⚠️ letzter Fehler ({when}): {reason}",
        "it": "  ⚠️ ultimo errore ({when}): {reason}",
    },
    "feeds_added": {
        "fr": "Flux suivi : « {title} » ({id}). {added} {added|article ajouté|articles ajoutés}.",
        "en": "Feed followed: “{title}” ({id}). {added} {added|article|articles} added.",
        "es": (
            "Fuente seguida: «{title}» ({id}). {added} {added|artículo añadido|artículos añadidos}."
        ),
        "de": "Feed abonniert: „{title}“ ({id}). {added} Artikel hinzugefügt.",
        "it": (
            "Feed seguito: «{title}» ({id}). {added} {added|articolo aggiunto|articoli aggiunti}."
        ),
    },
    "feeds_added_later": {
        "fr": "Flux suivi : « {title} » ({id}). Une lecture des flux est en cours : il sera lu à la prochaine.",
        "en": "Feed followed: “{title}” ({id}). The feeds are being read: it will be read next time.",
        "es": "Fuente seguida: «{title}» ({id}). Se están leyendo las fuentes: se leerá en la próxima ronda.",
        "de": "Feed abonniert: „{title}“ ({id}). Die Feeds werden gerade gelesen: er wird beim nächsten Mal gelesen.",
        "it": "Feed seguito: «{title}» ({id}). I feed sono in lettura: sarà letto al prossimo giro.",
    },
    "feeds_note": {
        "fr": "Flux : ce qu'ils ont apporté",
        "en": "Feeds: what they brought",
        "es": "Fuentes: lo que han traído",
        "de": "Feeds: was sie gebracht haben",
        "it": "Feed: cosa hanno portato",
    },
    "feeds_note_since": {
        "fr": "Flux : ce qu'ils ont apporté depuis le {since}",
        "en": "Feeds: what they brought since {since}",
        "es": "Fuentes: lo que han traído desde el {since}",
        "de": "Feeds: was sie seit dem {since} gebracht haben",
        "it": "Feed: cosa hanno portato dal giorno {since}",
    },
    "feeds_note_feed": {
        "fr": "\n<b>{name}</b> ({id}) : {added} {added|article ajouté|articles ajoutés}",
        "en": "\n<b>{name}</b> ({id}): {added} {added|article|articles} added",
        "es": "\n<b>{name}</b> ({id}): {added} {added|artículo añadido|artículos añadidos}",
        "de": "\n<b>{name}</b> ({id}): {added} Artikel hinzugefügt",
        "it": "\n<b>{name}</b> ({id}): {added} {added|articolo aggiunto|articoli aggiunti}",
    },
    "feeds_note_title": {
        "fr": "  • {title}",
        "en": "  • {title}",
        "es": "  • {title}",
        "de": "  • {title}",
        "it": "  • {title}",
    },
    "feeds_note_more": {
        "fr": "  • … et {count} {count|autre|autres}",
        "en": "  • … and {count} more",
        "es": "  • … y {count} {count|más|más}",
        "de": "  • … und {count} weitere",
        "it": "  • … e altri {count}",
    },
    "feeds_note_skipped": {
        "fr": "  ⚠️ {count} {count|entrée ignorée|entrées ignorées}, la dernière : {reason}",
        "en": "  ⚠️ {count} {count|entry|entries} skipped, the last: {reason}",
        "es": "  ⚠️ {count} {count|entrada omitida|entradas omitidas}, la última: {reason}",
        "de": "  ⚠️ {count} {count|Eintrag|Einträge} übersprungen, der letzte: {reason}",
        "it": "  ⚠️ {count} {count|voce ignorata|voci ignorate}, l'ultima: {reason}",
    },
    "feeds_note_cut": {
        "fr": "\n… et {count} {count|autre flux|autres flux} : /feeds",
        "en": "\n… and {count} more {count|feed|feeds}: /feeds",
        "es": "\n… y {count} {count|fuente más|fuentes más}: /feeds",
        "de": "\n… und {count} {count|weiterer Feed|weitere Feeds}: /feeds",
        "it": "\n… e altri {count} feed: /feeds",
    },
    "feeds_already": {
        "fr": "Ce flux est déjà suivi : « {title} » ({id}).",
        "en": "This feed is already followed: “{title}” ({id}).",
        "es": "Esta fuente ya se sigue: «{title}» ({id}).",
        "de": "Dieser Feed ist schon abonniert: „{title}“ ({id}).",
        "it": "Questo feed è già seguito: «{title}» ({id}).",
    },
    "feeds_refused": {
        "fr": "Flux non ajouté : {reason}.",
        "en": "Feed not added: {reason}.",
        "es": "Fuente no añadida: {reason}.",
        "de": "Feed nicht hinzugefügt: {reason}.",
        "it": "Feed non aggiunto: {reason}.",
    },
    "feeds_removed": {
        "fr": "Flux retiré : « {title} » ({id}). Ses articles restent dans la collection.",
        "en": "Feed removed: “{title}” ({id}). Its articles stay in the collection.",
        "es": "Fuente retirada: «{title}» ({id}). Sus artículos se quedan en la colección.",
        "de": "Feed entfernt: „{title}“ ({id}). Seine Artikel bleiben in der Sammlung.",
        "it": "Feed rimosso: «{title}» ({id}). I suoi articoli restano nella raccolta.",
    },
    "feeds_unknown": {
        "fr": "Aucun flux n'a l'ID {id} : /feeds les liste.",
        "en": "No feed has the id {id}: /feeds lists them.",
        "es": "Ninguna fuente tiene el ID {id}: /feeds las lista.",
        "de": "Kein Feed hat die ID {id}: /feeds listet sie.",
        "it": "Nessun feed ha l'ID {id}: /feeds li elenca.",
    },
    "also_in": {
        "fr": "aussi dans : {names}",
        "en": "also in: {names}",
        "es": "también en: {names}",
        "de": "auch in: {names}",
        "it": "anche in: {names}",
    },
    "more_button": {
        "fr": "Plus",
        "en": "More",
        "es": "Más",
        "de": "Mehr",
        "it": "Altro",
    },
    "wrong_button": {
        "fr": "✗ {n} faux",
        "en": "✗ {n} wrong",
        "es": "✗ {n} incorrecto",
        "de": "✗ {n} falsch",
        "it": "✗ {n} sbagliato",
    },
    "vote_thanks": {
        "fr": "Merci, c'est noté.",
        "en": "Thanks, noted.",
        "es": "Gracias, anotado.",
        "de": "Danke, notiert.",
        "it": "Grazie, preso nota.",
    },
    "vote_which": {
        "fr": "Merci. Quel passage est faux ? Touchez son numéro.",
        "en": "Thanks. Which passage is wrong? Tap its number.",
        "es": "Gracias. ¿Qué pasaje es incorrecto? Toque su número.",
        "de": "Danke. Welche Stelle ist falsch? Tippen Sie auf ihre Nummer.",
        "it": "Grazie. Quale passaggio è sbagliato? Tocchi il suo numero.",
    },
    "context_button": {
        "fr": "Contexte {n}",
        "en": "Context {n}",
        "es": "Contexto {n}",
        "de": "Kontext {n}",
        "it": "Contesto {n}",
    },
    "expired": {
        "fr": "Cette réponse a expiré, posez à nouveau la question.",
        "en": "This answer has expired, ask again.",
        "es": "Esta respuesta ha caducado; vuelva a hacer la pregunta.",
        "de": "Diese Antwort ist abgelaufen; stellen Sie die Frage bitte erneut.",
        "it": "Questa risposta è scaduta; faccia di nuovo la domanda.",
    },
    "no_more": {
        "fr": "Pas d'autres passages.",
        "en": "No more passages.",
        "es": "No hay más pasajes.",
        "de": "Keine weiteren Stellen.",
        "it": "Non ci sono altri passaggi.",
    },
    "page_spent": {
        "fr": "Les passages suivants sont déjà affichés plus bas.",
        "en": "The next passages are already shown below.",
        "es": "Los pasajes siguientes ya se muestran más abajo.",
        "de": "Die nächsten Stellen stehen schon weiter unten.",
        "it": "I passaggi successivi sono già mostrati più in basso.",
    },
    "answer_outdated": {
        "fr": "L'article a changé depuis cette réponse ; posez à nouveau la question.",
        "en": "The article changed since this answer; ask again.",
        "es": "El artículo ha cambiado desde esta respuesta; vuelva a hacer la pregunta.",
        "de": "Der Artikel hat sich seit dieser Antwort geändert; stellen Sie die Frage erneut.",
        "it": "L'articolo è cambiato da questa risposta; faccia di nuovo la domanda.",
    },
    "empty_question": {
        "fr": "Posez-moi une question sur les articles, par exemple : /ask Qui est Tokaïev ?",
        "en": "Ask me a question about the articles, for example: /ask Who is Tokayev?",
        "es": "Hágame una pregunta sobre los artículos, por ejemplo: /ask ¿Quién es Tokáyev?",
        "de": "Stellen Sie mir eine Frage zu den Artikeln, zum Beispiel: /ask Wer ist Tokajew?",
        "it": "Mi faccia una domanda sugli articoli, per esempio: /ask Chi è Tokaev?",
    },
    "rate_limited": {
        "fr": "Vous posez beaucoup de questions : je reprends dans une minute.",
        "en": "You are asking a lot of questions: I will answer again in a minute.",
        "es": "Está haciendo muchas preguntas: vuelvo a responder dentro de un minuto.",
        "de": "Sie stellen sehr viele Fragen: Ich antworte in einer Minute wieder.",
        "it": "Sta facendo molte domande: riprendo a rispondere tra un minuto.",
    },
    "error": {
        "fr": "Désolé, quelque chose s'est mal passé. Réessayez plus tard.",
        "en": "Sorry, something went wrong. Please try again later.",
        "es": "Lo siento, algo ha salido mal. Inténtelo de nuevo más tarde.",
        "de": "Entschuldigung, etwas ist schiefgelaufen. Versuchen Sie es später noch einmal.",
        "it": "Mi dispiace, qualcosa è andato storto. Riprovi più tardi.",
    },
    "index_missing": {
        "fr": "Aucun index n'est encore construit ; un administrateur doit lancer /reindex.",
        "en": "No index has been built yet; an admin must run /reindex.",
        "es": "Todavía no hay ningún índice; un administrador debe lanzar /reindex.",
        "de": "Es gibt noch keinen Index; ein Administrator muss /reindex ausführen.",
        "it": "Non c'è ancora un indice; un amministratore deve lanciare /reindex.",
    },
    "model_mismatch": {
        "fr": "L'index a été construit avec un autre modèle ; un administrateur doit lancer /reindex.",
        "en": "The index was built with another model; an admin must run /reindex.",
        "es": "El índice se construyó con otro modelo; un administrador debe lanzar /reindex.",
        "de": (
            "Der Index wurde mit einem anderen Modell erstellt; ein Administrator muss "
            "/reindex ausführen."
        ),
        "it": (
            "L'indice è stato costruito con un altro modello; un amministratore deve lanciare "
            "/reindex."
        ),
    },
    "admin_only": {
        "fr": "Désolé, cette commande est réservée aux administrateurs du bot.",
        "en": "Sorry, this command is only for the bot's administrators.",
        "es": "Lo siento, este comando es solo para los administradores del bot.",
        "de": "Entschuldigung, dieser Befehl ist nur für die Administratoren des Bots.",
        "it": "Mi dispiace, questo comando è riservato agli amministratori del bot.",
    },
    "sources_header": {
        "fr": "<b>Articles ({count})</b> — page {page}/{pages}",
        "en": "<b>Articles ({count})</b> — page {page}/{pages}",
        "es": "<b>Artículos ({count})</b> — página {page}/{pages}",
        "de": "<b>Artikel ({count})</b> — Seite {page}/{pages}",
        "it": "<b>Articoli ({count})</b> — pagina {page}/{pages}",
    },
    "sources_empty": {
        "fr": "Aucun article n'est indexé pour l'instant.",
        "en": "No article is indexed yet.",
        "es": "Todavía no hay ningún artículo indexado.",
        "de": "Noch ist kein Artikel indexiert.",
        "it": "Nessun articolo è ancora indicizzato.",
    },
    "prev_button": {
        "fr": "◀ Préc.",
        "en": "◀ Prev",
        "es": "◀ Ant.",
        "de": "◀ Zurück",
        "it": "◀ Prec.",
    },
    "next_button": {
        "fr": "Suiv. ▶",
        "en": "Next ▶",
        "es": "Sig. ▶",
        "de": "Weiter ▶",
        "it": "Succ. ▶",
    },
    "reindex_started": {
        "fr": "Réindexation…",
        "en": "Reindexing…",
        "es": "Reindexando…",
        "de": "Neuindizierung…",
        "it": "Reindicizzazione…",
    },
    "reindex_progress": {
        "fr": "Réindexation… {stage} {done}/{total}",
        "en": "Reindexing… {stage} {done}/{total}",
        "es": "Reindexando… {stage} {done}/{total}",
        "de": "Neuindizierung… {stage} {done}/{total}",
        "it": "Reindicizzazione… {stage} {done}/{total}",
    },
    "stage_chunk": {
        "fr": "découpage",
        "en": "chunking",
        "es": "división",
        "de": "Zerlegung",
        "it": "suddivisione",
    },
    "stage_embed": {
        "fr": "vectorisation",
        "en": "embedding",
        "es": "vectorización",
        "de": "Vektorisierung",
        "it": "vettorizzazione",
    },
    "stage_write": {
        "fr": "écriture",
        "en": "writing",
        "es": "escritura",
        "de": "Schreiben",
        "it": "scrittura",
    },
    "reindex_running": {
        "fr": "Une réindexation est déjà en cours ; réessayez quand elle sera finie.",
        "en": "A reindex is already running; try again when it ends.",
        "es": "Ya hay una reindexación en curso; inténtelo de nuevo cuando termine.",
        "de": "Eine Neuindizierung läuft bereits; versuchen Sie es erneut, wenn sie fertig ist.",
        "it": "Una reindicizzazione è già in corso; riprovi quando sarà finita.",
    },
    "reindex_done": {
        "fr": (
            "Réindexation terminée : {articles} {articles|article|articles}, {passages} "
            "{passages|passage|passages}. {added} {added|ajouté|ajoutés}, {updated} "
            "{updated|modifié|modifiés}, {removed} {removed|retiré|retirés}, {unchanged} "
            "{unchanged|inchangé|inchangés} ; {embedded} {embedded|texte vectorisé|textes "
            "vectorisés}, {reused} {reused|réutilisé|réutilisés} ; {seconds} s."
        ),
        "en": (
            "Reindex done: {articles} {articles|article|articles}, {passages} "
            "{passages|passage|passages}. {added} added, {updated} changed, {removed} removed, "
            "{unchanged} unchanged; {embedded} {embedded|text|texts} embedded, {reused} "
            "reused; {seconds} s."
        ),
        "es": (
            "Reindexación terminada: {articles} {articles|artículo|artículos}, {passages} "
            "{passages|pasaje|pasajes}. {added} {added|añadido|añadidos}, {updated} "
            "{updated|modificado|modificados}, {removed} {removed|retirado|retirados}, "
            "{unchanged} sin cambios; {embedded} {embedded|texto vectorizado|textos "
            "vectorizados}, {reused} {reused|reutilizado|reutilizados}; {seconds} s."
        ),
        "de": (
            "Neuindizierung fertig: {articles} Artikel, {passages} "
            "{passages|Passage|Passagen}. {added} hinzugefügt, {updated} geändert, {removed} "
            "entfernt, {unchanged} unverändert; {embedded} {embedded|Text|Texte} vektorisiert, "
            "{reused} wiederverwendet; {seconds} s."
        ),
        "it": (
            "Reindicizzazione terminata: {articles} {articles|articolo|articoli}, {passages} "
            "{passages|passaggio|passaggi}. {added} {added|aggiunto|aggiunti}, {updated} "
            "{updated|modificato|modificati}, {removed} {removed|rimosso|rimossi}, {unchanged} "
            "{unchanged|invariato|invariati}; {embedded} {embedded|testo vettorizzato|testi "
            "vettorizzati}, {reused} {reused|riutilizzato|riutilizzati}; {seconds} s."
        ),
    },
    "reindex_skipped": {
        "fr": "Ignoré : {path} ({reason})",
        "en": "Skipped: {path} ({reason})",
        "es": "Omitido: {path} ({reason})",
        "de": "Übersprungen: {path} ({reason})",
        "it": "Ignorato: {path} ({reason})",
    },
    "reindex_failed": {
        "fr": "La réindexation a échoué ({reason}) ; l'ancien index reste en service.",
        "en": "The reindex failed ({reason}); the previous index is still serving.",
        "es": "La reindexación ha fallado ({reason}); el índice anterior sigue en servicio.",
        "de": (
            "Die Neuindizierung ist fehlgeschlagen ({reason}); der bisherige Index bleibt in "
            "Betrieb."
        ),
        "it": (
            "La reindicizzazione non è riuscita ({reason}); l'indice precedente resta in servizio."
        ),
    },
    "add_usage": {
        "fr": (
            "Envoyez un document .txt, .md, .html, .json, .pdf ou .docx avec la légende /add, répondez "
            "/add à un document, ou écrivez /add URL."
        ),
        "en": (
            "Send a .txt, .md, .html, .json, .pdf or .docx document with the caption /add, reply /add "
            "to a document, or write /add URL."
        ),
        "es": (
            "Envíe un documento .txt, .md, .html, .json, .pdf o .docx con el pie /add, "
            "responda /add a un documento o escriba /add URL."
        ),
        "de": (
            "Senden Sie ein Dokument (.txt, .md, .html, .json, .pdf oder .docx) mit der "
            "Beschriftung /add, antworten Sie mit /add auf ein Dokument oder schreiben Sie "
            "/add URL."
        ),
        "it": (
            "Invii un documento .txt, .md, .html, .json, .pdf o .docx con la didascalia /add, "
            "risponda /add a un documento o scriva /add URL."
        ),
    },
    "add_too_large": {
        "fr": "Fichier trop gros ({size}) : la limite est {limit}.",
        "en": "File too large ({size}): the limit is {limit}.",
        "es": "Archivo demasiado grande ({size}): el límite es {limit}.",
        "de": "Datei zu groß ({size}): Die Grenze liegt bei {limit}.",
        "it": "File troppo grande ({size}): il limite è {limit}.",
    },
    "add_unsupported": {
        "fr": "Type de fichier non pris en charge : utilisez .txt, .md, .html, .json, .pdf ou .docx.",
        "en": "Unsupported file type: use .txt, .md, .html, .json, .pdf or .docx.",
        "es": "Tipo de archivo no admitido: use .txt, .md, .html, .json, .pdf o .docx.",
        "de": (
            "Dateityp nicht unterstützt: Verwenden Sie .txt, .md, .html, .json, .pdf oder .docx."
        ),
        "it": "Tipo di file non supportato: usi .txt, .md, .html, .json, .pdf o .docx.",
    },
    "storage_write_failed": {
        "fr": (
            "Écriture impossible sur le disque des données (plein ?) : rien n'a été modifié et "
            "l'index sert comme avant. Libérez de la place, puis recommencez."
        ),
        "en": (
            "Could not write to the data disk (is it full?): nothing was changed and the index "
            "serves as before. Free some space, then try again."
        ),
        "es": (
            "No se puede escribir en el disco de datos (¿lleno?): no se ha modificado nada y "
            "el índice sirve como antes. Libere espacio y vuelva a intentarlo."
        ),
        "de": (
            "Schreiben auf den Datenträger nicht möglich (voll?): Nichts wurde geändert, der "
            "Index arbeitet wie zuvor. Schaffen Sie Platz und versuchen Sie es erneut."
        ),
        "it": (
            "Impossibile scrivere sul disco dei dati (pieno?): non è stato modificato nulla e "
            "l'indice funziona come prima. Liberi spazio, poi riprovi."
        ),
    },
    "add_rejected": {
        "fr": "Non ajouté : {reason}.",
        "en": "Not added: {reason}.",
        "es": "No añadido: {reason}.",
        "de": "Nicht hinzugefügt: {reason}.",
        "it": "Non aggiunto: {reason}.",
    },
    "storage_unavailable": {
        "fr": "La base de données ne répond pas : rien n'a été modifié. Réessayez dans un instant.",
        "en": "The database does not answer: nothing was changed. Try again in a moment.",
        "es": "La base de datos no responde: no se ha cambiado nada. Inténtelo de nuevo en un momento.",
        "de": "Die Datenbank antwortet nicht: Es wurde nichts geändert. Versuchen Sie es gleich noch einmal.",
        "it": "Il database non risponde: non è stato modificato nulla. Riprovi tra un momento.",
    },
    "add_fetch_failed": {
        "fr": "Impossible de récupérer l'URL : {reason}.",
        "en": "Could not fetch the URL: {reason}.",
        "es": "No se pudo obtener la URL: {reason}.",
        "de": "Die URL konnte nicht abgerufen werden: {reason}.",
        "it": "Impossibile scaricare l'URL: {reason}.",
    },
    "change_queued": {
        "fr": "Une autre modification est en cours ({running}) ; la vôtre suit dès qu'elle est finie.",
        "en": "Another change is running ({running}); yours follows as soon as it ends.",
        "es": "Hay otro cambio en curso ({running}); el suyo irá en cuanto termine.",
        "de": "Eine andere Änderung läuft ({running}); Ihre folgt, sobald sie fertig ist.",
        "it": "È in corso un'altra modifica ({running}); la sua segue appena finisce.",
    },
    "changes_full": {
        "fr": "Trop de modifications attendent déjà ; réessayez dans quelques minutes.",
        "en": "Too many changes are already waiting; try again in a few minutes.",
        "es": "Ya hay demasiados cambios en espera; inténtelo de nuevo en unos minutos.",
        "de": "Es warten schon zu viele Änderungen; versuchen Sie es in ein paar Minuten erneut.",
        "it": "Troppe modifiche sono già in attesa; riprovi tra qualche minuto.",
    },
    "add_done": {
        "fr": "Ajouté : « {title} » (<code>{id}</code>), {passages} {passages|passage|passages}.",
        "en": "Added: “{title}” (<code>{id}</code>), {passages} {passages|passage|passages}.",
        "es": "Añadido: «{title}» (<code>{id}</code>), {passages} {passages|pasaje|pasajes}.",
        "de": (
            "Hinzugefügt: „{title}“ (<code>{id}</code>), {passages} {passages|Passage|Passagen}."
        ),
        "it": "Aggiunto: «{title}» (<code>{id}</code>), {passages} {passages|passaggio|passaggi}.",
    },
    "remove_usage": {
        "fr": "Usage : /remove ID [ID…] (les ID sont dans /sources).",
        "en": "Usage: /remove ID [ID…] (the ids are in /sources).",
        "es": "Uso: /remove ID [ID…] (los ID están en /sources).",
        "de": "Verwendung: /remove ID [ID…] (die IDs stehen in /sources).",
        "it": "Uso: /remove ID [ID…] (gli ID sono in /sources).",
    },
    "remove_unknown": {
        "fr": "Aucun article n'a l'ID <code>{id}</code> ; voyez /sources.",
        "en": "No article has the id <code>{id}</code>; see /sources.",
        "es": "Ningún artículo tiene el ID <code>{id}</code>; vea /sources.",
        "de": "Kein Artikel hat die ID <code>{id}</code>; siehe /sources.",
        "it": "Nessun articolo ha l'ID <code>{id}</code>; veda /sources.",
    },
    "remove_confirm": {
        "fr": "Retirer « {title} » (<code>{id}</code>) ? Le fichier ira dans la corbeille.",
        "en": "Remove “{title}” (<code>{id}</code>)? Its file will go to the trash.",
        "es": "¿Retirar «{title}» (<code>{id}</code>)? Su archivo irá a la papelera.",
        "de": "„{title}“ (<code>{id}</code>) entfernen? Die Datei kommt in den Papierkorb.",
        "it": "Rimuovere «{title}» (<code>{id}</code>)? Il file andrà nel cestino.",
    },
    "yes_button": {
        "fr": "Oui, retirer",
        "en": "Yes, remove",
        "es": "Sí, retirar",
        "de": "Ja, entfernen",
        "it": "Sì, rimuovi",
    },
    "cancel_button": {
        "fr": "Annuler",
        "en": "Cancel",
        "es": "Cancelar",
        "de": "Abbrechen",
        "it": "Annulla",
    },
    "remove_done": {
        "fr": "Retiré : « {title} » (<code>{id}</code>). Fichier déplacé vers {trash}.",
        "en": "Removed: “{title}” (<code>{id}</code>). File moved to {trash}.",
        "es": "Retirado: «{title}» (<code>{id}</code>). Archivo movido a {trash}.",
        "de": "Entfernt: „{title}“ (<code>{id}</code>). Datei verschoben nach {trash}.",
        "it": "Rimosso: «{title}» (<code>{id}</code>). File spostato in {trash}.",
    },
    "remove_done_no_file": {
        "fr": "Retiré de l'index : « {title} » (<code>{id}</code>) ; aucun fichier trouvé.",
        "en": "Removed from the index: “{title}” (<code>{id}</code>); no file found.",
        "es": "Retirado del índice: «{title}» (<code>{id}</code>); no se encontró ningún archivo.",
        "de": "Aus dem Index entfernt: „{title}“ (<code>{id}</code>); keine Datei gefunden.",
        "it": "Rimosso dall'indice: «{title}» (<code>{id}</code>); nessun file trovato.",
    },
    "remove_cancelled": {
        "fr": "Suppression annulée.",
        "en": "Removal cancelled.",
        "es": "Retirada cancelada.",
        "de": "Entfernen abgebrochen.",
        "it": "Rimozione annullata.",
    },
    # Every admin action answered: a document without /add, several ids per /remove, an
    # article already there, /edit, and commands the bot does not know (anyone's).
    "upload_offer": {
        "fr": "Document reçu : « {name} ». L'ajouter à la collection ?",
        "en": "Document received: “{name}”. Add it to the collection?",
        "es": "Documento recibido: «{name}». ¿Añadirlo a la colección?",
        "de": "Dokument erhalten: „{name}“. Zur Sammlung hinzufügen?",
        "it": "Documento ricevuto: «{name}». Aggiungerlo alla raccolta?",
    },
    "add_button": {
        "fr": "Ajouter à la collection",
        "en": "Add to the collection",
        "es": "Añadir a la colección",
        "de": "Zur Sammlung hinzufügen",
        "it": "Aggiungi alla raccolta",
    },
    "upload_taken": {
        "fr": "Ajout de « {name} »…",
        "en": "Adding “{name}”…",
        "es": "Añadiendo «{name}»…",
        "de": "„{name}“ wird hinzugefügt…",
        "it": "Aggiunta di «{name}»…",
    },
    "upload_expired": {
        "fr": "Ce bouton a expiré : renvoyez le document avec la légende /add.",
        "en": "This button has expired: send the document again with the caption /add.",
        "es": "Este botón ha caducado: vuelva a enviar el documento con el pie /add.",
        "de": "Diese Schaltfläche ist abgelaufen: Senden Sie das Dokument erneut mit der Beschriftung /add.",
        "it": "Questo pulsante è scaduto: invii di nuovo il documento con la didascalia /add.",
    },
    "add_unchanged": {
        "fr": "Déjà dans la collection, inchangé : « {title} » (<code>{id}</code>).",
        "en": "Already in the collection, unchanged: “{title}” (<code>{id}</code>).",
        "es": "Ya está en la colección, sin cambios: «{title}» (<code>{id}</code>).",
        "de": "Bereits in der Sammlung, unverändert: „{title}“ (<code>{id}</code>).",
        "it": "Già nella raccolta, invariato: «{title}» (<code>{id}</code>).",
    },
    "remove_too_many": {
        "fr": "Au plus {limit} articles par /remove.",
        "en": "At most {limit} articles per /remove.",
        "es": "Como máximo {limit} artículos por /remove.",
        "de": "Höchstens {limit} Artikel pro /remove.",
        "it": "Al massimo {limit} articoli per /remove.",
    },
    "remove_unknown_ids": {
        "fr": "Aucun article n'a ces ID : {ids} ; voyez /sources.",
        "en": "No article has these ids: {ids}; see /sources.",
        "es": "Ningún artículo tiene estos ID: {ids}; vea /sources.",
        "de": "Kein Artikel hat diese IDs: {ids}; siehe /sources.",
        "it": "Nessun articolo ha questi ID: {ids}; veda /sources.",
    },
    "remove_confirm_many": {
        "fr": "Retirer ces {count} articles ? Leurs fichiers iront dans la corbeille.",
        "en": "Remove these {count} articles? Their files will go to the trash.",
        "es": "¿Retirar estos {count} artículos? Sus archivos irán a la papelera.",
        "de": "Diese {count} Artikel entfernen? Ihre Dateien kommen in den Papierkorb.",
        "it": "Rimuovere questi {count} articoli? I loro file andranno nel cestino.",
    },
    "remove_item": {
        "fr": "• « {title} » (<code>{id}</code>)",
        "en": "• “{title}” (<code>{id}</code>)",
        "es": "• «{title}» (<code>{id}</code>)",
        "de": "• „{title}“ (<code>{id}</code>)",
        "it": "• «{title}» (<code>{id}</code>)",
    },
    "remove_done_many": {
        "fr": "Retirés ({count}) :",
        "en": "Removed ({count}):",
        "es": "Retirados ({count}):",
        "de": "Entfernt ({count}):",
        "it": "Rimossi ({count}):",
    },
    "remove_item_no_file": {
        "fr": "• « {title} » (<code>{id}</code>) : aucun fichier trouvé",
        "en": "• “{title}” (<code>{id}</code>): no file found",
        "es": "• «{title}» (<code>{id}</code>): no se encontró ningún archivo",
        "de": "• „{title}“ (<code>{id}</code>): keine Datei gefunden",
        "it": "• «{title}» (<code>{id}</code>): nessun file trovato",
    },
    "remove_trashed": {
        "fr": "Fichiers déplacés vers {trash}.",
        "en": "Files moved to {trash}.",
        "es": "Archivos movidos a {trash}.",
        "de": "Dateien nach {trash} verschoben.",
        "it": "File spostati in {trash}.",
    },
    "remove_gone": {
        "fr": "Déjà retirés entre-temps : {ids}.",
        "en": "Already removed meanwhile: {ids}.",
        "es": "Ya retirados mientras tanto: {ids}.",
        "de": "Inzwischen bereits entfernt: {ids}.",
        "it": "Già rimossi nel frattempo: {ids}.",
    },
    "unknown_command": {
        "fr": "Je ne connais pas la commande {command} : /help dit ce que je sais faire.",
        "en": "I do not know the command {command}: /help says what I can do.",
        "es": "No conozco el comando {command}: /help dice lo que sé hacer.",
        "de": "Den Befehl {command} kenne ich nicht: /help sagt, was ich kann.",
        "it": "Non conosco il comando {command}: /help dice cosa so fare.",
    },
    "edit_usage": {
        "fr": "Usage : /edit ID CHAMP VALEUR, où CHAMP est title (titre), date ou outlet (média) ; par exemple /edit volcan date 5 mars 2024 (les ID sont dans /sources).",
        "en": "Usage: /edit ID FIELD VALUE, where FIELD is title, date or outlet; for example /edit volcan date 5 March 2024 (the ids are in /sources).",
        "es": "Uso: /edit ID CAMPO VALOR, donde CAMPO es title (título), date (fecha) u outlet (medio); por ejemplo /edit volcan date 5 de marzo de 2024 (los ID están en /sources).",
        "de": "Verwendung: /edit ID FELD WERT, wobei FELD title (Titel), date (Datum) oder outlet (Medium) ist; zum Beispiel /edit volcan date 5. März 2024 (die IDs stehen in /sources).",
        "it": "Uso: /edit ID CAMPO VALORE, dove CAMPO è title (titolo), date (data) o outlet (testata); per esempio /edit volcan date 5 marzo 2024 (gli ID sono in /sources).",
    },
    "edit_field_unknown": {
        "fr": "Champ inconnu « {field} » : title (titre), date ou outlet (média).",
        "en": "Unknown field “{field}”: title, date or outlet.",
        "es": "Campo desconocido «{field}»: title (título), date (fecha) u outlet (medio).",
        "de": "Unbekanntes Feld „{field}“: title (Titel), date (Datum) oder outlet (Medium).",
        "it": "Campo sconosciuto «{field}»: title (titolo), date (data) o outlet (testata).",
    },
    "edit_empty": {
        "fr": "Valeur vide : écrivez la nouvelle valeur après le champ.",
        "en": "Empty value: write the new value after the field.",
        "es": "Valor vacío: escriba el nuevo valor después del campo.",
        "de": "Leerer Wert: Schreiben Sie den neuen Wert hinter das Feld.",
        "it": "Valore vuoto: scriva il nuovo valore dopo il campo.",
    },
    "edit_too_long": {
        "fr": "Valeur trop longue : {limit} caractères au plus.",
        "en": "Value too long: at most {limit} characters.",
        "es": "Valor demasiado largo: {limit} caracteres como máximo.",
        "de": "Wert zu lang: höchstens {limit} Zeichen.",
        "it": "Valore troppo lungo: al massimo {limit} caratteri.",
    },
    "edit_markup": {
        "fr": "Pas de balises HTML dans une valeur : écrivez le texte seul.",
        "en": "No HTML tags in a value: write the text alone.",
        "es": "Nada de etiquetas HTML en un valor: escriba solo el texto.",
        "de": "Keine HTML-Tags in einem Wert: Schreiben Sie nur den Text.",
        "it": "Niente tag HTML in un valore: scriva solo il testo.",
    },
    "edit_control": {
        "fr": "La valeur contient des caractères de contrôle.",
        "en": "The value contains control characters.",
        "es": "El valor contiene caracteres de control.",
        "de": "Der Wert enthält Steuerzeichen.",
        "it": "Il valore contiene caratteri di controllo.",
    },
    "edit_not_a_date": {
        "fr": "« {value} » n'est pas une date que je sais lire (par exemple 2024-03-05 ou 5 mars 2024).",
        "en": "“{value}” is not a date I can read (for example 2024-03-05 or 5 March 2024).",
        "es": "«{value}» no es una fecha que sepa leer (por ejemplo 2024-03-05 o 5 de marzo de 2024).",
        "de": "„{value}“ ist kein Datum, das ich lesen kann (zum Beispiel 2024-03-05 oder 5. März 2024).",
        "it": "«{value}» non è una data che so leggere (per esempio 2024-03-05 o 5 marzo 2024).",
    },
    "edit_future": {
        "fr": "La date {value} est dans le futur : une date de publication ne peut pas l'être.",
        "en": "The date {value} is in the future: a publication date cannot be.",
        "es": "La fecha {value} está en el futuro: una fecha de publicación no puede estarlo.",
        "de": "Das Datum {value} liegt in der Zukunft: Ein Veröffentlichungsdatum kann das nicht.",
        "it": "La data {value} è nel futuro: una data di pubblicazione non può esserlo.",
    },
    "edit_failed": {
        "fr": "Non corrigé : {reason}.",
        "en": "Not corrected: {reason}.",
        "es": "No corregido: {reason}.",
        "de": "Nicht korrigiert: {reason}.",
        "it": "Non corretto: {reason}.",
    },
    "edit_done": {
        "fr": "Corrigé : « {title} » (<code>{id}</code>), {field} : {old} → {new}.",
        "en": "Corrected: “{title}” (<code>{id}</code>), {field}: {old} → {new}.",
        "es": "Corregido: «{title}» (<code>{id}</code>), {field}: {old} → {new}.",
        "de": "Korrigiert: „{title}“ (<code>{id}</code>), {field}: {old} → {new}.",
        "it": "Corretto: «{title}» (<code>{id}</code>), {field}: {old} → {new}.",
    },
    "field_title": {
        "fr": "titre",
        "en": "title",
        "es": "título",
        "de": "Titel",
        "it": "titolo",
    },
    "field_date": {
        "fr": "date",
        "en": "date",
        "es": "fecha",
        "de": "Datum",
        "it": "data",
    },
    "field_outlet": {
        "fr": "média",
        "en": "outlet",
        "es": "medio",
        "de": "Medium",
        "it": "testata",
    },
    "stats": {
        "fr": (
            "<b>Statistiques</b>\n"
            "Articles : {articles}\n"
            "Passages : {passages}\n"
            "Modèle : {model}\n"
            "Taille de l'index : {size}\n"
            "Dernière réindexation : {last}\n"
            "Questions traitées : {questions} (réponse {answered}, passages proches {closest}, "
            "sans réponse {declined})\n"
            "Temps de réponse : p50 {p50}, p95 {p95} (sur {window} {window|réponse|réponses})"
        ),
        "en": (
            "<b>Statistics</b>\n"
            "Articles: {articles}\n"
            "Passages: {passages}\n"
            "Model: {model}\n"
            "Index size: {size}\n"
            "Last reindex: {last}\n"
            "Questions answered: {questions} (answer {answered}, closest passages {closest}, "
            "declined {declined})\n"
            "Answer latency: p50 {p50}, p95 {p95} (over {window} {window|answer|answers})"
        ),
        "es": (
            "<b>Estadísticas</b>\n"
            "Artículos: {articles}\n"
            "Pasajes: {passages}\n"
            "Modelo: {model}\n"
            "Tamaño del índice: {size}\n"
            "Última reindexación: {last}\n"
            "Preguntas atendidas: {questions} (respuesta {answered}, pasajes cercanos "
            "{closest}, sin respuesta {declined})\n"
            "Tiempo de respuesta: p50 {p50}, p95 {p95} (sobre {window} "
            "{window|respuesta|respuestas})"
        ),
        "de": (
            "<b>Statistik</b>\n"
            "Artikel: {articles}\n"
            "Passagen: {passages}\n"
            "Modell: {model}\n"
            "Indexgröße: {size}\n"
            "Letzte Neuindizierung: {last}\n"
            "Bearbeitete Fragen: {questions} (Antwort {answered}, nahe Stellen {closest}, ohne "
            "Antwort {declined})\n"
            "Antwortzeit: p50 {p50}, p95 {p95} (über {window} {window|Antwort|Antworten})"
        ),
        "it": (
            "<b>Statistiche</b>\n"
            "Articoli: {articles}\n"
            "Passaggi: {passages}\n"
            "Modello: {model}\n"
            "Dimensione dell'indice: {size}\n"
            "Ultima reindicizzazione: {last}\n"
            "Domande trattate: {questions} (risposta {answered}, passaggi vicini {closest}, "
            "senza risposta {declined})\n"
            "Tempo di risposta: p50 {p50}, p95 {p95} (su {window} {window|risposta|risposte})"
        ),
    },
    "never": {
        "fr": "jamais",
        "en": "never",
        "es": "nunca",
        "de": "nie",
        "it": "mai",
    },
    "command_ask": {
        "fr": "Poser une question sur les articles",
        "en": "Ask a question about the articles",
        "es": "Hacer una pregunta sobre los artículos",
        "de": "Eine Frage zu den Artikeln stellen",
        "it": "Fare una domanda sugli articoli",
    },
    "command_sources": {
        "fr": "La liste des articles",
        "en": "The list of articles",
        "es": "La lista de artículos",
        "de": "Die Liste der Artikel",
        "it": "L'elenco degli articoli",
    },
    "command_help": {
        "fr": "Comment poser une question",
        "en": "How to ask",
        "es": "Cómo preguntar",
        "de": "Wie man fragt",
        "it": "Come fare una domanda",
    },
    "command_id": {
        "fr": "Votre identifiant Telegram et celui de la discussion",
        "en": "Your Telegram id and this chat's",
        "es": "Su identificador de Telegram y el de este chat",
        "de": "Ihre Telegram-ID und die dieses Chats",
        "it": "Il tuo ID Telegram e quello di questa chat",
    },
    "id_reply": {
        "fr": (
            "Votre identifiant Telegram : <code>{user}</code>\n"
            "Cette discussion : <code>{chat}</code>"
        ),
        "en": "Your Telegram user id: <code>{user}</code>\nThis chat: <code>{chat}</code>",
        "es": (
            "Su identificador de usuario de Telegram: <code>{user}</code>\n"
            "Este chat: <code>{chat}</code>"
        ),
        "de": "Ihre Telegram-Nutzer-ID: <code>{user}</code>\nDieser Chat: <code>{chat}</code>",
        "it": "Il tuo ID utente Telegram: <code>{user}</code>\nQuesta chat: <code>{chat}</code>",
    },
    "id_admin": {
        "fr": "Vous êtes administrateur du bot.",
        "en": "You are an admin of the bot.",
        "es": "Usted es administrador del bot.",
        "de": "Sie sind Administrator des Bots.",
        "it": "Sei un amministratore del bot.",
    },
    "id_not_admin": {
        "fr": (
            "Vous n'êtes pas administrateur du bot : pour le devenir, l'opérateur ajoute "
            "<code>{user}</code> à ADMIN_IDS et redémarre le bot."
        ),
        "en": (
            "You are not an admin of the bot: to become one, the operator adds "
            "<code>{user}</code> to ADMIN_IDS and restarts the bot."
        ),
        "es": (
            "Usted no es administrador del bot: para serlo, el operador añade "
            "<code>{user}</code> a ADMIN_IDS y reinicia el bot."
        ),
        "de": (
            "Sie sind kein Administrator des Bots: dazu trägt der Betreiber "
            "<code>{user}</code> in ADMIN_IDS ein und startet den Bot neu."
        ),
        "it": (
            "Non sei un amministratore del bot: per diventarlo, l'operatore aggiunge "
            "<code>{user}</code> ad ADMIN_IDS e riavvia il bot."
        ),
    },
    "id_anonymous": {
        "fr": (
            "Vous écrivez au nom du groupe ou d'une chaîne : Telegram ne me donne pas votre "
            "identifiant. Envoyez /id en privé.\nCette discussion : <code>{chat}</code>"
        ),
        "en": (
            "You are writing as the group or a channel: Telegram does not give me your id. "
            "Send /id in a private chat.\nThis chat: <code>{chat}</code>"
        ),
        "es": (
            "Escribe en nombre del grupo o de un canal: Telegram no me da su identificador. "
            "Envíe /id en un chat privado.\nEste chat: <code>{chat}</code>"
        ),
        "de": (
            "Sie schreiben als Gruppe oder Kanal: Telegram nennt mir Ihre ID nicht. "
            "Senden Sie /id im privaten Chat.\nDieser Chat: <code>{chat}</code>"
        ),
        "it": (
            "Scrivi a nome del gruppo o di un canale: Telegram non mi dà il tuo ID. "
            "Invia /id in una chat privata.\nQuesta chat: <code>{chat}</code>"
        ),
    },
    "command_reindex": {
        "fr": "Reconstruire l'index",
        "en": "Rebuild the index",
        "es": "Reconstruir el índice",
        "de": "Den Index neu aufbauen",
        "it": "Ricostruire l'indice",
    },
    "command_add": {
        "fr": "Ajouter un article (document ou URL)",
        "en": "Add an article (document or URL)",
        "es": "Añadir un artículo (documento o URL)",
        "de": "Einen Artikel hinzufügen (Dokument oder URL)",
        "it": "Aggiungere un articolo (documento o URL)",
    },
    "command_remove": {
        "fr": "Retirer un article par son ID",
        "en": "Remove an article by its id",
        "es": "Retirar un artículo por su ID",
        "de": "Einen Artikel über seine ID entfernen",
        "it": "Rimuovere un articolo tramite il suo ID",
    },
    "command_feeds": {
        "fr": "Flux RSS et Atom suivis",
        "en": "RSS and Atom feeds followed",
        "es": "Fuentes RSS y Atom seguidas",
        "de": "Abonnierte RSS- und Atom-Feeds",
        "it": "Feed RSS e Atom seguiti",
    },
    "command_stats": {
        "fr": "Statistiques de l'index et du bot",
        "en": "Index and bot statistics",
        "es": "Estadísticas del índice y del bot",
        "de": "Statistik von Index und Bot",
        "it": "Statistiche dell'indice e del bot",
    },
    "inline_hint": {
        "fr": "Tapez une question sur les articles",
        "en": "Type a question",
        "es": "Escriba una pregunta sobre los artículos",
        "de": "Tippen Sie eine Frage zu den Artikeln",
        "it": "Digiti una domanda sugli articoli",
    },
    "command_edit": {
        "fr": "Corriger le titre, la date ou le média d'un article",
        "en": "Correct an article's title, date or outlet",
        "es": "Corregir el título, la fecha o el medio de un artículo",
        "de": "Titel, Datum oder Medium eines Artikels korrigieren",
        "it": "Correggere il titolo, la data o la testata di un articolo",
    },
    "inline_no_answer": {
        "fr": "Les articles ne répondent pas à cette question",
        "en": "The articles do not answer this question",
        "es": "Los artículos no responden a esta pregunta",
        "de": "Die Artikel beantworten diese Frage nicht",
        "it": "Gli articoli non rispondono a questa domanda",
    },
    # What the collection holds (``index.chat.overview``): a heading over a page of articles.
    "overview_heading": {
        "fr": "Les articles de la collection ({count}), du plus récent au plus ancien",
        "en": "The collection's articles ({count}), newest first",
        "es": "Los artículos de la colección ({count}), del más reciente al más antiguo",
        "de": "Die Artikel der Sammlung ({count}), die neuesten zuerst",
        "it": "Gli articoli della raccolta ({count}), dal più recente",
    },
    "overview_period": {
        "fr": "Articles publiés {period} ({count}), du plus récent au plus ancien",
        "en": "Articles published {period} ({count}), newest first",
        "es": "Artículos publicados {period} ({count}), del más reciente al más antiguo",
        "de": "Artikel, erschienen {period} ({count}), die neuesten zuerst",
        "it": "Articoli pubblicati {period} ({count}), dal più recente",
    },
    "overview_period_none": {
        "fr": "Aucun article n'a été publié {period}.",
        "en": "No article was published {period}.",
        "es": "No se publicó ningún artículo {period}.",
        "de": "Es ist kein Artikel {period} erschienen.",
        "it": "Nessun articolo è stato pubblicato {period}.",
    },
    "overview_latest": {
        "fr": "Les derniers articles publiés ({count}), du plus récent au plus ancien",
        "en": "The latest articles ({count}), newest first",
        "es": "Los últimos artículos publicados ({count}), del más reciente al más antiguo",
        "de": "Die zuletzt erschienenen Artikel ({count}), die neuesten zuerst",
        "it": "Gli ultimi articoli pubblicati ({count}), dal più recente",
    },
    "overview_latest_none": {
        "fr": "Aucun article de la collection n'a de date de publication.",
        "en": "No article of the collection has a publication date.",
        "es": "Ningún artículo de la colección tiene fecha de publicación.",
        "de": "Kein Artikel der Sammlung hat ein Erscheinungsdatum.",
        "it": "Nessun articolo della raccolta ha una data di pubblicazione.",
    },
    "page_of": {
        "fr": " — page {page}/{pages}",
        "en": " — page {page}/{pages}",
        "es": " — página {page}/{pages}",
        "de": " — Seite {page}/{pages}",
        "it": " — pagina {page}/{pages}",
    },
    # Small talk (``index.chat.smalltalk``) is answered in the language it was written in.
    "small_talk_greeting": {
        "fr": (
            "Bonjour ! Je réponds aux questions sur {articles} {articles|article|articles} en "
            "citant mot pour mot les passages qui y répondent.\n"
            "Posez votre question en une phrase (dans un groupe : @{bot} votre question) ; "
            "/sources liste les articles, /help en dit plus."
        ),
        "en": (
            "Hello! I answer questions about {articles} {articles|article|articles} by "
            "quoting, word for word, the passages that answer them.\n"
            "Ask your question in one sentence (in a group: @{bot} your question); /sources "
            "lists the articles, /help tells more."
        ),
        "es": (
            "¡Hola! Respondo a preguntas sobre {articles} {articles|artículo|artículos} "
            "citando palabra por palabra los pasajes que las responden.\n"
            "Haga su pregunta en una frase (en un grupo: @{bot} su pregunta); /sources lista "
            "los artículos, /help explica más."
        ),
        "de": (
            "Hallo! Ich beantworte Fragen zu {articles} {articles|Artikel|Artikeln}, indem ich "
            "die Stellen, die sie beantworten, wörtlich zitiere.\n"
            "Stellen Sie Ihre Frage in einem Satz (in einer Gruppe: @{bot} Ihre Frage); "
            "/sources listet die Artikel, /help erklärt mehr."
        ),
        "it": (
            "Ciao! Rispondo alle domande su {articles} {articles|articolo|articoli} citando "
            "parola per parola i passaggi che vi rispondono.\n"
            "Faccia la sua domanda in una frase (in un gruppo: @{bot} la sua domanda); "
            "/sources elenca gli articoli, /help spiega di più."
        ),
    },
    "small_talk_thanks": {
        "fr": "Avec plaisir ! Posez une autre question quand vous voulez.",
        "en": "You're welcome! Ask another question any time.",
        "es": "¡De nada! Haga otra pregunta cuando quiera.",
        "de": "Gern geschehen! Fragen Sie jederzeit weiter.",
        "it": "Prego! Faccia un'altra domanda quando vuole.",
    },
    "small_talk_bye": {
        "fr": "À bientôt !",
        "en": "See you soon!",
        "es": "¡Hasta pronto!",
        "de": "Bis bald!",
        "it": "A presto!",
    },
    "console_intro": {
        "fr": (
            "Console de questions sur {articles} {articles|article|articles}. Écrivez une "
            "question, /more, /sources, /help, ou /quit pour sortir."
        ),
        "en": (
            "Question console over {articles} {articles|article|articles}. Type a question, "
            "/more, /sources, /help, or /quit to leave."
        ),
        "es": (
            "Consola de preguntas sobre {articles} {articles|artículo|artículos}. Escriba una "
            "pregunta, /more, /sources, /help o /quit para salir."
        ),
        "de": (
            "Fragekonsole zu {articles} {articles|Artikel|Artikeln}. Geben Sie eine Frage ein, "
            "/more, /sources, /help oder /quit zum Beenden."
        ),
        "it": (
            "Console di domande su {articles} {articles|articolo|articoli}. Scriva una "
            "domanda, /more, /sources, /help o /quit per uscire."
        ),
    },
    # -- issue 23 (console = chat): the chat's commands and buttons, typed
    "console_commands": {
        "fr": "Dans la console : /ask question (ou la question seule), /more (Plus), /context N (Contexte N), /vote up ou /vote down [N] (👍, 👎 et ✗ N faux), /sources, /help, /quit.",
        "en": "In the console: /ask question (or just the question), /more (More), /context N (Context N), /vote up or /vote down [N] (👍, 👎 and ✗ N wrong), /sources, /help, /quit.",
        "es": "En la consola: /ask pregunta (o solo la pregunta), /more (Más), /context N (Contexto N), /vote up o /vote down [N] (👍, 👎 y ✗ N incorrecto), /sources, /help, /quit.",
        "de": "In der Konsole: /ask Frage (oder nur die Frage), /more (Mehr), /context N (Kontext N), /vote up oder /vote down [N] (👍, 👎 und ✗ N falsch), /sources, /help, /quit.",
        "it": "Nella console: /ask domanda (o solo la domanda), /more (Altro), /context N (Contesto N), /vote up o /vote down [N] (👍, 👎 e ✗ N errato), /sources, /help, /quit.",
    },
    "console_nothing_shown": {
        "fr": "Aucune réponse affichée : posez d'abord une question.",
        "en": "No answer shown yet: ask a question first.",
        "es": "Aún no se ha mostrado ninguna respuesta: haga primero una pregunta.",
        "de": "Noch keine Antwort angezeigt: Stellen Sie zuerst eine Frage.",
        "it": "Nessuna risposta mostrata: faccia prima una domanda.",
    },
    "console_no_quote": {
        "fr": "La dernière réponse n'a pas de passage {n}.",
        "en": "The last answer has no passage {n}.",
        "es": "La última respuesta no tiene pasaje {n}.",
        "de": "Die letzte Antwort hat keine Stelle {n}.",
        "it": "L'ultima risposta non ha il passaggio {n}.",
    },
    # --
    # Why something was refused (index.reasons): its English is the index's own sentence.
    **{
        f"reason_{code}": {"en": english, **REASON_TEXTS[code]} for code, english in ENGLISH.items()
    },
}

_TAG = re.compile(r"</?[a-z][^>]*>")


_ERROR_KEYS: Final = (
    (ModelMismatchError, "model_mismatch"),
    (IndexMissingError, "index_missing"),
    (AnswerExpiredError, "expired"),
    (PageSpentError, "page_spent"),
    (AnswerOutOfDateError, "answer_outdated"),
    (StorageUnavailableError, "storage_unavailable"),
    (StorageWriteError, "storage_write_failed"),
)


def error_key(error: BaseException) -> str:
    """The message key for an error a reader can hit (index missing, answer expired…), or "error"."""
    return next((key for kind, key in _ERROR_KEYS if isinstance(error, kind)), "error")


def pick_language(language_code: str | None, default: str = "fr") -> str:
    """The catalog language for a Telegram ``language_code`` ("fr-CA" -> "fr"), else ``default``."""
    if language_code:
        base = language_code.replace("_", "-").split("-", 1)[0].lower()
        if base in LANGUAGES:
            return base
    return default if default in LANGUAGES else LANGUAGES[0]


def reply_language(question: str, language_code: str | None, default: str = "fr") -> str:
    """The language of a reply to ``question``: the question's own when it is one of
    ``LANGUAGES`` and langid is sure of it (``index.ingest.lang.sure_language``: two words or more,
    probability 0.5 or more), else the reader's Telegram language, else ``default``.

    >>> reply_language("¿Quién es Ablyazov?", "fr"), reply_language("Almaty ?", "de-AT")
    ('es', 'de')
    >>> reply_language("Quantas espécies de abelhas existem?", None, "en")  # Portuguese
    'en'
    """
    return sure_language(question, LANGUAGES) or pick_language(language_code, default)


# ``{name|one|other}``: a form of either kind may hold ``{name}`` (or another placeholder).
_PLURAL = re.compile(r"\{(\w+)\|((?:[^{}|]|\{\w+\})*)\|((?:[^{}|]|\{\w+\})*)\}")
_PLACEHOLDER = re.compile(r"\{(\w+)[|}]")


def plural_one(lang: str, value: object) -> bool:
    """Whether ``value`` takes the singular form in ``lang``: 1 (and 0 in French, as CLDR has it).

    >>> plural_one("fr", 0), plural_one("en", 0), plural_one("de", 1), plural_one("it", "2")
    (True, False, True, False)
    """
    try:
        number = int(str(value))
    except ValueError:
        return False
    return number in (0, 1) if lang == "fr" else number == 1


def placeholders(template: str) -> set[str]:
    """The names a template takes, its plurals' included: ``{n} {n|a|b}`` -> ``{"n"}``."""
    return set(_PLACEHOLDER.findall(template))


def t(key: str, lang: str, **values: object) -> str:
    """The message ``key`` in ``lang`` as Telegram HTML, with ``values`` escaped and filled in."""
    variants = MESSAGES[key]
    template = variants.get(lang) or variants[LANGUAGES[0]]
    template = _PLURAL.sub(
        lambda match: match[2] if plural_one(lang, values[match[1]]) else match[3], template
    )
    escaped = {k: html.escape(_cut(str(v)), quote=False) for k, v in values.items()}
    return template.format(**escaped)


def _cut(value: str) -> str:
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"


def t_plain(key: str, lang: str, **values: object) -> str:
    """The message ``key`` as plain text (tags dropped, entities decoded), for the console."""
    return html.unescape(_TAG.sub("", t(key, lang, **values)))


def reason_text(reason: Reason, lang: str) -> str:
    """Why something was refused, in ``lang``, as plain text: a value for another message
    (which escapes it).

    >>> reason_text(Reason("http_status", {"status": 404}), "fr")
    'le serveur a répondu HTTP 404'
    """
    return t_plain(f"reason_{reason.code}", lang, **reason.params)


def why(error: BaseException, lang: str) -> str:
    """What an admin reads for ``error``: its ``Reason`` in ``lang``, else its own message."""
    reason = getattr(error, "reason", None)
    return reason_text(reason, lang) if isinstance(reason, Reason) else str(error)


def stored_reason_text(stored: str, lang: str) -> str:
    """A reason kept in a feed's health in ``lang`` ("https://…/1: le serveur a répondu HTTP
    404"); one kept as free text before reasons had codes is shown as it is."""
    entry, reason = stored_reason(stored)
    said = reason_text(reason, lang) if isinstance(reason, Reason) else reason
    return f"{entry}: {said}" if entry else said
