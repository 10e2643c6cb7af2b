"""The bot's own words in French and English: ``t(key, lang, **values)``.

Messages are Telegram HTML; ``t`` escapes every value it inserts, so user and article text can
be passed as is. ``t_plain`` gives the same message as plain text for the console.

>>> t("no_more", "en")
'No more passages.'
>>> t("add_done", "fr", title="<b>x</b>", id="x", passages=3)
'Ajouté : « &lt;b&gt;x&lt;/b&gt; » (<code>x</code>), 3 passages.'
"""

from __future__ import annotations

import html
import re
from typing import Final

from index.errors import (
    AnswerExpiredError,
    AnswerOutOfDateError,
    IndexMissingError,
    ModelMismatchError,
    PageSpentError,
    StorageUnavailableError,
    StorageWriteError,
)

__all__ = ["LANGUAGES", "MAX_VALUE_CHARS", "MESSAGES", "error_key", "pick_language", "t", "t_plain"]

LANGUAGES: Final = ("fr", "en")
# A value put into a message (a title, a file name, a reason) is cut past this: a 5,000-character
# title must not make "Added: …" longer than Telegram's 4,096 and lose the reply.
MAX_VALUE_CHARS: Final = 200

MESSAGES: Final[dict[str, dict[str, str]]] = {
    "help": {
        "fr": (
            "Je réponds aux questions sur {articles} article(s) en citant mot pour mot "
            "les passages qui y répondent, avec leur source.\n\n"
            "• En privé : écrivez simplement votre question.\n"
            "• Dans un groupe : mentionnez-moi (@{bot} question), répondez à un de mes "
            "messages ou utilisez /ask question.\n"
            "• Dans n'importe quelle discussion : tapez @{bot} question.\n\n"
            "Les questions peuvent être posées dans toutes les langues, et enchaînées : "
            "« Et à Almaty ? » juste après une réponse en reprend le sujet. Une date situe la "
            "question (« depuis lundi », « la semaine dernière »). 👍 et 👎 sous une réponse "
            "aident à classer les passages. /sources liste les articles."
        ),
        "en": (
            "I answer questions about {articles} article(s) by quoting, word for word, "
            "the passages that answer them, with their source.\n\n"
            "• In private: just write your question.\n"
            "• In a group: mention me (@{bot} question), reply to one of my messages "
            "or use /ask question.\n"
            "• In any chat: type @{bot} question.\n\n"
            'Questions are welcome in any language, and can follow on: "And in Almaty?" '
            'right after an answer keeps its subject. A date places the question ("since '
            'Monday", "last week"). 👍 and 👎 under an answer help rank the passages. '
            "/sources lists the articles."
        ),
    },
    "admin_help": {
        "fr": (
            "Commandes d'administration : /reindex, /add (document ou URL), /remove ID…, "
            "/edit ID title|date|outlet VALEUR, /feeds (flux RSS et Atom), /gaps (questions "
            "sans réponse), /stats."
        ),
        "en": (
            "Admin commands: /reindex, /add (document or URL), /remove ID…, "
            "/edit ID title|date|outlet VALUE, /feeds (RSS and Atom feeds), /gaps (unanswered "
            "questions), /stats."
        ),
    },
    "no_answer": {
        "fr": "Les articles ne répondent pas à cette question. /sources montre ce qu'ils couvrent.",
        "en": "The articles do not answer this question. /sources shows what they cover.",
    },
    "closest_note": {
        "fr": (
            "Je ne trouve pas de réponse sûre. Voici les passages les plus proches ; "
            "ils n'y répondent peut-être pas."
        ),
        "en": "I found no sure answer. Here are the closest passages; they may not answer it.",
    },
    "closest_inline": {"fr": "Passage le plus proche", "en": "Closest passage"},
    "follow_up_note": {"fr": "Suite de : « {question} »", "en": "Following: “{question}”"},
    "period": {"fr": "Articles publiés {period}", "en": "Articles published {period}"},
    "period_widened": {
        "fr": "Aucun article publié {period} n'y répond ; voici les passages de tous les articles.",
        "en": "No article published {period} answers it; here are the passages of all the articles.",
    },
    "period_since": {"fr": "depuis le {first}", "en": "since {first}"},
    "period_until": {"fr": "jusqu'au {last}", "en": "until {last}"},
    "period_between": {"fr": "du {first} au {last}", "en": "from {first} to {last}"},
    "period_day": {"fr": "le {first}", "en": "on {first}"},
    "add_copies": {
        "fr": "Même texte que {names} : les réponses le citeront une fois.",
        "en": "Same text as {names}: answers will quote it once.",
    },
    "forward_empty": {
        "fr": "Ce message transféré n'a pas de texte à ajouter.",
        "en": "This forwarded message has no text to add.",
    },
    "scope_private": {
        "fr": "Les discussions privées voient toute la collection ; /scope se choisit dans un groupe.",
        "en": "Private chats see the whole collection; /scope is chosen in a group.",
    },
    "scope_refused": {
        "fr": "Seuls les administrateurs du groupe choisissent sa portée.",
        "en": "Only the group's administrators choose its scope.",
    },
    "scope_header": {
        "fr": "Portée de ce groupe : {scope}. Touchez un média, un flux ou un thème pour l'ajouter ou le retirer.",
        "en": "This group's scope: {scope}. Tap an outlet, a feed or a tag to add or remove it.",
    },
    "scope_everything": {"fr": "toute la collection", "en": "the whole collection"},
    "scope_all_button": {"fr": "Toute la collection", "en": "The whole collection"},
    "command_scope": {
        "fr": "Portée du groupe (administrateurs du groupe)",
        "en": "The group's scope (group administrators)",
    },
    "gaps_header": {
        "fr": "<b>Questions sans réponse sûre, {days} derniers jours</b>",
        "en": "<b>Questions without a sure answer, last {days} days</b>",
    },
    "gaps_none": {"fr": "Aucune.", "en": "None."},
    "gaps_disliked": {
        "fr": "<b>Réponses les moins bien notées</b>",
        "en": "<b>Lowest-rated answers</b>",
    },
    # -- issue 22 (readers): /gaps cut to one message, one at a time per admin
    "gaps_more": {"fr": "… et {count} de plus", "en": "… and {count} more"},
    "gaps_busy": {
        "fr": "Le rapport est déjà en préparation : il arrive dès qu'il est prêt.",
        "en": "Already working on it: the report comes as soon as it is ready.",
    },
    # --
    "gap_declined": {"fr": "sans réponse", "en": "declined"},
    "gap_closest": {"fr": "passages proches", "en": "closest passages"},
    # -- issue 23 (scope said): a scoped group's replies, /sources and /gaps name its scope
    "no_answer_scoped": {
        "fr": (
            "Les articles de ce groupe (portée : {scope}) ne répondent pas à cette question. "
            "/sources montre ce qu'ils couvrent."
        ),
        "en": (
            "This group's articles (scope: {scope}) do not answer this question. "
            "/sources shows what they cover."
        ),
    },
    "sources_scope": {
        "fr": "Portée de ce groupe : {scope}.",
        "en": "This group's scope: {scope}.",
    },
    "sources_scope_empty": {
        "fr": "Aucun article de la collection n'est dans la portée de ce groupe ({scope}).",
        "en": "No article of the collection is in this group's scope ({scope}).",
    },
    "gap_scope": {"fr": "portée : {scope}", "en": "scope: {scope}"},
    # --
    "command_gaps": {
        "fr": "Questions restées sans réponse",
        "en": "Questions left without an answer",
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
    },
    "feeds_empty": {
        "fr": "Aucun flux suivi. Ajoutez-en un avec /feeds add URL.",
        "en": "No feed followed. Add one with /feeds add URL.",
    },
    "feeds_header": {"fr": "Flux suivis : {count}", "en": "Feeds followed: {count}"},
    "feeds_header_paged": {
        "fr": "Flux suivis : {count} (page {page}/{pages})",
        "en": "Feeds followed: {count} (page {page}/{pages})",
    },
    "feeds_skipped": {
        "fr": "  ⚠️ {count} entrée(s) ignorée(s), la dernière ({when}) : {reason}",
        "en": "  ⚠️ {count} entry(ies) skipped, the last ({when}): {reason}",
    },
    "feeds_health": {
        "fr": "  dernière lecture réussie : {success} · {added} article(s) ajouté(s)",
        "en": "  last successful read: {success} · {added} article(s) added",
    },
    "feeds_error": {
        "fr": "  ⚠️ dernière erreur ({when}) : {reason}",
        "en": "  ⚠️ last error ({when}): {reason}",
    },
    "feeds_added": {
        "fr": "Flux suivi : « {title} » ({id}). {added} article(s) ajouté(s).",
        "en": "Feed followed: “{title}” ({id}). {added} article(s) added.",
    },
    "feeds_added_later": {
        "fr": (
            "Flux suivi : « {title} » ({id}). Une lecture des flux est en cours : il sera lu "
            "à la prochaine."
        ),
        "en": "Feed followed: “{title}” ({id}). The feeds are being read: it will be read next time.",
    },
    "feeds_note": {"fr": "Flux : ce qu'ils ont apporté", "en": "Feeds: what they brought"},
    "feeds_note_since": {
        "fr": "Flux : ce qu'ils ont apporté depuis le {since}",
        "en": "Feeds: what they brought since {since}",
    },
    "feeds_note_feed": {
        "fr": "\n<b>{name}</b> ({id}) : {added} article(s) ajouté(s)",
        "en": "\n<b>{name}</b> ({id}): {added} article(s) added",
    },
    "feeds_note_title": {"fr": "  • {title}", "en": "  • {title}"},
    "feeds_note_more": {"fr": "  • … et {count} autre(s)", "en": "  • … and {count} more"},
    "feeds_note_skipped": {
        "fr": "  ⚠️ {count} entrée(s) ignorée(s), la dernière : {reason}",
        "en": "  ⚠️ {count} entry(ies) skipped, the last: {reason}",
    },
    "feeds_note_cut": {
        "fr": "\n… et {count} autre(s) flux : /feeds",
        "en": "\n… and {count} more feed(s): /feeds",
    },
    "feeds_already": {
        "fr": "Ce flux est déjà suivi : « {title} » ({id}).",
        "en": "This feed is already followed: “{title}” ({id}).",
    },
    "feeds_refused": {
        "fr": "Flux non ajouté : {reason}.",
        "en": "Feed not added: {reason}.",
    },
    "feeds_removed": {
        "fr": "Flux retiré : « {title} » ({id}). Ses articles restent dans la collection.",
        "en": "Feed removed: “{title}” ({id}). Its articles stay in the collection.",
    },
    "feeds_unknown": {
        "fr": "Aucun flux n'a l'ID {id} : /feeds les liste.",
        "en": "No feed has the id {id}: /feeds lists them.",
    },
    "also_in": {"fr": "aussi dans : {names}", "en": "also in: {names}"},
    "more_button": {"fr": "Plus", "en": "More"},
    "wrong_button": {"fr": "✗ {n} faux", "en": "✗ {n} wrong"},
    "vote_thanks": {"fr": "Merci, c'est noté.", "en": "Thanks, noted."},
    "vote_which": {
        "fr": "Merci. Quel passage est faux ? Touchez son numéro.",
        "en": "Thanks. Which passage is wrong? Tap its number.",
    },
    "context_button": {"fr": "Contexte {n}", "en": "Context {n}"},
    "expired": {
        "fr": "Cette réponse a expiré, posez à nouveau la question.",
        "en": "This answer has expired, ask again.",
    },
    "no_more": {"fr": "Pas d'autres passages.", "en": "No more passages."},
    "page_spent": {
        "fr": "Les passages suivants sont déjà affichés plus bas.",
        "en": "The next passages are already shown below.",
    },
    "answer_outdated": {
        "fr": "L'article a changé depuis cette réponse ; posez à nouveau la question.",
        "en": "The article changed since this answer; ask again.",
    },
    "empty_question": {
        "fr": "Posez-moi une question sur les articles, par exemple : /ask Qui est Tokaïev ?",
        "en": "Ask me a question about the articles, for example: /ask Who is Tokayev?",
    },
    "rate_limited": {
        "fr": "Vous posez beaucoup de questions : je reprends dans une minute.",
        "en": "You are asking a lot of questions: I will answer again in a minute.",
    },
    "error": {
        "fr": "Désolé, quelque chose s'est mal passé. Réessayez plus tard.",
        "en": "Sorry, something went wrong. Please try again later.",
    },
    "index_missing": {
        "fr": "Aucun index n'est encore construit ; un administrateur doit lancer /reindex.",
        "en": "No index has been built yet; an admin must run /reindex.",
    },
    "model_mismatch": {
        "fr": "L'index a été construit avec un autre modèle ; un administrateur doit lancer /reindex.",
        "en": "The index was built with another model; an admin must run /reindex.",
    },
    "admin_only": {
        "fr": "Désolé, cette commande est réservée aux administrateurs du bot.",
        "en": "Sorry, this command is only for the bot's administrators.",
    },
    "sources_header": {
        "fr": "<b>Articles ({count})</b> — page {page}/{pages}",
        "en": "<b>Articles ({count})</b> — page {page}/{pages}",
    },
    "sources_empty": {
        "fr": "Aucun article n'est indexé pour l'instant.",
        "en": "No article is indexed yet.",
    },
    "prev_button": {"fr": "◀ Préc.", "en": "◀ Prev"},
    "next_button": {"fr": "Suiv. ▶", "en": "Next ▶"},
    "reindex_started": {"fr": "Réindexation…", "en": "Reindexing…"},
    "reindex_progress": {
        "fr": "Réindexation… {stage} {done}/{total}",
        "en": "Reindexing… {stage} {done}/{total}",
    },
    "stage_chunk": {"fr": "découpage", "en": "chunking"},
    "stage_embed": {"fr": "vectorisation", "en": "embedding"},
    "stage_write": {"fr": "écriture", "en": "writing"},
    "reindex_running": {
        "fr": "Une réindexation est déjà en cours ; réessayez quand elle sera finie.",
        "en": "A reindex is already running; try again when it ends.",
    },
    "reindex_done": {
        "fr": (
            "Réindexation terminée : {articles} article(s), {passages} passages. "
            "{added} ajouté(s), {updated} modifié(s), {removed} retiré(s), {unchanged} inchangé(s) ; "
            "{embedded} textes vectorisés, {reused} réutilisés ; {seconds} s."
        ),
        "en": (
            "Reindex done: {articles} article(s), {passages} passages. "
            "{added} added, {updated} changed, {removed} removed, {unchanged} unchanged; "
            "{embedded} texts embedded, {reused} reused; {seconds} s."
        ),
    },
    "reindex_skipped": {"fr": "Ignoré : {path} ({reason})", "en": "Skipped: {path} ({reason})"},
    "reindex_failed": {
        "fr": "La réindexation a échoué ({reason}) ; l'ancien index reste en service.",
        "en": "The reindex failed ({reason}); the previous index is still serving.",
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
    },
    "add_too_large": {
        "fr": "Fichier trop gros ({size}) : la limite est {limit}.",
        "en": "File too large ({size}): the limit is {limit}.",
    },
    "add_unsupported": {
        "fr": "Type de fichier non pris en charge : utilisez .txt, .md, .html, .json, .pdf ou .docx.",
        "en": "Unsupported file type: use .txt, .md, .html, .json, .pdf or .docx.",
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
    },
    "storage_unavailable": {
        "fr": (
            "La base de données ne répond pas : rien n'a été modifié. Réessayez dans un instant."
        ),
        "en": "The database does not answer: nothing was changed. Try again in a moment.",
    },
    "add_rejected": {"fr": "Non ajouté : {reason}.", "en": "Not added: {reason}."},
    "add_fetch_failed": {
        "fr": "Impossible de récupérer l'URL : {reason}.",
        "en": "Could not fetch the URL: {reason}.",
    },
    "change_queued": {
        "fr": "Une autre modification est en cours ({running}) ; la vôtre suit dès qu'elle est finie.",
        "en": "Another change is running ({running}); yours follows as soon as it ends.",
    },
    "changes_full": {
        "fr": "Trop de modifications attendent déjà ; réessayez dans quelques minutes.",
        "en": "Too many changes are already waiting; try again in a few minutes.",
    },
    "add_done": {
        "fr": "Ajouté : « {title} » (<code>{id}</code>), {passages} passages.",
        "en": "Added: “{title}” (<code>{id}</code>), {passages} passages.",
    },
    "remove_usage": {
        "fr": "Usage : /remove ID [ID…] (les ID sont dans /sources).",
        "en": "Usage: /remove ID [ID…] (the ids are in /sources).",
    },
    "remove_unknown": {
        "fr": "Aucun article n'a l'ID <code>{id}</code> ; voyez /sources.",
        "en": "No article has the id <code>{id}</code>; see /sources.",
    },
    "remove_confirm": {
        "fr": "Retirer « {title} » (<code>{id}</code>) ? Le fichier ira dans la corbeille.",
        "en": "Remove “{title}” (<code>{id}</code>)? Its file will go to the trash.",
    },
    "yes_button": {"fr": "Oui, retirer", "en": "Yes, remove"},
    "cancel_button": {"fr": "Annuler", "en": "Cancel"},
    "remove_done": {
        "fr": "Retiré : « {title} » (<code>{id}</code>). Fichier déplacé vers {trash}.",
        "en": "Removed: “{title}” (<code>{id}</code>). File moved to {trash}.",
    },
    "remove_done_no_file": {
        "fr": "Retiré de l'index : « {title} » (<code>{id}</code>) ; aucun fichier trouvé.",
        "en": "Removed from the index: “{title}” (<code>{id}</code>); no file found.",
    },
    "remove_cancelled": {"fr": "Suppression annulée.", "en": "Removal cancelled."},
    # Every admin action answered: a document without /add, several ids per /remove, an
    # article already there, /edit, and commands the bot does not know (anyone's).
    "upload_offer": {
        "fr": "Document reçu : « {name} ». L'ajouter à la collection ?",
        "en": "Document received: “{name}”. Add it to the collection?",
    },
    "add_button": {"fr": "Ajouter à la collection", "en": "Add to the collection"},
    "upload_taken": {"fr": "Ajout de « {name} »…", "en": "Adding “{name}”…"},
    "upload_expired": {
        "fr": "Ce bouton a expiré : renvoyez le document avec la légende /add.",
        "en": "This button has expired: send the document again with the caption /add.",
    },
    "add_unchanged": {
        "fr": "Déjà dans la collection, inchangé : « {title} » (<code>{id}</code>).",
        "en": "Already in the collection, unchanged: “{title}” (<code>{id}</code>).",
    },
    "remove_too_many": {
        "fr": "Au plus {limit} articles par /remove.",
        "en": "At most {limit} articles per /remove.",
    },
    "remove_unknown_ids": {
        "fr": "Aucun article n'a ces ID : {ids} ; voyez /sources.",
        "en": "No article has these ids: {ids}; see /sources.",
    },
    "remove_confirm_many": {
        "fr": "Retirer ces {count} articles ? Leurs fichiers iront dans la corbeille.",
        "en": "Remove these {count} articles? Their files will go to the trash.",
    },
    "remove_item": {
        "fr": "• « {title} » (<code>{id}</code>)",
        "en": "• “{title}” (<code>{id}</code>)",
    },
    "remove_done_many": {"fr": "Retirés ({count}) :", "en": "Removed ({count}):"},
    "remove_item_no_file": {
        "fr": "• « {title} » (<code>{id}</code>) : aucun fichier trouvé",
        "en": "• “{title}” (<code>{id}</code>): no file found",
    },
    "remove_trashed": {"fr": "Fichiers déplacés vers {trash}.", "en": "Files moved to {trash}."},
    "remove_gone": {
        "fr": "Déjà retirés entre-temps : {ids}.",
        "en": "Already removed meanwhile: {ids}.",
    },
    "unknown_command": {
        "fr": "Je ne connais pas la commande {command} : /help dit ce que je sais faire.",
        "en": "I do not know the command {command}: /help says what I can do.",
    },
    "edit_usage": {
        "fr": (
            "Usage : /edit ID title|date|outlet VALEUR, par exemple /edit volcan date 5 mars "
            "2024 (les ID sont dans /sources)."
        ),
        "en": (
            "Usage: /edit ID title|date|outlet VALUE, for example /edit volcan date 5 March "
            "2024 (the ids are in /sources)."
        ),
    },
    "edit_field_unknown": {
        "fr": "Champ inconnu « {field} » : title (titre), date ou outlet (média).",
        "en": "Unknown field “{field}”: title, date or outlet.",
    },
    "edit_empty": {
        "fr": "Valeur vide : écrivez la nouvelle valeur après le champ.",
        "en": "Empty value: write the new value after the field.",
    },
    "edit_too_long": {
        "fr": "Valeur trop longue : {limit} caractères au plus.",
        "en": "Value too long: at most {limit} characters.",
    },
    "edit_markup": {
        "fr": "Pas de balises HTML dans une valeur : écrivez le texte seul.",
        "en": "No HTML tags in a value: write the text alone.",
    },
    "edit_control": {
        "fr": "La valeur contient des caractères de contrôle.",
        "en": "The value contains control characters.",
    },
    "edit_not_a_date": {
        "fr": "« {value} » n'est pas une date que je sais lire (par exemple 2024-03-05 ou 5 mars 2024).",
        "en": "“{value}” is not a date I can read (for example 2024-03-05 or 5 March 2024).",
    },
    "edit_future": {
        "fr": "La date {value} est dans le futur : une date de publication ne peut pas l'être.",
        "en": "The date {value} is in the future: a publication date cannot be.",
    },
    "edit_failed": {"fr": "Non corrigé : {reason}.", "en": "Not corrected: {reason}."},
    "edit_done": {
        "fr": "Corrigé : « {title} » (<code>{id}</code>), {field} : {old} → {new}.",
        "en": "Corrected: “{title}” (<code>{id}</code>), {field}: {old} → {new}.",
    },
    "field_title": {"fr": "titre", "en": "title"},
    "field_date": {"fr": "date", "en": "date"},
    "field_outlet": {"fr": "média", "en": "outlet"},
    "stats": {
        "fr": (
            "<b>Statistiques</b>\n"
            "Articles : {articles}\nPassages : {passages}\nModèle : {model}\n"
            "Taille de l'index : {size}\nDernière réindexation : {last}\n"
            "Questions traitées : {questions} (réponse {answered}, passages proches {closest}, "
            "sans réponse {declined})\n"
            "Temps de réponse : p50 {p50}, p95 {p95} (sur {window} réponses)"
        ),
        "en": (
            "<b>Statistics</b>\n"
            "Articles: {articles}\nPassages: {passages}\nModel: {model}\n"
            "Index size: {size}\nLast reindex: {last}\n"
            "Questions answered: {questions} (answer {answered}, closest passages {closest}, "
            "declined {declined})\n"
            "Answer latency: p50 {p50}, p95 {p95} (over {window} answers)"
        ),
    },
    "never": {"fr": "jamais", "en": "never"},
    "command_ask": {
        "fr": "Poser une question sur les articles",
        "en": "Ask a question about the articles",
    },
    "command_sources": {"fr": "La liste des articles", "en": "The list of articles"},
    "command_help": {"fr": "Comment poser une question", "en": "How to ask"},
    "command_reindex": {"fr": "Reconstruire l'index", "en": "Rebuild the index"},
    "command_add": {
        "fr": "Ajouter un article (document ou URL)",
        "en": "Add an article (document or URL)",
    },
    "command_remove": {"fr": "Retirer un article par son ID", "en": "Remove an article by its id"},
    "command_edit": {
        "fr": "Corriger le titre, la date ou le média d'un article",
        "en": "Correct an article's title, date or outlet",
    },
    "command_feeds": {"fr": "Flux RSS et Atom suivis", "en": "RSS and Atom feeds followed"},
    "command_stats": {"fr": "Statistiques de l'index et du bot", "en": "Index and bot statistics"},
    "inline_hint": {"fr": "Tapez une question sur les articles", "en": "Type a question"},
    "inline_no_answer": {
        "fr": "Les articles ne répondent pas à cette question",
        "en": "The articles do not answer this question",
    },
    # What the collection holds (``index.overview``): a heading over a page of articles.
    "overview_heading": {
        "fr": "Les articles de la collection ({count}), du plus récent au plus ancien",
        "en": "The collection's articles ({count}), newest first",
    },
    "overview_period": {
        "fr": "Articles publiés {period} ({count}), du plus récent au plus ancien",
        "en": "Articles published {period} ({count}), newest first",
    },
    "overview_period_none": {
        "fr": "Aucun article n'a été publié {period}.",
        "en": "No article was published {period}.",
    },
    "overview_latest": {
        "fr": "Les derniers articles publiés ({count}), du plus récent au plus ancien",
        "en": "The latest articles ({count}), newest first",
    },
    "overview_latest_none": {
        "fr": "Aucun article de la collection n'a de date de publication.",
        "en": "No article of the collection has a publication date.",
    },
    "page_of": {"fr": " — page {page}/{pages}", "en": " — page {page}/{pages}"},
    # Small talk (``index.smalltalk``) is answered in the language it was written in.
    "small_talk_greeting": {
        "fr": (
            "Bonjour ! Je réponds aux questions sur {articles} article(s) en citant mot pour mot "
            "les passages qui y répondent.\nPosez votre question en une phrase (dans un groupe : "
            "@{bot} votre question) ; /sources liste les articles, /help en dit plus."
        ),
        "en": (
            "Hello! I answer questions about {articles} article(s) by quoting, word for word, "
            "the passages that answer them.\nAsk your question in one sentence (in a group: "
            "@{bot} your question); /sources lists the articles, /help tells more."
        ),
        "es": (
            "¡Hola! Respondo a preguntas sobre {articles} artículo(s) citando palabra por palabra "
            "los pasajes que las responden.\nHaga su pregunta en una frase (en un grupo: "
            "@{bot} su pregunta); /sources lista los artículos, /help explica más."
        ),
        "de": (
            "Hallo! Ich beantworte Fragen zu {articles} Artikel(n), indem ich die Stellen, die "
            "sie beantworten, wörtlich zitiere.\nStellen Sie Ihre Frage in einem Satz (in einer "
            "Gruppe: @{bot} Ihre Frage); /sources listet die Artikel, /help erklärt mehr."
        ),
        "it": (
            "Ciao! Rispondo alle domande su {articles} articolo/i citando parola per parola i "
            "passaggi che rispondono.\nFaccia la sua domanda in una frase (in un gruppo: "
            "@{bot} la sua domanda); /sources elenca gli articoli, /help spiega di più."
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
            "Console de questions sur {articles} article(s). Écrivez une question, "
            "/more, /sources, /help, ou /quit pour sortir."
        ),
        "en": (
            "Question console over {articles} article(s). Type a question, /more, "
            "/sources, /help, or /quit to leave."
        ),
    },
    # -- issue 23 (console = chat): the chat's commands and buttons, typed
    "console_commands": {
        "fr": (
            "Dans la console : /ask question (ou la question seule), /more (Plus), /context N "
            "(Contexte N), /vote up ou /vote down [N] (👍, 👎 et ✗ N faux), /sources, /help, "
            "/quit."
        ),
        "en": (
            "In the console: /ask question (or just the question), /more (More), /context N "
            "(Context N), /vote up or /vote down [N] (👍, 👎 and ✗ N wrong), /sources, /help, "
            "/quit."
        ),
    },
    "console_nothing_shown": {
        "fr": "Aucune réponse affichée : posez d'abord une question.",
        "en": "No answer shown yet: ask a question first.",
    },
    "console_no_quote": {
        "fr": "La dernière réponse n'a pas de passage {n}.",
        "en": "The last answer has no passage {n}.",
    },
    # --
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


def t(key: str, lang: str, **values: object) -> str:
    """The message ``key`` in ``lang`` as Telegram HTML, with ``values`` escaped and filled in."""
    variants = MESSAGES[key]
    template = variants.get(lang) or variants[LANGUAGES[0]]
    escaped = {k: html.escape(_cut(str(v)), quote=False) for k, v in values.items()}
    return template.format(**escaped)


def _cut(value: str) -> str:
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"


def t_plain(key: str, lang: str, **values: object) -> str:
    """The message ``key`` as plain text (tags dropped, entities decoded), for the console."""
    return html.unescape(_TAG.sub("", t(key, lang, **values)))
