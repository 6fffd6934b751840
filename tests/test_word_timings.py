"""Word timings (`openvoice_tt.word_timings`, collected by the pipeline's chunk loop): each word's samples are
exactly the frames the synthesizer gave its tokens, chunk offsets and pauses included, and a clone's are the
same instants at 22.05 kHz."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvoice_tt import api
from openvoice_tt.errors import ConfigError
from openvoice_tt.text import NoBertWarning
from openvoice_tt.word_timings import PhoneTiming, WordTiming, chunk_words

pytestmark = pytest.mark.usefixtures("tool_environment")


# ------------------------------------------------------------------------------------ the counting alone


def test_a_words_span_is_the_frames_of_its_tokens_exact_in_samples() -> None:
    # tokens: [_ PAD _] for [CLS], "hi" = 1 piece of 2 phones, "," = 1 piece of 1 phone, "there" = 2 pieces
    # of 1 phone each, [PAD _] for [SEP]; with add_blank each phone has a blank before it
    phones = ("_", "_", "_", "_", "h", "_", "ay", "_", ",", "_", "dh", "_", "eh", "_", "_")
    word2ph = (3, 4, 2, 2, 2, 2)
    durations = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    words = (("hi", 1), (",", 1), ("there", 2))
    hop, offset = 512, 1000
    timed = chunk_words(durations, word2ph, phones, words, "Hi, THERE!", hop, offset)

    def at(token: int) -> int:
        return offset + sum(durations[:token]) * hop

    assert timed == [
        WordTiming("Hi", "text", at(3), at(7), (PhoneTiming("h", at(4), at(5)), PhoneTiming("ay", at(6), at(7)))),
        WordTiming(
            "THERE", "text", at(9), at(13), (PhoneTiming("dh", at(10), at(11)), PhoneTiming("eh", at(12), at(13)))
        ),
    ]  # the comma's tokens 7-8 are a gap between the words


def test_a_word_not_in_the_text_is_the_normalized_word_and_the_text_is_searched_in_order() -> None:
    phones = ("_",) * 3 + ("a", "_") * 3 + ("_", "_")
    timed = chunk_words(
        [1] * len(phones), (3, 2, 2, 2, 2), phones, (("three", 1), ("cats", 1), ("three", 1)), "3 cats", 4
    )
    assert [(w.text, w.source) for w in timed] == [("three", "normalized"), ("cats", "text"), ("three", "normalized")]
    assert [(w.start, w.end) for w in timed] == [(12, 20), (20, 28), (28, 36)]


def test_a_front_end_without_words_times_the_chunk_as_one_word() -> None:
    phones = ("_", "_", "_", "n", "_", "i", "_", "_")
    timed = chunk_words([2] * 8, (3, 2, 2, 1), phones, (), " 你好 ", 10, 5)
    assert timed == [WordTiming("你好", "chunk", 65, 145, (PhoneTiming("n", 65, 85), PhoneTiming("i", 105, 125)))]


def test_inconsistent_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="durations"):
        chunk_words([1, 2], (3,), ("_", "_", "_"), (), "x", 1)
    with pytest.raises(ValueError, match="pieces"):
        chunk_words([1] * 5, (3, 2), ("_",) * 5, (("a", 1),), "a", 1)


def test_rescaled_and_json() -> None:
    word = WordTiming("Hi", "text", 1024, 2049, (PhoneTiming("h", 1024, 2049),))
    half = word.rescaled(44100, 22050)
    assert (half.start, half.end, half.phones[0].end) == (512, 1024, 1024)
    data = half.to_json(22050, phones=True)
    assert data["start"] == 512 / 22050 and data["end_sample"] == 1024 and data["phones"][0]["phone"] == "h"
    assert "phones" not in half.to_json(22050)


# ---------------------------------------------------------------------------------- through the pipeline


@pytest.fixture(scope="module")
def cloner(tiny_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory) -> api.VoiceCloner:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        return api.VoiceCloner(tiny_checkpoints, "cpu", cache_dir=tmp_path_factory.mktemp("se-cache"))


def recorded(monkeypatch: pytest.MonkeyPatch, tts: api.TTS) -> list[Any]:
    """The synthesizer's outputs, chunk by chunk, as the pipeline receives them."""
    outs: list[Any] = []
    synthesize = tts.synthesizer.synthesize

    def spy(*args: Any, **kwargs: Any) -> Any:
        outs.append(synthesize(*args, **kwargs))
        return outs[-1]

    monkeypatch.setattr(tts.synthesizer, "synthesize", spy)
    return outs


LONG = (
    "Hello there, world. "
    + "The quick brown fox jumps over the lazy dog while the farmer watches from the fence, "
    + "and every morning she walks along the river, counting the boats that drift toward the sea. " * 3
)


def expected_spans(tts: api.TTS, outs: list[Any], chunks: list[Any], silence: int) -> list[tuple[int, int]]:
    """Each timed word's samples recounted from the recorded durations: tokens grouped by word2ph and words."""
    spans, offset, hop = [], 0, tts.hop_length
    for out, chunk in zip(outs, chunks, strict=True):
        ends = np.concatenate([[0], np.cumsum(out.durations)]) * hop + offset
        token, inner = chunk.word2ph[0], chunk.word2ph[1:-1]
        piece = 0
        for text, count in chunk.words:
            width = sum(inner[piece : piece + count])
            piece += count
            if width and any(c.isalnum() for c in text):
                spans.append((int(ends[token]), int(ends[token + width])))
            token += width
        offset += out.samples + silence
    return spans


def test_synth_words_are_the_durations_frames_with_chunk_offsets_and_pauses(
    cloner: api.VoiceCloner, monkeypatch: pytest.MonkeyPatch
) -> None:
    tts = cloner.tts
    plain = tts.synth(LONG, seed=3)
    outs = recorded(monkeypatch, tts)
    speech = tts.synth(LONG, seed=3, words=True, speed=1.25)
    chunks = [tts.front_end(text) for text in speech.chunks]
    assert len(chunks) >= 2 and len(outs) == len(chunks)
    silence = tts.silence_samples(1.25)
    assert [(w.start, w.end) for w in speech.words] == expected_spans(tts, outs, chunks, silence)
    # the second chunk starts after the first chunk's audio and its pause
    first_of_second = next(w for w in speech.words if w.start >= outs[0].samples)
    assert first_of_second.start >= outs[0].samples + silence
    assert speech.words[-1].end <= len(speech.audio)
    assert [w.text for w in speech.words[:3]] == ["Hello", "there", "world"]
    assert {w.source for w in speech.words} == {"text"}
    assert all(p.start >= w.start and p.end <= w.end for w in speech.words for p in w.phones)
    assert plain.words == () and tts.synth(LONG, seed=3).audio.tobytes() == plain.audio.tobytes()


def test_words_do_not_change_the_audio(cloner: api.VoiceCloner) -> None:
    tts = cloner.tts
    np.testing.assert_array_equal(
        tts.synth("Number 3 here.", seed=5, words=True).audio, tts.synth("Number 3 here.", seed=5).audio
    )
    words = tts.synth("Number 3 here.", seed=5, words=True).words
    assert [(w.text, w.source) for w in words] == [("Number", "text"), ("three", "normalized"), ("here", "text")]


def test_a_clones_words_are_the_same_instants_at_its_rate(cloner: api.VoiceCloner, voice: Path) -> None:
    text = "Hello there, world. " + "The boats drift toward the sea, counting every morning. " * 4
    synth = cloner.tts.synth(text, speaker="EN-BR", seed=9, words=True)
    cloned = cloner.clone(text, reference=str(voice), speaker="EN-BR", seed=9, words=True)
    plain = cloner.clone(text, reference=str(voice), speaker="EN-BR", seed=9)
    np.testing.assert_array_equal(cloned.audio, plain.audio)
    ratio = synth.sample_rate // cloned.sample_rate
    assert ratio == 2
    assert [(w.text, w.start // 2, w.end // 2) for w in synth.words] == [(w.text, w.start, w.end) for w in cloned.words]
    # the converter keeps the take's length to the frame, so every word lies in the clone
    assert abs(len(cloned.audio) - len(synth.audio) / ratio) < cloned.hop_length
    assert cloned.words[-1].end <= len(cloned.audio)


def test_word_timings_are_refused_where_the_backend_keeps_durations_on_the_device(
    cloner: api.VoiceCloner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(type(cloner.tts), "backend", property(lambda self: "tt"))
    with pytest.raises(ConfigError, match="torch backend"):
        cloner.tts.synth("Hello.", words=True)
