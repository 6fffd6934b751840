"""The French front end: upstream MeloTTS's `melo/text/french.py` over `fr_phonemizer` (see `latin`).

Upstream's cleaner (`french_cleaners`) is kept step by step: its abbreviations (`M.` monsieur, `Mme`
Madame, `etc.` et cetera, ...: the same regular expressions in the same order); its punctuation map
(`…`/`...` to `.`, quotes, brackets and `¿¡` removed, `—` removed, `~` to `-`, full-width marks to
ASCII); `;` and `:` to `,`, `-` to a space, `&` to ` et `; `<>()[]"«»` removed; leading `,.!?` removed;
whitespace collapsed; a `.` added when the text does not end in `.,!?-…`. Case is kept (the BERT,
dbmdz/bert-base-french-europeana-cased, is cased and keeps accents). Each rebuilt word is read by gruut
`fr-fr`, then runs of three or more `t` are dropped (`remove_consecutive_t`).

Deviations from upstream, where it misreads (each is tested in tests/text/test_frontend_fr.py):
  * elisions upstream misreads are read as one word, as gruut reads them: a one-letter clitic
    (`l'école`, `j'ai`, `d'accord`: `lekɔl`, `ʒe`, `dakɔʁ`), `est` after an apostrophe (`c'est`,
    `qu'est-ce`: `sɛ`, `kɛ sə`) and `aujourd'hui` (`oʒuʁdyi`); upstream gives gruut the pieces BERT
    splits at the apostrophe, reading `l` and `j` as letter names (`ɛl ekɔl`, `ʒi e`), `c'est` as
    `se ɛt`, `qu'est` as `k ɛt`, `aujourd'hui` as `oʒuʁ yi`. Elisions it reads right stay split
    (`qu'il`, `jusqu'à`, `lorsqu'il`: same phones either way). The typographic apostrophe is the same:
    upstream's sentence splitter turns `’` into `'` before the cleaner (which would delete it);
  * thousands separators: `1 000`, `10 000` (space, no-break or thin space) and `1.000` are one number,
    `mille`, `dix mille` (upstream: `un zéro`, `dix zéro`);
  * a decimal comma is read `virgule`: `2,5` is `deux virgule cinq` (upstream: `deux, cinq`, a pause);
  * `%` is `pour cent` (upstream: gruut reads it `ɛf`), `€` is `euro(s)` and `$` `dollar(s)` after the
    number (upstream: `ɛf`, nothing, or `$` turned into `.`, a pause);
  * ordinals `1re`, `2e`, `2ème`, `2ième` are spelled out: `première`, `deuxième` (upstream: gruut reads
    `1re` as `œ̃`, `2e` as `iː`, `2ème` as `ɔɛm`); `1er` and `1ère`, which gruut reads right, are kept;
  * `Dr` and `Pr` without a dot before a name are `docteur`, `professeur` (French writes them without one;
    upstream expands only `Dr.` and reads `Dr` as the letters `de ɛʁ`); `p. ex.` is `par exemple`
    (upstream expands `ex.` alone: `pe. exemple`); times `12 h 30`, `12h30`, `8 h` are `12 heures 30`
    (upstream reads the letter `h`, `aʃ`);
  * and the shared ones in `latin` (`[UNK]` and unspeakable words, a leading `#`, unknown phones).
"""

from __future__ import annotations

import re

from openvoice_tt.bert.tokenizer import Casing
from openvoice_tt.languages import FR
from openvoice_tt.text.latin import LatinFrontEnd, WordGroup, splitter_marks, substitute
from openvoice_tt.text.latin_numbers import currency_rules, number_rules, ordinal_rule

CASING = Casing(lowercase=False, strip_accents=False)
"""dbmdz/bert-base-french-europeana-cased's tokenizer_config.json: `do_lower_case: false`, `strip_accents: false`."""

FRENCH_PHONES = frozenset("abdefijklmnopstuvwyzøŋœɑɔəɛɡɥɪɲɹʁʃʒˈˌː̃")
"""The phone characters gruut `fr-fr` gives (a checkpoint's symbol list must hold them)."""

REQUIRED = FRENCH_PHONES | frozenset(",.!?-") | {"_", "UNK"}

_DOTTED = [
    ("M", "monsieur"),
    ("Mlle", "mademoiselle"),
    ("Mlles", "mesdemoiselles"),
    ("Mme", "Madame"),
    ("Mmes", "Mesdames"),
    ("N.B", "nota bene"),
    ("M", "monsieur"),
    ("p.c.q", "parce que"),
    ("Pr", "professeur"),
    ("qqch", "quelque chose"),
    ("rdv", "rendez-vous"),
    ("max", "maximum"),
    ("min", "minimum"),
    ("no", "numéro"),
    ("adr", "adresse"),
    ("dr", "docteur"),
    ("st", "saint"),
    ("co", "companie"),
    ("jr", "junior"),
    ("sgt", "sergent"),
    ("capt", "capitain"),
    ("col", "colonel"),
    ("av", "avenue"),
    ("av. J.-C", "avant Jésus-Christ"),
    ("apr. J.-C", "après Jésus-Christ"),
    ("art", "article"),
    ("boul", "boulevard"),
    ("c.-à-d", "c’est-à-dire"),
    ("etc", "et cetera"),
    ("ex", "exemple"),
    ("excl", "exclusivement"),
    ("boul", "boulevard"),
]
_BARE = [("Mlle", "mademoiselle"), ("Mlles", "mesdemoiselles"), ("Mme", "Madame"), ("Mmes", "Mesdames")]
_ABBREVIATIONS = [(re.compile(rf"\b{short}\.", re.IGNORECASE), long) for short, long in _DOTTED] + [
    (re.compile(rf"\b{short}"), long) for short, long in _BARE
]
"""Upstream fr_phonemizer/french_abbreviations.py: the same abbreviations in the same order, as the same
patterns (the dots inside `N.B`, `p.c.q`, `c.-à-d` are regex wildcards there too); dotted ones any case."""

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
    "“": "",
    "”": "",
    "‘": "",
    "’": "",
    "（": "",
    "）": "",
    "(": "",
    ")": "",
    "《": "",
    "》": "",
    "【": "",
    "】": "",
    "[": "",
    "]": "",
    "—": "",
    "～": "-",
    "~": "-",
    "「": "",
    "」": "",
    "¿": "",
    "¡": "",
}
"""Upstream fr_phonemizer/cleaner.py `rep_map`, in its order."""

_REP_PATTERN = re.compile("|".join(re.escape(p) for p in _REP_MAP))

WORDS = {"percent": "pour cent", "euro": ("euro", "euros"), "dollar": ("dollar", "dollars"), "comma": "virgule"}

PRE_RULES = [
    (re.compile(r"\bc\.-à-d\.", re.IGNORECASE), "c'est-à-dire"),  # upstream's expansion has a `’`, deleted next
    (re.compile(r"\bp\.\s?ex\.", re.IGNORECASE), "par exemple"),  # upstream: `ex.` alone, "p. exemple"
    (re.compile(r"\b(D|P)r(?=\s+[A-ZÀ-Ý])"), lambda m: "docteur" if m.group(1) == "D" else "professeur"),
    (re.compile(r"\b(\d{1,2})\s?h\s?(\d{2})\b"), r"\1 heures \2"),
    (re.compile(r"\b(\d{1,2})\s?h\b"), r"\1 heures"),
    *currency_rules(WORDS),
    ordinal_rule("fr"),
    *number_rules(thousands=r"[. \u00a0\u202f\u2009]", decimal_word=WORDS["comma"]),
]
"""The deviations, applied to the raw text before upstream's cleaner (see the module docstring)."""


def french_cleaners(text: str) -> str:
    """Upstream `french_cleaners`."""
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    text = _REP_PATTERN.sub(lambda m: _REP_MAP[m.group()], text)
    text = text.replace(";", ",").replace("-", " ").replace(":", ",").replace("&", " et ")
    text = re.sub(r"[\<\>\(\)\[\]\"\«\»]+", "", text)
    text = re.sub(r"^[,.!?]+", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"([^\.,!\?\-…])$", r"\1.", text)


def normalize_french(text: str) -> str:
    """The text BERT and the phonemizer see: upstream's splitter marks (`’` becomes `'`), the deviations'
    rewrites, then upstream's cleaner."""
    return french_cleaners(substitute(PRE_RULES, splitter_marks(text)))


def remove_consecutive_t(text: str) -> str:
    """Upstream `remove_consecutive_t`: a run of three or more `t` is dropped, shorter runs kept."""
    return re.sub(r"t{3,}", "", text)


def misread_elision(before: str, after: str) -> bool:
    """Whether upstream misreads `before'after` as two words: a one-letter clitic (`l'`, `j'`, `c'`,
    `d'`, `n'`, `s'`, `m'`, `t'`) is read as a letter name, `est` alone as `ɛt` (the noun, "east"), and
    `aujourd` loses its `d`. Other elisions (`qu'il`, `jusqu'à`, `lorsqu'il`) upstream reads right."""
    return len(before) == 1 or after.lower() == "est" or (before + "'" + after).lower() == "aujourd'hui"


def merge_elisions(groups: list[WordGroup], text: str) -> list[WordGroup]:
    """Join `word` + `'` + `word` written without spaces into one word where upstream misreads the
    pieces (`misread_elision`: `l'école`, `c'est`, `aujourd'hui`)."""
    out: list[WordGroup] = []
    i = 0
    while i < len(groups):
        group = groups[i]
        if (
            out
            and group.word == "'"
            and i + 1 < len(groups)
            and not out[-1].unknown
            and not groups[i + 1].unknown
            and out[-1].word[-1:].isalpha()
            and groups[i + 1].word[:1].isalpha()
            and out[-1].end == group.start
            and group.end == groups[i + 1].start
            and misread_elision(out[-1].word, groups[i + 1].word)
        ):
            after = groups[i + 1]
            before = out[-1]
            out[-1] = WordGroup(
                before.word + "'" + after.word,
                before.tokens + group.tokens + after.tokens,
                before.start,
                after.end,
                False,
                before.pieces + group.pieces + after.pieces,
            )
            i += 2
            continue
        out.append(group)
        i += 1
    return out


class FrenchFrontEnd(LatinFrontEnd):
    """French text -> MeloTTS-French's inputs (`latin.LatinFrontEnd`)."""

    language = FR
    gruut_lang = "fr-fr"
    casing = CASING
    required = REQUIRED
    gruut_data = "gruut_lang_fr"
    bert_name = "dbmdz/bert-base-french-europeana-cased"

    def normalize(self, text: str) -> str:
        return normalize_french(text)

    def merge(self, groups: list[WordGroup], text: str) -> list[WordGroup]:
        return merge_elisions(groups, text)

    def postprocess(self, ipa: str) -> str:
        return remove_consecutive_t(ipa)
