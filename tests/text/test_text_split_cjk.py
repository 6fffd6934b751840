"""Chinese, Japanese and Korean chunking (`split_text(..., splitter="cjk")`, `chunk_limits("cjk")`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvoice_tt.languages import LANGUAGES
from openvoice_tt.text.split import chunk_limits, split_text

ZH = "今天天气很好。我们去公园散步吧！你觉得怎么样？"  # three sentences, no spaces anywhere
JP = "今日はいい天気ですね。散歩に行きましょう！どう思いますか？"
KR = "오늘 날씨가 좋네요. 산책하러 갈까요! 어떻게 생각해요?"


def cjk(text: str, max_chars: int, first_chars: int | None = None) -> list[str]:
    return split_text(text, max_chars, first_chars, splitter="cjk")


def test_registry_splitters():
    assert {language.code: language.splitter for language in LANGUAGES} == {
        "EN": "latin", "EN_V2": "latin", "EN_NEWEST": "latin", "ES": "latin", "FR": "latin",
        "ZH": "cjk", "JP": "cjk", "KR": "cjk",
    }  # fmt: skip


def test_limits_per_family():
    assert chunk_limits("latin") == (256, 100)
    assert chunk_limits("cjk") == (100, 40)
    with pytest.raises(ValueError, match="splitter must be one of latin, cjk"):
        chunk_limits("thai")
    with pytest.raises(ValueError, match="splitter"):
        split_text("hello", splitter="thai")


@pytest.mark.parametrize("text", [ZH, JP])
def test_full_width_sentence_ends_need_no_space(text):
    parts = text.replace("！", "。").replace("？", "。").split("。")[:3]
    sentences = [s + mark for s, mark in zip(parts, "。！？", strict=True)]
    assert cjk(text, 12) == sentences  # each alone: no two fit in 12 characters
    assert split_text(text, 12) != sentences  # the Latin splitter wants a space after 。 and cuts elsewhere


def test_korean_sentences_end_at_ascii_marks_before_a_space():
    assert cjk(KR, 16) == ["오늘 날씨가 좋네요.", "산책하러 갈까요!", "어떻게 생각해요?"]


def test_sentences_are_packed_up_to_the_limit():
    assert cjk(ZH, 100) == [ZH]  # under the limit: one chunk, as for Latin text
    assert cjk(ZH, 20) == ["今天天气很好。我们去公园散步吧！", "你觉得怎么样？"]  # 7 + 9 fit, 7 + 9 + 7 not


def test_ascii_marks_inside_chinese():
    text = "价格是3.14元，一共10,000件。他说好.然后Dr. Smith来了!再见"
    assert cjk(text, 14) == ["价格是3.14元，", "一共10,000件。他说好.", "然后Dr. Smith来了!", "再见"]


def test_corner_brackets_quote_and_closers_stay_with_their_sentence():
    text = "他说：「走吧。好吗？」然后走了。"
    assert cjk(text, 12) == ["他说：「走吧。好吗？」", "然后走了。"]  # 「。」 inside: a clause-level cut
    assert cjk("（第一句。）第二句。", 6) == ["（第一句。）", "第二句。"]


def test_clause_marks_are_second_choice():
    text = "我们今天去了很多地方，看了很多东西、吃了很多好吃的"
    assert cjk(text, 20) == ["我们今天去了很多地方，看了很多东西、", "吃了很多好吃的"]


def test_ten_thousand_characters_without_punctuation():
    text = ("我们今天去公园散步" * 1200)[:5000] + "internationalization" + ("天气很好" * 2000)[: 10_000 - 5020]
    max_chars, first_chars = chunk_limits("cjk")
    chunks = cjk(text, max_chars, first_chars)
    assert len(text) == 10_000 and "".join(chunks) == text
    assert len(chunks[0]) == 40 and all(len(c) <= 100 for c in chunks)
    assert sum("internationalization" in c for c in chunks) == 1  # an English word inside is never cut
    # No CJK character at all: the hard cut of the Latin rule.
    assert cjk("x" * 250, 100, 40) == ["x" * 40, "x" * 100, "x" * 100, "x" * 10]


def test_streams_first_chunk_is_the_first_sentence():
    sentences = [
        "今天下午我们去公园散步的时候遇到了老朋友。",
        "公园里有很多人在锻炼身体，还有人在跳舞！",
        "孩子们在草地上玩耍，老人们在下棋。",
    ]
    text = "".join(sentences * 3)
    chunks = cjk(text, *chunk_limits("cjk"))
    assert [len(s) for s in sentences] == [21, 20, 17] and len(text) == 174
    assert chunks[0] == sentences[0]  # the first two would be 41 characters
    assert chunks[1] == "".join(sentences[1:] + sentences)  # then packed to 100: 20 + 17 + 58
    japanese = "東京は日本の首都です。" + "人口はとても多いです。" * 12
    assert cjk(japanese, *chunk_limits("cjk"))[0] == "東京は日本の首都です。" + "人口はとても多いです。" * 2
    korean = "안녕하세요. " + "만나서 반갑습니다. " * 12
    assert cjk(korean, *chunk_limits("cjk"))[0] == "안녕하세요." + " 만나서 반갑습니다." * 3  # 6 + 3 * 11 = 39
    assert all(c.endswith((".", "。", "！")) for c in cjk(japanese + korean, *chunk_limits("cjk")))


def test_a_combining_mark_stays_with_its_letter():
    text = "中" * 39 + "e\u0301" + "文" * 80
    first = cjk(text, 100, 40)[0]
    assert first == "中" * 39  # the cut before "e" (no cut between e and its accent)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("中文字かなカナ한국어ab1 。！？，、.,!「」\n\u0301"), max_size=400),
    st.integers(1, 120),
    st.integers(1, 60),
)
def test_chunks_are_bounded_and_lose_no_letters_or_digits(text, max_chars, first_chars):
    chunks = cjk(text, max_chars, first_chars)
    assert all(0 < len(c) <= max_chars for c in chunks)
    assert all(c == " ".join(c.split()) for c in chunks)
    assert [c for c in "".join(chunks) if c.isalnum()] == [c for c in text if c.isalnum()]
