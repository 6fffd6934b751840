"""English text normalization: what MeloTTS does to a chunk before G2P (spec §3.1, §4.1).

Steps, in upstream order:
  1. the character clean-up of upstream's sentence splitter (CJK full stops and commas to ASCII, curly
     quotes to straight ones, then `< > ( ) [ ] " « »` deleted), done here so a chunk normalizes the same
     whether or not it went through `split_text`; surrogates are dropped; whitespace is collapsed;
  2. CamelCase split (`OpenVoice` -> `Open Voice`, upstream `api.py`), then lower-casing;
  3. times, then numbers (`numerals.py`);
  4. a space after every `, . ? !` followed by something, as upstream's splitter inserts (done after the
     numbers, so it cannot split them);
  5. the abbreviations below.

Deliberate deviations from upstream (each one is an upstream bug, not a style choice):
  * "10,000" and "3.14" are read as numbers: upstream's splitter inserts a space after every `,` and `.`,
    turning them into "ten, zero" and "three. fourteen" (MeloTTS #139). Only well-formed thousands
    groups lose their commas, so "1,2,3" is still read as a list ("one, two, three") as upstream does.
  * Digits after a decimal point are read one by one ("0.05" -> "zero point zero five"; upstream's
    normalizer reads "zero point five", a different number).
  * Times: "a.m."/"p.m." are recognized (upstream's pattern escapes the dot twice and never matches them,
    so "7:05 a.m." became "seven oh five a ma.m."); a time without am/pm keeps the space after it
    (upstream gives "seven oh five a mtomorrow"); 0:xx is a.m. (upstream says p.m.).
  * Money: "$1.5" is one dollar fifty cents (upstream: five cents); `€` is read (upstream has the table
    but its pattern skips the symbol); "$2.5 billion" is "two point five billion dollars" (upstream:
    "two dollars fifty cents billion").
  * "Mrs." is "missus" (upstream: "misess").
  * CamelCase is split only where every piece after the first is a capitalized word of three or more
    letters ("BlackBoard", "OpenVoice", "iPhone", "McDonald"); other mixed case, such as "ThIs Is MiXeD
    cAsE", "thE eND" or "HeLLo WoRLD", is read as the word it spells (upstream: "th is is mi xe d c as
    e"). So a word with a short or all-capital piece stays whole too: "ThisIsATest", "MySQL", "PhD".
  * "-" between two numbers or after a word is a hyphen, not a minus ("1-2" is "one-two"; upstream reads
    "oneminus two"); digit strings longer than 36 digits, which make inflect raise, are read digit by digit.
"""

from __future__ import annotations

import re
import unicodedata

from openvoice_tt.text.numerals import expand_numbers, expand_time

_TO_FULL_STOP = re.compile("[。！？；]")
_DELETED = re.compile(r"[<>()\[\]\"«»]+")
_SURROGATES = re.compile("[\ud800-\udfff]+")
_SPACE_AFTER_PUNCT = re.compile(r"([,.?!])(?=\S)")
_CAMEL_CASE = re.compile(r"([a-z])([A-Z])")
_ASCII_WORD = re.compile(r"[A-Za-z]+")
_CAMEL_PIECE = re.compile(r"[A-Z][a-z]{2,}")
"""A piece after a lower-to-upper boundary that makes real CamelCase: `Board`; not `Is`, `E`, `RLD`."""

ABBREVIATIONS = {
    "mrs": "missus",
    "mr": "mister",
    "dr": "doctor",
    "st": "saint",
    "co": "company",
    "jr": "junior",
    "maj": "major",
    "gen": "general",
    "drs": "doctors",
    "rev": "reverend",
    "lt": "lieutenant",
    "hon": "honorable",
    "sgt": "sergeant",
    "capt": "captain",
    "esq": "esquire",
    "ltd": "limited",
    "col": "colonel",
    "ft": "fort",
}
"""Upstream's list; expanded only when followed by a full stop, which the expansion absorbs."""

_ABBREVIATION_RE = re.compile(r"\b(" + "|".join(sorted(ABBREVIATIONS, key=len, reverse=True)) + r")\.")


def strip_accents(text: str) -> str:
    """`café` -> `cafe`: NFD, then combining marks dropped (as g2p_en and BERT's uncased tokenizer do)."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def clean_characters(text: str) -> str:
    """Upstream splitter's character mapping plus whitespace collapsing; shared with `split_text`."""
    text = _SURROGATES.sub("", text)
    text = _TO_FULL_STOP.sub(".", text).replace("，", ",")
    text = text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    text = _DELETED.sub("", text)
    return " ".join(text.split())


def _split_camel_case(m: re.Match[str]) -> str:
    """`BlackBoard` -> `Black Board`; `ThIs`, `MiXeD`, `eND` stay whole (see the deviations above)."""
    split = _CAMEL_CASE.sub(r"\1 \2", m.group(0))
    pieces = split.split(" ")[1:]
    return split if all(_CAMEL_PIECE.fullmatch(p) for p in pieces) else m.group(0)


def normalize_text(text: str) -> str:
    """Normalize one chunk of English text the way MeloTTS does, minus the bugs listed above."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    text = clean_characters(text)
    text = _ASCII_WORD.sub(_split_camel_case, text).lower()
    text = expand_time(text)
    text = expand_numbers(text)
    # Upstream's splitter puts a space after every , . ? ! before normalizing; done after the numbers,
    # it no longer splits "10,000" or "3.14", and the rest reads as upstream ("mr.smith" -> "mister smith").
    text = _SPACE_AFTER_PUNCT.sub(r"\1 ", text)
    return _ABBREVIATION_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], text)
