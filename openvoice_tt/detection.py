"""Which language a text is in, from its script and a few words: `--language auto` and speaker-less calls.

No model and no dependency: the scripts of Chinese, Japanese and Korean tell them apart by Unicode ranges,
and Spanish and French are told from English by the marks and the commonest words only they use.

  1. Letters are counted per script: Hangul (syllables and jamo), kana (hiragana, katakana, the half-width
     forms), Han (the CJK ideographs) and Latin. A CJK character is about a syllable, a Latin one about a
     third of one, so a text is CJK when its CJK characters times 3 are at least its Latin letters (an
     English sentence with one Chinese word stays English, a Chinese one with "iPhone" in it Chinese).
  2. CJK: Hangul at least as many as kana and Han together -> Korean (Korean may hold Han, hanja); else any
     kana -> Japanese (Chinese is never written with kana; Japanese nearly always has some); else Chinese.
  3. Latin: English unless the text is clearly Spanish or French: each counts its marks (`ñ ¿ ¡ á í ó ú`
     Spanish, `ç œ è ê à â î ô û ë ï ù` French) and its frequent words that are not English ones (`el los
     está para` / `le les est une avec vous`); a language wins with more signs than the other and than
     English's own frequent words (`the and is of to you`), and at least 2 of them (1 when the text has
     no English word: "Bonjour.", "Gracias").
Only installed languages are chosen (`choose`): the detected one when it is installed; for Latin text
otherwise English v2 or v3, then another installed Latin-script language, then Chinese (which reads
English words); Chinese, Japanese or Korean text with its language missing is a CheckpointError naming
the download (exit 4), as `--language zh` would be. What was chosen and why is kept (`Detection.reason`) and shown in
`--json`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from openvoice_tt.errors import CheckpointError, InputError
from openvoice_tt.languages import EN, EN_NEWEST, EN_V2, ES, FR, JP, KR, ZH, Language

AUTO = "auto"
"""The `--language` value (any case) that asks for detection."""


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_SPANISH_MARKS = frozenset("ñ¿¡áíóú")
_FRENCH_MARKS = frozenset("çœèêàâîôûëïù")
_ENGLISH_WORDS = _wordset(
    "the and is are was of to in it you that this for with on have be not he she they we what how do does "
    "i my your there from at by an or but"
)
_SPANISH_WORDS = _wordset(
    "el los las del al es está están por para con una uno muy pero como dónde qué cómo cuándo yo tú usted "
    "hola gracias buenos buenas días noches señor señora estoy tengo hay también porque su sus lo y"
)
_FRENCH_WORDS = _wordset(
    "le les des du est une et je tu il elle nous vous ils elles avec pour dans sur pas ne qui ce cette "
    "bonjour merci oui très mais au aux c'est j'ai n'est qu'il d'un d'une l'on ça suis sont"
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True)
class Detection:
    """A language detected from a text, and why."""

    language: Language
    reason: str
    """In words, for `--json` and the server: the counts and signs that decided."""

    def to_json(self) -> dict[str, str]:
        return {"language": self.language.key, "code": self.language.code, "reason": self.reason}


def is_auto(language: object) -> bool:
    """Whether a `--language` value asks for detection."""
    return isinstance(language, str) and language.strip().lower() == AUTO


def _script(c: str) -> str | None:
    o = ord(c)
    if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0xA960 <= o <= 0xA97F:
        return "hangul"
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return "kana"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F:
        return "han"
    if c.isalpha() and (o < 0x250 or 0x1E00 <= o <= 0x1EFF or 0xFF21 <= o <= 0xFF5A):  # Latin, full-width too
        return "latin"
    return None


def detect(text: str) -> Detection:
    """The language `text` is in (module docstring), among all languages."""
    if not isinstance(text, str):
        raise InputError(f"text must be a str, not {type(text).__name__}")
    counts = {"hangul": 0, "kana": 0, "han": 0, "latin": 0}
    for c in text:
        script = _script(c)
        if script is not None:
            counts[script] += 1
    hangul, kana, han, latin = counts["hangul"], counts["kana"], counts["han"], counts["latin"]
    cjk = hangul + kana + han
    if cjk and cjk * 3 >= latin:
        if hangul >= kana + han:
            return Detection(KR, f"Hangul script ({hangul} Hangul of {cjk} CJK characters)")
        if kana:
            return Detection(JP, f"kana in the text ({kana} kana, {han} Han characters)")
        return Detection(ZH, f"Han characters without kana or Hangul ({han} Han characters)")
    return _latin(text, latin, cjk)


def _latin(text: str, latin: int, cjk: int) -> Detection:
    lowered = text.lower().replace("’", "'")
    words = _WORD.findall(lowered)
    signs: dict[Language, list[str]] = {ES: [], FR: []}
    for language, marks, vocabulary in ((ES, _SPANISH_MARKS, _SPANISH_WORDS), (FR, _FRENCH_MARKS, _FRENCH_WORDS)):
        signs[language] += sorted({c for c in lowered if c in marks})
        signs[language] += [w for w in dict.fromkeys(words) if w in vocabulary]
    scores = {ES: len(signs[ES]), FR: len(signs[FR]), EN: len({w for w in words if w in _ENGLISH_WORDS})}
    best = max((ES, FR), key=lambda language: scores[language])
    other = FR if best is ES else ES
    clear = scores[best] >= 2 or (scores[best] == 1 and scores[EN] == 0)  # "Bonjour." alone is French
    if clear and scores[best] > scores[other] and scores[best] > scores[EN]:
        shown = ", ".join(signs[best][:6])
        return Detection(best, f"Latin script with {best.name} marks and words ({shown})")
    if not latin:
        return Detection(EN, "no letters of a known script (English, the default)")
    extra = f"; {cjk} CJK characters are too few to outweigh {latin} Latin letters" if cjk else ""
    return Detection(EN, f"Latin script, not clearly Spanish or French ({latin} letters){extra}")


_FALLBACKS: dict[str, tuple[Language, ...]] = {
    "EN": (EN, EN_V2, EN_NEWEST, ES, FR, ZH),
    "ES": (ES, EN, EN_V2, EN_NEWEST, FR, ZH),
    "FR": (FR, EN, EN_V2, EN_NEWEST, ES, ZH),
}
"""Where a Latin-script detection may go when its language is not installed, in order: English's models,
then any installed Latin-script language (what a speaker-less call spoke with before detection), then
Chinese, which reads English words (ZH_MIX_EN)."""


def choose(text: str, installed: Sequence[Language]) -> Detection:
    """`detect`, among the `installed` languages (module docstring): a CheckpointError (exit 4) when the
    text is Chinese, Japanese or Korean and that language is not installed, or nothing fitting is."""
    found = detect(text)
    for candidate in _FALLBACKS.get(found.language.code, (found.language,)):
        if candidate in installed:
            if candidate is found.language:
                return found
            why = f"{found.reason}; {found.language.name} is not installed, so {candidate.name}"
            return Detection(candidate, why)
    if found.language in (ZH, JP, KR) or not installed:
        raise CheckpointError(
            f"the text looks {found.language.name} ({found.reason}), which is not installed: "
            f"'openvoice-tt download --languages {found.language.key}' fetches it"
        )
    names = ", ".join(language.key for language in installed)
    raise CheckpointError(
        f"the text looks {found.language.name} ({found.reason}); no installed language reads it (installed: "
        f"{names}; 'openvoice-tt download --languages {found.language.key}' fetches it)"
    )
