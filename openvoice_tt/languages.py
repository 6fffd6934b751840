"""The base-speaker languages, as data: one `Language` entry per MeloTTS checkpoint OpenVoice V2 speaks from.

Everything the package knows about a language lives in its entry: the checkpoint folder and hub repo
(`model`, a `layout.MeloModel`), its BERT and base-speaker embeddings (through `model`), the front end
that turns its text into model inputs (named by import path, so a language's packages are imported only
when it is used), upstream's tone and language ids, the sentence splitter, and the pip extra that
provides its packages. The API, CLI, batch, server, download, doctor and both backends find a language
here and nowhere else; adding a language is adding an entry (and its front-end module).

Codes are upstream's `TTS(language=...)` codes; `key` is the short name used on the command line
(`download --languages es fr en-v3`). Upstream reads EN_V2 and EN_NEWEST text with the English front end
(`language.split('_')[0]`); so do we.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openvoice_tt.errors import InputError, MissingPackagesError
from openvoice_tt.layout import (
    CHINESE,
    ENGLISH,
    ENGLISH_NEWEST,
    ENGLISH_V2,
    FRENCH,
    JAPANESE,
    KOREAN,
    SPANISH,
    MeloModel,
)


@dataclass(frozen=True)
class Language:
    """One base-speaker language (see the module docstring)."""

    code: str
    """Upstream's code: EN, EN_V2, EN_NEWEST, ES, FR, ZH, JP, KR."""
    key: str
    """Command-line name: en, en-v2, en-v3, es, fr, zh, jp, kr."""
    name: str
    model: MeloModel
    front_end: str
    """`module:Class` of the front end; imported on first use."""
    tone_start: int
    """Upstream `language_tone_start_map[code]`: the language's tone 0 is this tone id."""
    language_id: int
    """Upstream `language_id_map[code]`."""
    splitter: str = "latin"
    """Upstream `split_sentence` family: `latin` (EN, ES, FR: sentences end at `.!?` followed by a space) or
    `cjk` (ZH, JP, KR: upstream's `split_sentences_zh`; sentences end at `。！？` too and need no space)."""
    extra: str | None = None
    """The pip extra that installs `packages` (None: the base install has everything)."""
    packages: tuple[str, ...] = ()
    """Import names the front end needs beyond the base install."""

    @property
    def reads_english(self) -> bool:
        """Whether the language reads text with the English front end (EN, EN_V2, EN_NEWEST): only then do an
        ARPAbet lexicon and the notice about non-English letters make sense."""
        return self.front_end == ENGLISH_FRONT_END

    def missing_packages(self) -> list[str]:
        """The `packages` that cannot be imported here (none are imported to find out)."""
        return [name for name in self.packages if importlib.util.find_spec(name) is None]

    def require_packages(self) -> None:
        """A MissingPackagesError naming the extra when a package is missing."""
        missing = self.missing_packages()
        if missing:
            raise MissingPackagesError(
                f"{self.name} needs {', '.join(missing)}: install it with "
                f"pip install 'openvoice-tt[{self.extra}]' (or run ./setup_and_run.sh)"
            )

    def front_end_class(self) -> Any:
        """The front-end class, imported now (its packages checked first)."""
        self.require_packages()
        module, _, name = self.front_end.partition(":")
        return getattr(importlib.import_module(module), name)

    def make_front_end(self, symbols: Sequence[str], add_blank: bool, bert: Any = None, lexicon: Any = None) -> Any:
        """The language's front end over a model's symbol list, `bert` (a BertFeatureExtractor or None) and
        `lexicon` (English only); by keyword, since the English class takes `ja_bert_dim` fourth. Every caller
        (TTS, doctor, phonemes) builds it here, so a missing package is the same exit 7 everywhere."""
        return self.front_end_class()(symbols, add_blank=add_blank, bert=bert, lexicon=lexicon)


ENGLISH_FRONT_END = "openvoice_tt.text.frontend:EnglishFrontEnd"

EN = Language("EN", "en", "English", ENGLISH, ENGLISH_FRONT_END, tone_start=7, language_id=2)
EN_V2 = Language("EN_V2", "en-v2", "English (v2)", ENGLISH_V2, ENGLISH_FRONT_END, tone_start=7, language_id=2)
EN_NEWEST = Language(
    "EN_NEWEST", "en-v3", "English (v3, EN-Newest)", ENGLISH_NEWEST, ENGLISH_FRONT_END, tone_start=7, language_id=2
)
ES = Language(
    "ES",
    "es",
    "Spanish",
    SPANISH,
    "openvoice_tt.text.spanish:SpanishFrontEnd",
    tone_start=12,
    language_id=5,
    extra="es",
    packages=("gruut", "gruut_lang_es", "num2words"),  # gruut, its Spanish data; num2words spells ordinals
)
FR = Language(
    "FR",
    "fr",
    "French",
    FRENCH,
    "openvoice_tt.text.french:FrenchFrontEnd",
    tone_start=13,
    language_id=6,
    extra="fr",
    packages=("gruut", "gruut_lang_fr", "num2words"),
)

# Upstream loads "ZH" as ZH_MIX_EN (Chinese with English words): its tone start (0) and language id (3) are
# ZH_MIX_EN's, and English words inside keep English tones (offset by English's tone start, 7).
ZH = Language(
    "ZH",
    "zh",
    "Chinese (with English)",
    CHINESE,
    "openvoice_tt.text.chinese:ChineseFrontEnd",
    tone_start=0,
    language_id=3,
    splitter="cjk",
    extra="zh",
    packages=("jieba", "pypinyin", "cn2an"),
)
JP = Language(
    "JP",
    "jp",
    "Japanese",
    JAPANESE,
    "openvoice_tt.text.japanese:JapaneseFrontEnd",
    tone_start=6,
    language_id=1,
    splitter="cjk",
    extra="jp",
    packages=("MeCab", "unidic_lite", "pykakasi"),
)
KR = Language(
    "KR",
    "kr",
    "Korean",
    KOREAN,
    "openvoice_tt.text.korean:KoreanFrontEnd",
    tone_start=11,
    language_id=4,
    splitter="cjk",
    extra="kr",
    packages=("g2pkk", "mecab", "mecab_ko_dic", "jamo"),  # mecab: python-mecab-ko
)

LANGUAGES: tuple[Language, ...] = (EN, EN_V2, EN_NEWEST, ES, FR, ZH, JP, KR)
"""Every language, in the order they are listed (and searched for a speaker name: EN before EN_V2)."""

ALIASES = {
    "SP": "ES",
    "EN-NEWEST": "EN_NEWEST",
    "EN-V3": "EN_NEWEST",
    "EN-V2": "EN_V2",
    "ZH_MIX_EN": "ZH",
    "JA": "JP",
    "KO": "KR",
}
"""Other spellings users (and upstream, `SP`) give a language."""


def find_language(name: str) -> Language:
    """The language called `name` (a code or key, any case: `ES`, `es`, `en-v3`, `EN_NEWEST`, `SP`); a
    InputError listing the known ones otherwise."""
    wanted = name.strip().upper()
    wanted = ALIASES.get(wanted, wanted)
    for language in LANGUAGES:
        if wanted in (language.code, language.key.upper()):
            return language
    known = ", ".join(language.key for language in LANGUAGES)
    raise InputError(f"unknown language {name!r} (known: {known})")


def find_languages(names: Iterable[str]) -> tuple[Language, ...]:
    """`find_language` for each name, `all` meaning every language; duplicates dropped, order kept."""
    found: list[Language] = []
    for name in names:
        for language in LANGUAGES if name.strip().lower() == "all" else (find_language(name),):
            if language not in found:
                found.append(language)
    return tuple(found)
