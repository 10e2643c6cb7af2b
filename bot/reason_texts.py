"""Why something was refused, in French, Spanish, German and Italian: one entry per code of
``index.reasons.ENGLISH`` (its English is the ``en`` variant). ``bot.i18n`` makes each the
message ``reason_<code>``, so tests/bot/test_i18n.py holds them to the catalog's rules.

Each is a phrase put inside another message ("Non ajouté : {reason}."): no capital, no stop.
"""

from __future__ import annotations

from typing import Final

__all__ = ["REASON_TEXTS"]

_TYPES: Final = ".txt, .md, .html, .json, .pdf, .docx"

REASON_TEXTS: Final[dict[str, dict[str, str]]] = {
    "invalid_url": {
        "fr": "ce n'est pas une URL valide",
        "es": "no es una URL válida",
        "de": "keine gültige URL",
        "it": "non è un URL valido",
    },
    "not_http": {
        "fr": "seules les URL http:// et https:// peuvent être ajoutées",
        "es": "solo se pueden añadir URL http:// y https://",
        "de": "nur http://- und https://-URLs können hinzugefügt werden",
        "it": "si possono aggiungere solo URL http:// e https://",
    },
    "unresolved": {
        "fr": "impossible de trouver l'adresse de {host}",
        "es": "no se encuentra la dirección de {host}",
        "de": "die Adresse von {host} ist nicht auffindbar",
        "it": "impossibile trovare l'indirizzo di {host}",
    },
    "private_address": {
        "fr": (
            "{host} est une adresse privée ({address}) ; FETCH_PRIVATE_ADDRESSES=true l'autorise"
        ),
        "es": "{host} es una dirección privada ({address}); FETCH_PRIVATE_ADDRESSES=true la permite",
        "de": (
            "{host} ist eine private Adresse ({address}); FETCH_PRIVATE_ADDRESSES=true erlaubt sie"
        ),
        "it": (
            "{host} è un indirizzo privato ({address}); FETCH_PRIVATE_ADDRESSES=true lo consente"
        ),
    },
    "too_many_redirects": {
        "fr": "trop de redirections",
        "es": "demasiadas redirecciones",
        "de": "zu viele Weiterleitungen",
        "it": "troppi reindirizzamenti",
    },
    "timeout": {
        "fr": "pas de réponse complète en {seconds} s",
        "es": "ninguna respuesta completa en {seconds} s",
        "de": "keine vollständige Antwort innerhalb von {seconds} s",
        "it": "nessuna risposta completa entro {seconds} s",
    },
    "http_status": {
        "fr": "le serveur a répondu HTTP {status}",
        "es": "el servidor respondió HTTP {status}",
        "de": "der Server antwortete mit HTTP {status}",
        "it": "il server ha risposto HTTP {status}",
    },
    "redirect_without_location": {
        "fr": "une redirection sans Location",
        "es": "una redirección sin Location",
        "de": "eine Weiterleitung ohne Location",
        "it": "un reindirizzamento senza Location",
    },
    "page_too_large": {
        "fr": "la page dépasse {kb} Ko",
        "es": "la página supera los {kb} KB",
        "de": "die Seite ist größer als {kb} KB",
        "it": "la pagina supera i {kb} KB",
    },
    "unsupported_compression": {
        "fr": "la page utilise une compression non prise en charge ({encoding})",
        "es": "la página usa una compresión no admitida ({encoding})",
        "de": "die Seite nutzt eine nicht unterstützte Kompression ({encoding})",
        "it": "la pagina usa una compressione non supportata ({encoding})",
    },
    "broken_compression": {
        "fr": "la compression {encoding} de la page est défectueuse",
        "es": "la compresión {encoding} de la página está dañada",
        "de": "die {encoding}-Kompression der Seite ist defekt",
        "it": "la compressione {encoding} della pagina è danneggiata",
    },
    "cannot_connect": {
        "fr": "impossible de se connecter au serveur",
        "es": "no se puede conectar con el servidor",
        "de": "keine Verbindung zum Server möglich",
        "it": "impossibile connettersi al server",
    },
    "network_error": {
        "fr": "erreur réseau ({kind})",
        "es": "error de red ({kind})",
        "de": "Netzwerkfehler ({kind})",
        "it": "errore di rete ({kind})",
    },
    "unsupported_type": {
        "fr": f"type de fichier non pris en charge « {{suffix}} » (utilisez {_TYPES})",
        "es": f"tipo de archivo no admitido '{{suffix}}' (use {_TYPES})",
        "de": f"nicht unterstützter Dateityp '{{suffix}}' (verwenden Sie {_TYPES})",
        "it": f"tipo di file non supportato '{{suffix}}' (usi {_TYPES})",
    },
    "unsupported_type_none": {
        "fr": f"type de fichier non pris en charge (sans extension ; utilisez {_TYPES})",
        "es": f"tipo de archivo no admitido (sin extensión; use {_TYPES})",
        "de": f"nicht unterstützter Dateityp (ohne Endung; verwenden Sie {_TYPES})",
        "it": f"tipo di file non supportato (senza estensione; usi {_TYPES})",
    },
    "file_too_large": {
        "fr": "le fichier dépasse {size}",
        "es": "el archivo supera {size}",
        "de": "die Datei ist größer als {size}",
        "it": "il file supera {size}",
    },
    "upload_too_large": {
        "fr": "le fichier dépasse MAX_UPLOAD_BYTES",
        "es": "el archivo supera MAX_UPLOAD_BYTES",
        "de": "die Datei ist größer als MAX_UPLOAD_BYTES",
        "it": "il file supera MAX_UPLOAD_BYTES",
    },
    "unreadable_file": {
        "fr": "impossible de lire le fichier ({error})",
        "es": "no se puede leer el archivo ({error})",
        "de": "die Datei ist nicht lesbar ({error})",
        "it": "impossibile leggere il file ({error})",
    },
    "no_folder": {
        "fr": "le dossier des articles « {folder} » n'existe pas",
        "es": "la carpeta de artículos '{folder}' no existe",
        "de": "der Artikelordner '{folder}' existiert nicht",
        "it": "la cartella degli articoli '{folder}' non esiste",
    },
    "duplicate_id": {
        "fr": "identifiant d'article « {id} » en double (aussi dans {other})",
        "es": "identificador de artículo '{id}' duplicado (también en {other})",
        "de": "doppelte Artikel-ID '{id}' (auch aus {other})",
        "it": "identificativo di articolo '{id}' duplicato (anche da {other})",
    },
    "empty_file": {
        "fr": "fichier vide",
        "es": "archivo vacío",
        "de": "leere Datei",
        "it": "file vuoto",
    },
    "no_text": {
        "fr": "aucun texte d'article trouvé",
        "es": "no se encontró texto de artículo",
        "de": "kein Artikeltext gefunden",
        "it": "nessun testo di articolo trovato",
    },
    "no_text_html": {
        "fr": "aucun texte d'article trouvé dans le HTML",
        "es": "no se encontró texto de artículo en el HTML",
        "de": "kein Artikeltext im HTML gefunden",
        "it": "nessun testo di articolo trovato nell'HTML",
    },
    "bad_encoding": {
        "fr": "ni UTF-8 valide ni un autre encodage connu",
        "es": "no es UTF-8 válido ni ninguna codificación conocida",
        "de": "weder gültiges UTF-8 noch eine bekannte Kodierung",
        "it": "né UTF-8 valido né una codifica nota",
    },
    "binary": {
        "fr": "fichier binaire, pas du texte",
        "es": "archivo binario, no texto",
        "de": "Binärdatei, kein Text",
        "it": "file binario, non testo",
    },
    "invalid_json": {
        "fr": "JSON invalide : {error} (ligne {line})",
        "es": "JSON no válido: {error} (línea {line})",
        "de": "ungültiges JSON: {error} (Zeile {line})",
        "it": "JSON non valido: {error} (riga {line})",
    },
    "json_too_deep": {
        "fr": "JSON invalide : imbrication trop profonde",
        "es": "JSON no válido: anidamiento demasiado profundo",
        "de": "ungültiges JSON: zu tief verschachtelt",
        "it": "JSON non valido: annidamento troppo profondo",
    },
    "json_shape": {
        "fr": "le JSON doit être un objet avec « title » et « text »",
        "es": "el JSON debe ser un objeto con 'title' y 'text'",
        "de": "das JSON muss ein Objekt mit 'title' und 'text' sein",
        "it": "il JSON deve essere un oggetto con 'title' e 'text'",
    },
    "json_field_string": {
        "fr": "le champ JSON « {field} » doit être une chaîne",
        "es": "el campo JSON '{field}' debe ser una cadena",
        "de": "das JSON-Feld '{field}' muss eine Zeichenkette sein",
        "it": "il campo JSON '{field}' deve essere una stringa",
    },
    "json_tags": {
        "fr": "le champ JSON « tags » doit être une liste de chaînes",
        "es": "el campo JSON 'tags' debe ser una lista de cadenas",
        "de": "das JSON-Feld 'tags' muss eine Liste von Zeichenketten sein",
        "it": "il campo JSON 'tags' deve essere un elenco di stringhe",
    },
    "json_surrogate": {
        "fr": "JSON invalide : le texte contient un substitut isolé (\\ud800-\\udfff)",
        "es": "JSON no válido: el texto contiene un sustituto aislado (\\ud800-\\udfff)",
        "de": "ungültiges JSON: der Text enthält ein einzelnes Surrogat (\\ud800-\\udfff)",
        "it": "JSON non valido: il testo contiene un surrogato isolato (\\ud800-\\udfff)",
    },
    "unexpected": {
        "fr": "erreur inattendue : {kind}",
        "es": "error inesperado: {kind}",
        "de": "unerwarteter Fehler: {kind}",
        "it": "errore imprevisto: {kind}",
    },
    "text_over_limit": {
        "fr": "le texte dépasse la limite de {size}",
        "es": "el texto supera el límite de {size}",
        "de": "der Text überschreitet die Grenze von {size}",
        "it": "il testo supera il limite di {size}",
    },
    "pdf_encrypted": {
        "fr": "le PDF est chiffré : envoyez une copie sans mot de passe",
        "es": "el PDF está cifrado: envíe una copia sin contraseña",
        "de": "das PDF ist verschlüsselt: senden Sie eine Kopie ohne Passwort",
        "it": "il PDF è cifrato: invii una copia senza password",
    },
    "pdf_pages": {
        "fr": "le PDF a plus de {pages} {pages|page|pages}",
        "es": "el PDF tiene más de {pages} {pages|página|páginas}",
        "de": "das PDF hat mehr als {pages} {pages|Seite|Seiten}",
        "it": "il PDF ha più di {pages} {pages|pagina|pagine}",
    },
    "pdf_content": {
        "fr": "les pages du PDF contiennent plus de {size} de contenu",
        "es": "las páginas del PDF contienen más de {size} de contenido",
        "de": "die Seiten des PDF enthalten mehr als {size} Inhalt",
        "it": "le pagine del PDF contengono più di {size} di contenuto",
    },
    "pdf_unreadable": {
        "fr": "PDF illisible ({kind})",
        "es": "PDF ilegible ({kind})",
        "de": "kein lesbares PDF ({kind})",
        "it": "PDF illeggibile ({kind})",
    },
    "pdf_no_text": {
        "fr": (
            "le PDF n'a pas de couche texte (un scan ?) : passez-le d'abord à l'OCR, puis "
            "renvoyez-le"
        ),
        "es": "el PDF no tiene capa de texto (¿un escaneo?): páselo antes por OCR y envíelo de nuevo",
        "de": (
            "das PDF hat keine Textebene (ein Scan?): lassen Sie zuerst OCR darüber laufen und "
            "senden Sie es erneut"
        ),
        "it": "il PDF non ha un livello di testo (una scansione?): lo passi prima all'OCR, poi lo rinvii",
    },
    "pdf_slow_page": {
        "fr": "une page du PDF prend plus de {seconds} s à lire",
        "es": "una página del PDF tarda más de {seconds} s en leerse",
        "de": "eine Seite des PDF braucht mehr als {seconds} s zum Lesen",
        "it": "una pagina del PDF richiede più di {seconds} s per essere letta",
    },
    "docx_not_zip": {
        "fr": "fichier DOCX illisible (pas une archive ZIP)",
        "es": "archivo DOCX ilegible (no es un archivo ZIP)",
        "de": "keine lesbare DOCX-Datei (kein ZIP-Archiv)",
        "it": "file DOCX illeggibile (non è un archivio ZIP)",
    },
    "docx_too_much_data": {
        "fr": "le fichier DOCX se décompresse en trop de données",
        "es": "el archivo DOCX se descomprime en demasiados datos",
        "de": "die DOCX-Datei entpackt zu zu vielen Daten",
        "it": "il file DOCX si decomprime in troppi dati",
    },
    "docx_unreadable": {
        "fr": "fichier DOCX illisible ({kind})",
        "es": "archivo DOCX ilegible ({kind})",
        "de": "keine lesbare DOCX-Datei ({kind})",
        "it": "file DOCX illeggibile ({kind})",
    },
    "docx_no_main": {
        "fr": "fichier DOCX illisible (pas de partie document principale)",
        "es": "archivo DOCX ilegible (sin parte de documento principal)",
        "de": "keine lesbare DOCX-Datei (kein Hauptdokumentteil)",
        "it": "file DOCX illeggibile (nessuna parte di documento principale)",
    },
    "docx_no_text": {
        "fr": "le fichier DOCX n'a pas de texte",
        "es": "el archivo DOCX no tiene texto",
        "de": "die DOCX-Datei hat keinen Text",
        "it": "il file DOCX non ha testo",
    },
    "docx_broken_xml": {
        "fr": "fichier DOCX illisible (XML défectueux dans {part})",
        "es": "archivo DOCX ilegible (XML dañado en {part})",
        "de": "keine lesbare DOCX-Datei (defektes XML in {part})",
        "it": "file DOCX illeggibile (XML danneggiato in {part})",
    },
    "docx_dtd": {
        "fr": "fichier DOCX illisible (son XML déclare une DTD)",
        "es": "archivo DOCX ilegible (su XML declara una DTD)",
        "de": "keine lesbare DOCX-Datei (ihr XML deklariert eine DTD)",
        "it": "file DOCX illeggibile (il suo XML dichiara una DTD)",
    },
    "docx_elements": {
        "fr": "le fichier DOCX a plus de {count} éléments XML",
        "es": "el archivo DOCX tiene más de {count} elementos XML",
        "de": "die DOCX-Datei hat mehr als {count} XML-Elemente",
        "it": "il file DOCX ha più di {count} elementi XML",
    },
    "docx_paragraphs": {
        "fr": "le fichier DOCX a plus de {count} paragraphes",
        "es": "el archivo DOCX tiene más de {count} párrafos",
        "de": "die DOCX-Datei hat mehr als {count} Absätze",
        "it": "il file DOCX ha più di {count} paragrafi",
    },
    "no_source_file": {
        "fr": "l'article n'a pas de fichier dans {folder}",
        "es": "el artículo no tiene archivo en {folder}",
        "de": "der Artikel hat keine Datei in {folder}",
        "it": "l'articolo non ha un file in {folder}",
    },
    "not_a_feed": {
        "fr": "ce n'est pas un flux RSS ou Atom",
        "es": "no es una fuente RSS o Atom",
        "de": "kein RSS- oder Atom-Feed",
        "it": "non è un feed RSS o Atom",
    },
    "not_a_feed_error": {
        "fr": "ce n'est pas un flux RSS ou Atom ({kind})",
        "es": "no es una fuente RSS o Atom ({kind})",
        "de": "kein RSS- oder Atom-Feed ({kind})",
        "it": "non è un feed RSS o Atom ({kind})",
    },
    "unreadable_entry": {
        "fr": "entrée illisible ({kind})",
        "es": "entrada ilegible ({kind})",
        "de": "unlesbarer Eintrag ({kind})",
        "it": "voce illeggibile ({kind})",
    },
    "entry_too_short": {
        "fr": "l'entrée n'a pas de lien et trop peu de texte",
        "es": "la entrada no tiene enlace y tiene muy poco texto",
        "de": "der Eintrag hat keinen Link und zu wenig Text",
        "it": "la voce non ha un link e ha troppo poco testo",
    },
    "internal_error": {
        "fr": "erreur interne ({kind})",
        "es": "error interno ({kind})",
        "de": "interner Fehler ({kind})",
        "it": "errore interno ({kind})",
    },
    "too_many_feeds": {
        "fr": "{count} {count|flux|flux} au plus",
        "es": "como máximo {count} {count|fuente|fuentes}",
        "de": "höchstens {count} Feeds",
        "it": "al massimo {count} feed",
    },
    "feeds_file": {
        "fr": "impossible de lire {file} ({error})",
        "es": "no se puede leer {file} ({error})",
        "de": "{file} ist nicht lesbar ({error})",
        "it": "impossibile leggere {file} ({error})",
    },
}
