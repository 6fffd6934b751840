"""Mandarin tone sandhi as upstream MeloTTS applies it (`melo/text/tone_sandhi.py`, from PaddleSpeech).

Two steps over jieba's (word, part of speech) list of one sentence piece:
  * `pre_merge`: join `不` and `一` to the word after them, `V一V` (听一听), repeated words (好好), runs of
    third-tone words of at most three characters, and `儿` to the word before;
  * `modified_tone(word, pos, finals)`: 不 (bu2 before a fourth tone, bu5 in V不V), 一 (yi2 before a fourth
    tone, yi4 before others, yi5 in V一V, yi1 in ordinals and digit strings), neutral tones (reduplicated
    nouns and verbs, particles 吧呢啊..., 的地得, 们子 suffixes, 上下里 locatives, directional 来去, the
    measure word 个, and the word list in data/zh_tone_sandhi.json), then third-tone sandhi (3-3 -> 2-3,
    inside words of two, three and four characters).
`finals` are pypinyin FINALS_TONE3 strings with tone 5 for neutral (`ao3`); they are changed in place and
returned. Every rule, including its quirks (a failed `一` merge keeps the words as they were, as upstream's
bare `except` does), is upstream's, so that the tones match what the model was trained on.
"""

from __future__ import annotations

import contextlib
import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "zh_tone_sandhi.json"

PUNCTUATION = "：，；。？！“”‘’':,;.?!"
"""After `一`, these keep its first tone."""

Seg = list[list[str]]
"""[[word, pos], ...]"""


@lru_cache(maxsize=1)
def _word_lists() -> tuple[frozenset[str], frozenset[str]]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return frozenset(raw["must_neutral_tone_words"]), frozenset(raw["must_not_neutral_tone_words"])


def _finals(word: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(word, neutral_tone_with_five=True, style=Style.FINALS_TONE3)


def _retone(final: str, tone: str) -> str:
    return final[:-1] + tone


def _all_third(finals: list[str]) -> bool:
    return all(f[-1:] == "3" for f in finals)


def _is_doubled(word: str) -> bool:
    return len(word) == 2 and word[0] == word[1]


def split_word(word: str) -> list[str]:
    """The word in two parts around its shortest jieba search-mode sub-word (first of the shortest)."""
    import jieba

    shortest = sorted(jieba.cut_for_search(word), key=len)[0]
    if word.find(shortest) == 0:
        return [shortest, word[len(shortest) :]]
    return [word[: -len(shortest)], shortest]


# -- merging ---------------------------------------------------------------------------------------------
def _merge_bu(seg: Seg) -> Seg:
    out: Seg = []
    last = ""
    for word, pos in seg:
        if last == "不":
            word = last + word
        if word != "不":
            out.append([word, pos])
        last = word
    if last == "不":
        out.append([last, "d"])
    return out


def _merge_yi(seg: Seg) -> Seg:
    """Upstream's two passes; the first indexes its output by the input's position, so it can fail with an
    IndexError, and then upstream keeps `seg` as it was (its `pre_merge_for_modify` catches everything)."""
    first: Seg = []
    for i, (word, pos) in enumerate(seg):
        if 0 < i < len(seg) - 1 and word == "一" and seg[i - 1][0] == seg[i + 1][0] and seg[i - 1][1] == "v":
            first[i - 1][0] = first[i - 1][0] + "一" + first[i - 1][0]
        elif i >= 2 and seg[i - 1][0] == "一" and seg[i - 2][0] == word and pos == "v":
            continue
        else:
            first.append([word, pos])
    out: Seg = []
    for word, pos in first:
        if out and out[-1][0] == "一":
            out[-1][0] = out[-1][0] + word
        else:
            out.append([word, pos])
    return out


def _merge_doubled(seg: Seg) -> Seg:
    out: Seg = []
    for word, pos in seg:
        if out and word == out[-1][0]:
            out[-1][0] = out[-1][0] + word
        else:
            out.append([word, pos])
    return out


def _merge_third_tones(seg: Seg, whole: bool) -> Seg:
    """Join a word to the one before when both are all third tones (`whole`), or when the last syllable of
    the one before and the first of this one are (not `whole`); at most three characters, never after a
    doubled word, never twice in a row."""
    finals = [_finals(word) for word, _ in seg]
    out: Seg = []
    merged = [False] * len(seg)
    for i, (word, pos) in enumerate(seg):
        if i >= 1 and not merged[i - 1]:
            if whole:
                meets = _all_third(finals[i - 1]) and _all_third(finals[i])
            else:
                meets = finals[i - 1][-1][-1:] == "3" and finals[i][0][-1:] == "3"
            if meets and not _is_doubled(seg[i - 1][0]) and len(seg[i - 1][0]) + len(word) <= 3:
                out[-1][0] = out[-1][0] + word
                merged[i] = True
                continue
        out.append([word, pos])
    return out


def _merge_er(seg: Seg) -> Seg:
    out: Seg = []
    for i, (word, pos) in enumerate(seg):
        if i >= 1 and word == "儿" and seg[i - 1][0] != "#":
            out[-1][0] = out[-1][0] + word
        else:
            out.append([word, pos])
    return out


def pre_merge(pairs: list[tuple[str, str]]) -> Seg:
    """Upstream's `pre_merge_for_modify` on jieba posseg's (word, flag) pairs."""
    seg = _merge_bu([[w, p] for w, p in pairs])
    with contextlib.suppress(IndexError):  # upstream: "_merge_yi failed", the words stay as they were
        seg = _merge_yi(seg)
    seg = _merge_doubled(seg)
    seg = _merge_third_tones(seg, whole=True)
    seg = _merge_third_tones(seg, whole=False)
    return _merge_er(seg)


# -- tones -----------------------------------------------------------------------------------------------
def _bu(word: str, finals: list[str]) -> list[str]:
    if len(word) == 3 and word[1] == "不":
        finals[1] = _retone(finals[1], "5")
        return finals
    for i, char in enumerate(word):
        if char == "不" and i + 1 < len(word) and finals[i + 1][-1:] == "4":
            finals[i] = _retone(finals[i], "2")
    return finals


def _yi(word: str, finals: list[str]) -> list[str]:
    if "一" in word and all(c.isnumeric() for c in word if c != "一"):
        return finals
    if len(word) == 3 and word[1] == "一" and word[0] == word[-1]:
        finals[1] = _retone(finals[1], "5")
    elif word.startswith("第一"):
        finals[1] = _retone(finals[1], "1")
    else:
        for i, char in enumerate(word):
            if char == "一" and i + 1 < len(word):
                if finals[i + 1][-1:] == "4":
                    finals[i] = _retone(finals[i], "2")
                elif word[i + 1] not in PUNCTUATION:
                    finals[i] = _retone(finals[i], "4")
    return finals


def _neutral(word: str, pos: str, finals: list[str]) -> list[str]:
    must, must_not = _word_lists()
    for j in range(1, len(word)):
        if word[j] == word[j - 1] and pos[:1] in {"n", "v", "a"} and word not in must_not:
            finals[j] = _retone(finals[j], "5")
    ge = word.find("个")
    particle = bool(word) and word[-1] in "吧呢啊呐噻嘛吖嗨呐哦哒额滴哩哟喽啰耶喔诶的地得"  # 走吧, 我的
    suffix = len(word) > 1 and word[-1] in "们子" and pos in {"r", "n"} and word not in must_not  # 我们, 桌子
    locative = len(word) > 1 and word[-1] in "上下里" and pos in {"s", "l", "f"}  # 桌上, 家里
    directional = len(word) > 1 and word[-1] in "来去" and word[-2] in "上下进出回过起开"  # 上来, 下去
    if particle or suffix or locative or directional:
        finals[-1] = _retone(finals[-1], "5")
    elif (ge >= 1 and (word[ge - 1].isnumeric() or word[ge - 1] in "几有两半多各整每做是")) or word == "个":
        finals[ge] = _retone(finals[ge], "5")
    elif word in must or word[-2:] in must:
        finals[-1] = _retone(finals[-1], "5")

    parts = split_word(word)
    cut = len(parts[0])
    groups = [finals[:cut], finals[cut:]]
    for part, group in zip(parts, groups, strict=True):
        if (part in must or part[-2:] in must) and group:
            group[-1] = _retone(group[-1], "5")
    return groups[0] + groups[1]


def _third(word: str, finals: list[str]) -> list[str]:
    if len(word) == 2 and _all_third(finals):
        finals[0] = _retone(finals[0], "2")
    elif len(word) == 3:
        parts = split_word(word)
        if _all_third(finals):
            if len(parts[0]) == 2:  # 蒙古/包
                finals[0] = _retone(finals[0], "2")
                finals[1] = _retone(finals[1], "2")
            elif len(parts[0]) == 1:  # 纸/老虎
                finals[1] = _retone(finals[1], "2")
        else:
            cut = len(parts[0])
            groups = [finals[:cut], finals[cut:]]
            for i, group in enumerate(groups):
                if _all_third(group) and len(group) == 2:  # 所有/人
                    group[0] = _retone(group[0], "2")
                elif (
                    i == 1
                    and group
                    and groups[0]
                    and group[0][-1:] == "3"
                    and groups[0][-1][-1:] == "3"
                    and not _all_third(group)
                ):
                    groups[0][-1] = _retone(groups[0][-1], "2")  # 好/喜欢
            finals = groups[0] + groups[1]
    elif len(word) == 4:
        groups = [finals[:2], finals[2:]]
        for group in groups:
            if _all_third(group):
                group[0] = _retone(group[0], "2")
        finals = groups[0] + groups[1]
    return finals


def modified_tone(word: str, pos: str, finals: list[str]) -> list[str]:
    """Upstream's `modified_tone`: 不, 一, neutral tones, then third tones."""
    finals = _bu(word, finals)
    finals = _yi(word, finals)
    finals = _neutral(word, pos, finals)
    return _third(word, finals)
