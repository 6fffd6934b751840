"""The Spanish front end: upstream MeloTTS's `melo/text/spanish.py` over `es_phonemizer` (see `latin`).

Upstream's cleaner (`spanish_cleaners`) is kept step by step: lower-case; `;` and `:` to `,`, `-` to a
space, `'` removed; its punctuation map (`…`/`...` to `.`, quotes and brackets to `'`, `—` removed, `~`
to `-`, full-width marks to ASCII); `<>()[]"«»'` removed; leading `,.!?` removed; whitespace collapsed;
a `.` added when the text does not end in `.,!?-…`. The tokenizer is BETO's
(dccuchile/bert-base-spanish-wwm-uncased, whose hub `tokenizer_config.json` lower-cases and keeps
accents: `niño` stays `niño`), each rebuilt word is read by gruut `es-es`.

Deviations from upstream, where it misreads (each is tested in tests/text/test_frontend_es.py):
  * thousands separators: `1.000`, `10.000`, `1 000` (no-break or thin space) are read as one number,
    `mil`, `diez mil` (upstream: BERT splits them, `uno. cero`, `diez. cero`); with a plain space only
    when the first group has 1-2 digits or a currency or percent follows (`10 000`, `100 000 €`), so that
    `600 123 456` (a phone number) keeps its spaces;
  * a decimal comma is read `coma`: `3,50` is `tres coma cincuenta` (upstream: `tres, cincuenta`, a pause);
  * `%` is `por ciento` (upstream: gruut reads `%` as the phone `d`), `€` is `euro(s)` after the number
    (upstream: no phone, or a stray one when glued to the number: `5€` is `bo`), `$` is `dólar(es)` after
    the number (upstream's cleaner turns `$` into `.`, a pause: `$5` is `. cinco`);
  * ordinals `1º`, `2ª`, `3.º` are read `primero`, `segunda`, `tercero` (upstream: gruut reads `1º` as
    `bo` and takes `2ª` for a date, reading out the day the program runs);
  * `&` is ` y ` between spaces (upstream glues the `y` to the words: `A&B` is one word `ayb`);
  * common abbreviations are read as words: `Sr.`, `Sra.`, `Srta.`, `Dr.`, `Dra.`, `Ud.`, `Uds.`, `prof.`,
    `avda.`, `pág.`, `aprox.`, `etc.`, `p. ej.`, `EE. UU.` (upstream has no Spanish abbreviations and
    reads them as letters with a pause: `Sr.` is `ese erre.`, `Dr.` `dɾ.`);
  * and the shared ones in `latin` (`[UNK]` and unspeakable words, a leading `#`, unknown phones).
"""

from __future__ import annotations

import re

from openvoice_tt.bert.tokenizer import Casing
from openvoice_tt.languages import ES
from openvoice_tt.text.latin import LatinFrontEnd, splitter_marks, substitute
from openvoice_tt.text.latin_numbers import currency_rules, number_rules, ordinal_rule

CASING = Casing(lowercase=True, strip_accents=False)
"""BETO uncased's hub tokenizer_config.json: `do_lower_case: true`, `strip_accents: false`."""

SPANISH_PHONES = frozenset("abdefijklmnoprstuwxzðŋɛɡɣɪɲɾʃʊʎʝβθˈˌ")
"""The phone characters gruut `es-es` gives (a checkpoint's symbol list must hold them)."""

REQUIRED = SPANISH_PHONES | frozenset(",.!?-¿¡") | {"_", "UNK"}

_REP_MAP = {
    "：": ",",
    "；": ",",
    "，": ",",
    "。": ".",
    "！": "!",
    "？": "?",
    "\n": ".",
    "·": ",",
    "、": ",",
    "...": ".",
    "…": ".",
    "$": ".",
    "“": "'",
    "”": "'",
    "‘": "'",
    "’": "'",
    "（": "'",
    "）": "'",
    "(": "'",
    ")": "'",
    "《": "'",
    "》": "'",
    "【": "'",
    "】": "'",
    "[": "'",
    "]": "'",
    "—": "",
    "～": "-",
    "~": "-",
    "「": "'",
    "」": "'",
}
"""Upstream es_phonemizer/cleaner.py `rep_map`, in its order."""

_REP_PATTERN = re.compile("|".join(re.escape(p) for p in _REP_MAP))

WORDS = {"percent": "por ciento", "euro": ("euro", "euros"), "dollar": ("dólar", "dólares"), "comma": "coma"}

_ABBREVIATIONS = [
    ("sr", "señor"),
    ("sra", "señora"),
    ("srta", "señorita"),
    ("dr", "doctor"),
    ("dra", "doctora"),
    ("ud", "usted"),
    ("uds", "ustedes"),
    ("prof", "profesor"),
    ("profa", "profesora"),
    ("avda", "avenida"),
    ("pág", "página"),
    ("aprox", "aproximadamente"),
]
"""Abbreviations that end in a dot (upstream has none for Spanish and reads `Sr.` as the letters `ese
erre` and a pause)."""

_SPACED_THOUSANDS = re.compile(
    r"(?<!\d )(?<![\d.,])(?:\d{1,2}(?: \d{3})+|\d{3}(?: \d{3})+(?= (?:euros?|dólar(?:es)?|por ciento)\b))"
    r"(?!\d|\.\d| \d)"
)
"""Thousands separated by plain spaces (`10 000`, `2 500 000`; the RAE's recommended separator) when the
first group has one or two digits, or when a currency or percent word follows (`100 000 €`): a number
such as `600 123 456` (a phone number) keeps its spaces."""

PRE_RULES = [
    (re.compile(r"\bEE\.\s?UU\.", re.IGNORECASE), "Estados Unidos"),
    (re.compile(r"\bp\.\s?ej\.", re.IGNORECASE), "por ejemplo"),
    (re.compile(r"\betc\.(?=\s*$|\s+[A-ZÁÉÍÓÚÑ¿¡])"), "etcétera."),
    (re.compile(r"\betc\.", re.IGNORECASE), "etcétera"),
    *[(re.compile(rf"\b{short}\.", re.IGNORECASE), long) for short, long in _ABBREVIATIONS],
    *currency_rules(WORDS),
    ordinal_rule("es"),
    (_SPACED_THOUSANDS, lambda m: m.group().replace(" ", "")),
    *number_rules(thousands=r"[.\u00a0\u202f\u2009]", decimal_word=WORDS["comma"]),
]
"""The deviations, applied to the raw text before upstream's cleaner (see the module docstring)."""


def spanish_cleaners(text: str) -> str:
    """Upstream `spanish_cleaners`, with `&` read as ` y `."""
    text = text.lower()
    text = text.replace(";", ",").replace("-", " ").replace(":", ",")
    text = text.replace("&", " y ").replace("'", "")  # upstream: "&" -> "y" (glued to the words)
    text = _REP_PATTERN.sub(lambda m: _REP_MAP[m.group()], text)
    text = re.sub(r"[\<\>\(\)\[\]\"\«\»\']+", "", text)
    text = re.sub(r"^[,.!?]+", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"([^\.,!\?\-…])$", r"\1.", text)


def normalize_spanish(text: str) -> str:
    """The text BERT and the phonemizer see: upstream's splitter marks, the deviations' rewrites, then
    upstream's cleaner."""
    return spanish_cleaners(substitute(PRE_RULES, splitter_marks(text)))


class SpanishFrontEnd(LatinFrontEnd):
    """Spanish text -> MeloTTS-Spanish's inputs (`latin.LatinFrontEnd`)."""

    language = ES
    gruut_lang = "es-es"
    casing = CASING
    required = REQUIRED
    bert_name = "dccuchile/bert-base-spanish-wwm-uncased"

    def normalize(self, text: str) -> str:
        return normalize_spanish(text)
