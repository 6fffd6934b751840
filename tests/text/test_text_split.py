from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvoice_tt.text import split_text

PARA = (
    'Dr. Smith paid $10,000 for 3.14 kilos of apples. He said, "Stop. Now." Then he left! '
    "Was it worth it? I think so. J. K. Rowling lives in the U.S. and visits St. Andrews every year."
)


def test_text_under_the_limit_is_one_chunk():
    assert split_text(PARA) == [PARA]  # 182 characters < 256, like upstream's single pass


def test_whitespace_is_collapsed_and_content_is_kept_verbatim():
    assert split_text("  Hello,\n\n  world!\t10,000 and 3.14  ") == ["Hello, world! 10,000 and 3.14"]


@pytest.mark.parametrize(
    ("max_chars", "expected"),
    [
        (
            120,
            [
                'Dr. Smith paid $10,000 for 3.14 kilos of apples. He said, "Stop. Now." Then he left! '
                "Was it worth it? I think so.",
                "J. K. Rowling lives in the U.S. and visits St. Andrews every year.",
            ],
        ),
        (
            80,
            [
                'Dr. Smith paid $10,000 for 3.14 kilos of apples. He said, "Stop. Now."',
                "Then he left! Was it worth it? I think so.",
                "J. K. Rowling lives in the U.S. and visits St. Andrews every year.",
            ],
        ),
        (
            60,
            [
                "Dr. Smith paid $10,000 for 3.14 kilos of apples.",
                'He said, "Stop. Now." Then he left! Was it worth it?',
                "I think so.",
                # no sentence end fits in 60 characters: the last space before the limit is used
                "J. K. Rowling lives in the U.S. and visits St. Andrews every",
                "year.",
            ],
        ),
    ],
)
def test_sentences_are_packed_up_to_max_chars(max_chars, expected):
    assert split_text(PARA, max_chars) == expected


def test_numbers_are_never_split_points():
    text = "Exactly 10,000.5 units and 3.14159 more. " * 20
    for chunk in split_text(text, 100):
        assert chunk.endswith("more.")
    # ...but a number before a full stop still ends a sentence
    assert split_text("It cost $3.50. Then it cost 4.", 20) == ["It cost $3.50.", "Then it cost 4."]


@pytest.mark.parametrize("abbreviation", ["Dr.", "Mr.", "Mrs.", "St.", "J.", "U.S.", "e.g.", "vs."])
def test_abbreviations_and_initials_are_not_sentence_ends(abbreviation):
    text = f"One two three {abbreviation} Four five six. Seven eight nine."
    assert split_text(text, len(text) - 10) == [f"One two three {abbreviation} Four five six.", "Seven eight nine."]


def test_quotation_is_kept_whole_and_closing_quote_stays_with_its_sentence():
    text = 'She shouted: "Run. Hide. Now." Then nothing.'
    assert split_text(text, 35) == ['She shouted: "Run. Hide. Now."', "Then nothing."]
    curly = "She shouted: “Run. Hide. Now.” Then nothing."
    assert split_text(curly, 35) == ["She shouted: “Run. Hide. Now.”", "Then nothing."]


def test_clause_marks_and_line_breaks_are_second_choice():
    text = "a long clause without a stop, another clause here; and a third one"
    assert split_text(text, 40) == ["a long clause without a stop,", "another clause here; and a third one"]
    assert split_text("Title line\nBody of the text goes here", 26) == ["Title line", "Body of the text goes here"]


def test_cjk_sentence_ends_are_boundaries():
    assert split_text("第一句。 第二句！ third one.", 8) == ["第一句。", "第二句！", "third", "one."]


def test_a_run_without_spaces_is_cut_hard():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize("text", ["", "   \n\t ", "... !!! ??", "😀 😀", "— – -"])
def test_empty_and_unspeakable_chunks_are_dropped(text):
    assert split_text(text) == []


def test_punctuation_only_chunk_between_sentences_is_dropped():
    assert split_text("First sentence here. !!!!!!!!!!!! Last one.", 21) == ["First sentence here.", "Last one."]


def test_invalid_max_chars():
    with pytest.raises(ValueError, match="max_chars"):
        split_text("hello", 0)


def test_hundred_thousand_characters_split_quickly_into_bounded_chunks():
    text = ("This is a sentence of moderate length, with a comma. " * 2000)[:100_000]
    chunks = split_text(text)
    four_sentences = " ".join(["This is a sentence of moderate length, with a comma."] * 4)  # 211 characters
    assert len(chunks) == 472
    assert chunks[:-1] == [four_sentences] * 471


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=400), st.integers(1, 120))
def test_chunks_are_bounded_and_lose_no_letters_or_digits(text, max_chars):
    chunks = split_text(text, max_chars)
    assert all(0 < len(c) <= max_chars for c in chunks)
    assert all(c == " ".join(c.split()) for c in chunks)
    assert [c for c in "".join(chunks) if c.isalnum()] == [c for c in text if c.isalnum()]


# --- A short first chunk (time to first audio; pipeline.split_chunks passes first_chars=100) ---------------


def test_the_20_sentence_texts_first_chunk_is_its_first_sentence_and_the_rest_is_packed_as_before():
    from scripts.time_first_audio import text as twenty_sentences  # the README's "Time to first audio" text

    text = twenty_sentences(20)
    sentences = [s + "." for s in text.removesuffix(".").split(". ")]
    chunks = split_text(text, 256, first_chars=100)
    assert len(text) == 1352 and len(sentences) == 20 and len(chunks) == 8
    assert chunks[0] == sentences[0]  # 67 characters: two sentences would be 135
    assert chunks[1:] == split_text(" ".join(sentences[1:]), 256)  # the rest: the ordinary rule, unchanged
    assert all(c.endswith("as everyone agreed.") for c in chunks)  # every chunk ends at a sentence end
    assert [len(c) for c in chunks[1:-1]] == [201, 197, 202, 208, 197, 205]  # full chunks after the first
    assert " ".join(chunks) == text
    assert len(split_text(text, 256)) == 7  # without first_chars: the first chunk is a 198-character one


def test_a_first_sentence_longer_than_first_chars_is_cut_at_its_best_boundary_within_it():
    first = "The first sentence of this text runs on, and on, past the first-chunk limit without a full stop at all."
    text = first + " " + "Then come the ordinary sentences that fill the rest of the chunks. " * 5
    chunks = split_text(text, 256, first_chars=60)
    assert chunks[0] == "The first sentence of this text runs on, and on,"  # the last clause mark within 60
    assert chunks[1].startswith("past the first-chunk limit") and chunks[1].endswith("chunks.")
    assert split_text(first + " Short.", 256, first_chars=20) == [first + " Short."]  # under 256: one pass
    words = "word " * 60  # no boundary but spaces: the first chunk ends at the last space within the limit
    assert split_text(words, 256, first_chars=12) == ["word word", *split_text(words[10:], 256)]


def test_text_under_max_chars_is_one_chunk_whatever_first_chars():
    assert split_text(PARA, 256, first_chars=10) == [PARA]  # upstream's single pass: short-text parity
    assert split_text(PARA, 100, first_chars=500)[0] == split_text(PARA, 100)[0]  # never above max_chars


def test_invalid_first_chars():
    with pytest.raises(ValueError, match="first_chars"):
        split_text("hello", 10, first_chars=0)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab. ,!\n"), max_size=400), st.integers(20, 120), st.integers(1, 120))
def test_a_short_first_chunk_bounds_the_first_and_loses_nothing(text, max_chars, first_chars):
    chunks = split_text(text, max_chars, first_chars)
    collapsed = " ".join(text.split())
    assert all(0 < len(c) <= max_chars for c in chunks)
    assert [c for c in "".join(chunks) if c.isalnum()] == [c for c in text if c.isalnum()]
    if len(collapsed) > max_chars and collapsed[0].isalnum():  # the first piece is kept: it starts with a letter
        assert len(chunks[0]) <= first_chars
