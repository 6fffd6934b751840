"""Word timings (`openvoice_tt.word_timings`, collected by the pipeline's chunk loop): each word's samples are
exactly the frames the synthesizer gave its tokens, chunk offsets and pauses included, and a clone's are the
same instants at 22.05 kHz."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvoice_tt import api
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


@pytest.mark.usefixtures("ttnn_installed", "fresh_tt_device")
def test_the_ttnn_emulation_gives_the_same_words_on_the_same_durations(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ttnn path downloads the durations only when words are asked for, and its words are torch's: the
    exact emulation reproduces the reference's durations (tests/tt/test_synthesizer.py)."""
    from openvoice_tt import backends

    monkeypatch.setenv(backends.TT_DEVICE_ENV, "emulation:exact")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    text = "Hello there, world. It is 3 cats."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        torch_words = api.TTS(tiny_checkpoints, "cpu").synth(text, seed=2, words=True).words
        tt = api.TTS(tiny_checkpoints, "tt")
    assert tt.backend == "tt"
    device = backends.tt_device()
    device.transfers.reset()
    plain = tt.synth(text, seed=2)
    assert plain.words == () and "durations" not in device.transfers.downloads
    device.transfers.reset()
    timed = tt.synth(text, seed=2, words=True)
    assert device.transfers.downloads.count("durations") == len(timed.chunks)
    np.testing.assert_array_equal(timed.audio, plain.audio)
    assert [(w.text, w.source, w.start, w.end) for w in timed.words] == [
        (w.text, w.source, w.start, w.end) for w in torch_words
    ]
    assert [w.phones for w in timed.words] == [w.phones for w in torch_words]


@pytest.mark.usefixtures("ttnn_installed", "fresh_tt_device")
def test_durations_that_do_not_add_up_to_the_decoded_frames_are_a_device_error(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words are timed from the downloaded durations; should they ever not add up to the frames the device
    decoded (a device fault), the call fails naming both, rather than shifting every word after it."""
    from openvoice_tt import backends
    from openvoice_tt.errors import DeviceError
    from openvoice_tt.tt.synthesizer import MeloSynthesizer

    monkeypatch.setenv(backends.TT_DEVICE_ENV, "emulation:exact")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        tt = api.TTS(tiny_checkpoints, "tt")
    counted = MeloSynthesizer.chunk_frames
    monkeypatch.setattr(MeloSynthesizer, "chunk_frames", lambda self, chunk: counted(self, chunk) + 1)
    assert len(tt.synth("Hello there.", seed=2).audio) > 0  # without words nothing reads the durations
    with pytest.raises(DeviceError) as refused:
        tt.synth("Hello there.", seed=2, words=True)
    found = re.fullmatch(
        r"the chunk's durations add up to (\d+) frames, not the (\d+) the device decoded", str(refused.value)
    )
    assert found is not None and int(found[2]) == int(found[1]) + 1, refused.value


# ------------------------------------------------------------------------------------------ --timestamps


def cli(*args: object) -> Any:
    from typer.testing import CliRunner

    from openvoice_tt.cli.app import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_synth_timestamps_json_srt_and_vtt(tiny_checkpoints: Path, tmp_path: Path) -> None:
    import json

    import srt
    import webvtt

    text, common = "Hello there, world. It is 3 cats.", ("--checkpoints", tiny_checkpoints, "--device", "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        speech = api.TTS(tiny_checkpoints, "cpu").synth(text, seed=4, words=True)
    spans = [(w.text, w.start, w.end) for w in speech.words]
    for ext in ("json", "srt", "vtt"):
        out = tmp_path / f"t.{ext}"
        result = cli("synth", text, "-o", tmp_path / "a.wav", "--seed", 4, "--timestamps", out, *common, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["timestamps"] == str(out)
        if ext == "json":
            data = json.loads(out.read_text())
            assert data["sample_rate"] == 44100
            assert [(w["text"], w["start_sample"], w["end_sample"]) for w in data["words"]] == spans
            assert data["words"][0]["start"] == spans[0][1] / 44100 and data["words"][0]["phones"]
        elif ext == "srt":
            subs = list(srt.parse(out.read_text()))
            assert [s.content for s in subs] == [t for t, _, _ in spans]
            assert all(
                abs(s.start.total_seconds() - a / 44100) <= 0.0005 for s, (_, a, _) in zip(subs, spans, strict=True)
            )
        else:
            cues = list(webvtt.from_string(out.read_text()))
            assert [c.text for c in cues] == [t for t, _, _ in spans]
            assert all(abs(seconds_of(c.end) - b / 44100) <= 0.0005 for c, (_, _, b) in zip(cues, spans, strict=True))
    streamed = tmp_path / "s.json"
    result = cli("synth", text, "-o", tmp_path / "s.wav", "--seed", 4, "--stream", "--timestamps", streamed, *common)
    assert result.exit_code == 0, result.output
    assert [(w["text"], w["start_sample"]) for w in json.loads(streamed.read_text())["words"]] == [s[:2] for s in spans]
    assert "phones" not in json.loads(streamed.read_text())["words"][0]


def test_clone_timestamps_are_at_the_clones_rate(tiny_checkpoints: Path, tmp_path: Path, voice: Path) -> None:
    import json

    out = tmp_path / "c.json"
    args = ("clone", "Hello there, world.", "-r", voice, "-o", tmp_path / "c.wav", "--timestamps", out)
    result = cli(*args, "--checkpoints", tiny_checkpoints, "--device", "cpu")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["sample_rate"] == 22050 and [w["text"] for w in data["words"]] == ["Hello", "there", "world"]
    streamed = tmp_path / "s.json"  # clone --stream: the same words, each told as its chunk is synthesized
    args = ("clone", "Hello there, world.", "-r", voice, "-o", tmp_path / "s.wav", "--stream", "--timestamps", streamed)
    result = cli(*args, "--checkpoints", tiny_checkpoints, "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert json.loads(streamed.read_text()) == data


def seconds_of(clock: str) -> float:
    """A WebVTT cue's `HH:MM:SS.mmm` as webvtt-py parsed it (its `end_in_seconds` is whole seconds)."""
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.mark.parametrize("name", ["t.txt", "t", "-"])
def test_an_unknown_timestamps_format_is_a_usage_error_before_any_model(tmp_path: Path, name: str) -> None:
    destination = name if name == "-" else tmp_path / name
    result = cli("synth", "Hi.", "-o", tmp_path / "a.wav", "--timestamps", destination, "--checkpoints", tmp_path)
    assert result.exit_code == 2 and ".json, .srt, .vtt" in result.output
    assert not (tmp_path / "a.wav").exists()


def test_timestamps_over_the_audio_are_a_usage_error(tmp_path: Path) -> None:
    result = cli("synth", "Hi.", "-o", tmp_path / "a.json", "-f", "wav", "--timestamps", tmp_path / "a.json")
    assert result.exit_code == 2 and "also the audio output" in result.output


@pytest.mark.usefixtures("ttnn_installed", "fresh_tt_device")
def test_a_clones_words_on_the_ttnn_emulation_are_the_torch_clones(
    cloner: api.VoiceCloner, tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ttnn clone (its take joined, decimated and converted on the device) downloads each chunk's
    durations only when words are asked for, nothing else more, and its words are the torch clone's to the
    sample (the exact emulation reproduces torch's durations); `clone --timestamps` on `--device tt` too."""
    import json

    from openvoice_tt import backends

    monkeypatch.setenv(backends.TT_DEVICE_ENV, "emulation:exact")
    monkeypatch.setenv(backends.TT_CACHE_ENV, str(tmp_path / "tt-weights"))
    se = tiny_checkpoints / "base_speakers" / "ses" / "en-br.pth"
    torch_words = cloner.clone(LONG, se=se, seed=2, words=True).words
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        tt = api.VoiceCloner(tiny_checkpoints, "tt", cache_dir=tmp_path / "se-cache")
    assert tt.tts.backend == "tt"
    transfers = backends.tt_device().transfers
    transfers.reset()
    plain = tt.clone(LONG, se=se, seed=2)
    plain_downloads = list(transfers.downloads)
    assert plain.words == () and "durations" not in plain_downloads
    transfers.reset()
    timed = tt.clone(LONG, se=se, seed=2, words=True)
    assert transfers.downloads.count("durations") == len(timed.chunks) >= 2
    assert [name for name in transfers.downloads if name != "durations"] == plain_downloads
    np.testing.assert_array_equal(timed.audio, plain.audio)
    assert timed.words == torch_words and len(timed.words) > 40
    out = tmp_path / "tt.json"
    args = ("clone", "Hello there, world.", "--se", se, "-o", tmp_path / "tt.wav", "--timestamps", out, "--seed", 5)
    result = cli(*args, "--device", "tt", "--checkpoints", tiny_checkpoints)
    assert result.exit_code == 0, result.output
    expected = cloner.clone("Hello there, world.", se=se, seed=5, words=True).words
    assert json.loads(out.read_text())["words"] == [w.to_json(22050) for w in expected]


@pytest.mark.parametrize(
    ("module", "cls", "lang", "text", "expected"),
    [
        ("spanish", "SpanishFrontEnd", "es", "¿Dónde está la estación?", ["Dónde", "está", "la", "estación"]),
        ("french", "FrenchFrontEnd", "fr", "C'est l'école, Marie.", ["C'est", "l'école", "Marie"]),
    ],
)
def test_spanish_and_french_words_are_their_pieces_words(module, cls, lang, text, expected) -> None:
    import importlib

    from tests.text.latin_helpers import front_end, run

    inputs = run(front_end(getattr(importlib.import_module(f"openvoice_tt.text.{module}"), cls), lang), text)
    assert sum(count for _, count in inputs.words) == len(inputs.word2ph) - 2
    durations = list(range(1, len(inputs.phones) + 1))
    timed = chunk_words(durations, inputs.word2ph, inputs.phones, inputs.words, text, 512)
    assert [w.text for w in timed] == expected and {w.source for w in timed} == {"text"}
    ends, token, piece, spans = np.cumsum([0, *durations]) * 512, inputs.word2ph[0], 1, []
    for word, count in inputs.words:  # recounted: a word is the tokens of its pieces
        width = sum(inputs.word2ph[piece : piece + count])
        if any(c.isalnum() for c in word):
            spans.append((ends[token], ends[token + width]))
        token, piece = token + width, piece + count
    assert [(w.start, w.end) for w in timed] == spans


def test_a_word_split_at_an_apostrophe_or_hyphen_is_one_word(cloner: api.VoiceCloner) -> None:
    from openvoice_tt.bert.tokenizer import WordPieceTokenizer
    from openvoice_tt.text.frontend import piece_words

    text = "i don't know, well-known - 'quoted' rock'n'roll."
    words = piece_words(WordPieceTokenizer().pieces(text), text)
    assert [w for w, _ in words if any(c.isalnum() for c in w)] == [
        "i",
        "don't",
        "know",
        "well-known",
        "quoted",
        "rock'n'roll",
    ]
    timed = cloner.tts.synth("I don't know, it's well-known.", seed=1, words=True).words
    assert [(w.text, w.source) for w in timed] == [(w, "text") for w in ("I", "don't", "know", "it's", "well-known")]


def test_stream_words_yields_each_chunks_words_with_its_audio(cloner: api.VoiceCloner) -> None:
    tts = cloner.tts
    whole = tts.synth(LONG, seed=6, words=True)
    pairs = list(tts.stream_words(LONG, seed=6))
    assert len(pairs) == len(whole.chunks) >= 2
    np.testing.assert_array_equal(np.concatenate([audio for audio, _ in pairs]), whole.audio)
    assert [w for _, words in pairs for w in words] == list(whole.words)
    offset = 0
    for audio, words in pairs:
        assert all(offset <= w.start < w.end <= offset + len(audio) for w in words)
        offset += len(audio)


def test_a_streamed_clones_words_are_the_clones(cloner: api.VoiceCloner, voice: Path) -> None:
    text = "Hello there, world. " + "The boats drift toward the sea, counting every morning. " * 4
    whole = cloner.clone(text, reference=str(voice), seed=8, words=True)
    words: list[WordTiming] = [WordTiming("kept", "text", 0, 1)]  # a caller's list is appended to
    pieces = list(cloner.stream(text, reference=str(voice), seed=8, words=words))
    assert words[1:] == list(whole.words) and len(whole.words) > 10
    assert words[-1].end <= sum(len(piece) for piece in pieces)
