"""The Python API (`openvoice_tt.api`) on tiny generated checkpoints and espeak-ng speech: what the CLI
tests cannot see from outside (progress per chunk, warnings, the embedding cache, composition)."""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from openvoice_tt import api
from openvoice_tt import audio as audio_io
from openvoice_tt.api.device import stage_timer
from openvoice_tt.audio import ShortReferenceWarning, resample
from openvoice_tt.errors import AudioError, InputError, TextError
from openvoice_tt.noise import NoiseSource
from openvoice_tt.text import NoBertWarning
from scripts.make_test_checkpoints import write_all
from tests.speech import make_speech

pytestmark = pytest.mark.usefixtures("tool_environment")

SENTENCES = [
    "The quick brown fox jumps over the lazy dog while the farmer watches from the fence.",
    "Every morning she walks along the river, counting the boats that drift toward the sea.",
]


@pytest.fixture(scope="module")
def cloner(tiny_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory) -> api.VoiceCloner:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBertWarning)
        return api.VoiceCloner(tiny_checkpoints, "cpu", cache_dir=tmp_path_factory.mktemp("se-cache"))


@pytest.fixture(scope="module")
def other_voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_speech(tmp_path_factory.mktemp("other") / "other.wav", SENTENCES[1], voice="en-us+f3")


# ------------------------------------------------------------------------------------------------ synth


def test_synth_progress_is_reported_per_chunk(cloner: api.VoiceCloner) -> None:
    text = " ".join(f"Sentence {n} of a passage long enough to need several chunks." for n in range(12))
    calls: list[tuple[int, int]] = []
    speech = cloner.tts.synth(text, progress=lambda done, total: calls.append((done, total)))
    n = len(speech.chunks)
    assert n >= 3 and calls == [(i, n) for i in range(n + 1)]
    assert len(speech.audio) == speech.frames * speech.hop_length + n * cloner.tts.silence_samples(1.0)
    assert " ".join(speech.chunks).replace(" ", "") == text.replace(" ", "")


def test_synth_is_deterministic_per_seed(cloner: api.VoiceCloner) -> None:
    a, b, c = (cloner.tts.synth("Seeds make it repeatable.", seed=s) for s in (11, 11, 12))
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.array_equal(a.audio, c.audio)
    assert a.sample_rate == 44_100 and a.audio.dtype == np.float32 and a.seed == 11


def test_one_tts_serves_two_threads_with_their_own_timings(cloner: api.VoiceCloner) -> None:
    """No state shared between calls: each call times into its own timer and draws its own noise."""
    from concurrent.futures import ThreadPoolExecutor

    requests = [("The first thread speaks.", 31), ("The second thread speaks as well.", 32)]
    alone = [cloner.tts.synth(text, seed=seed) for text, seed in requests]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda request: cloner.tts.synth(request[0], seed=request[1]), requests))
    for one, other in zip(alone, together, strict=True):
        np.testing.assert_array_equal(one.audio, other.audio)
        assert set(other.timings["synth"]) == set(one.timings["synth"]) and other.timings["synth"]["vocoder"] > 0


def test_unspeakable_chunk_is_skipped_with_a_warning(cloner: api.VoiceCloner) -> None:
    english = "This part of the text is perfectly ordinary English and can be spoken aloud."
    thai = " ".join(["ภาษาไทย"] * 30) + "."  # letters, but no English phones: a chunk of its own
    with pytest.warns(UserWarning, match="skipped part of the text: text has nothing to speak"):
        speech = cloner.tts.synth(f"{english} {thai}")
    assert speech.chunks == (english,)
    with pytest.raises(TextError, match="nothing to speak"):
        cloner.tts.synth(thai)


@pytest.mark.parametrize(
    ("given", "expected"), [(None, "EN-US"), ("en-india", "EN_INDIA"), ("EN_default", "EN-Default")]
)
def test_speaker_names(cloner: api.VoiceCloner, given: str | None, expected: str) -> None:
    assert cloner.tts.speaker(given) == expected


def test_unknown_speaker(cloner: api.VoiceCloner) -> None:
    with pytest.raises(InputError, match=r"unknown speaker 'Bob' \(choose from EN-US, EN-BR, EN_INDIA"):
        cloner.tts.synth("Hello.", speaker="Bob")


def test_no_bert_notice_is_one_warning_naming_the_folder(tiny_checkpoints: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tts = api.TTS(tiny_checkpoints, "cpu")
    assert [str(w.message) for w in caught] == [
        f"no BERT model in {tiny_checkpoints / 'bert-base-uncased'}; using zero BERT features (flatter prosody). "
        "Run 'openvoice-tt download' to get it."
    ]
    assert caught[0].category is NoBertWarning and not tts.has_bert


def _with_tiny_bert(tiny_checkpoints: Path, tmp_path: Path) -> Path:
    """A copy of the tiny checkpoints with a 3-layer random bert-base-uncased folder."""
    from safetensors.torch import save_file

    from openvoice_tt.bert.model import BertConfig, BertEncoder

    folder = tmp_path / "checkpoints"
    shutil.copytree(tiny_checkpoints, folder)
    bert = folder / "bert-base-uncased"
    bert.mkdir()
    config = {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 3, "num_attention_heads": 12}
    config |= {"intermediate_size": 64, "hidden_act": "gelu", "max_position_embeddings": 512}
    (bert / "config.json").write_text(json.dumps(config))
    torch.manual_seed(0)
    encoder = BertEncoder(BertConfig(**config))
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(bert / "model.safetensors"))
    return folder


def test_bert_folder_is_used_and_timed(tiny_checkpoints: Path, tmp_path: Path) -> None:
    folder = _with_tiny_bert(tiny_checkpoints, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoBertWarning)
        tts = api.TTS(folder, "cpu")
    speech = tts.synth("With prosody features.")
    assert tts.has_bert and speech.timings["synth"]["bert"] > 0


def _held_bytes(prepared) -> int:
    """Bytes of the distinct tensor storages the prepared chunks hold."""
    storages = {}
    for _, inputs in prepared:
        for value in vars(inputs).values():
            if isinstance(value, torch.Tensor):
                storages[value.untyped_storage().data_ptr()] = value.untyped_storage().nbytes()
    return sum(storages.values())


LONG_TEXT = " ".join(f"Sentence number {i} is spoken in turn, and then the next one." for i in range(330))


@pytest.mark.parametrize("with_bert", [False, True], ids=["no-bert", "bert"])
def test_prepared_long_text_holds_no_per_token_float_features(
    tiny_checkpoints: Path, tmp_path: Path, with_bert: bool
) -> None:
    """Issue 23: a long text's prepared chunks hold their ids, not ~7 KB of BERT-shaped floats per token
    (zero `bert`/no-BERT `ja_bert` are one-column views; real BERT features come when a chunk is spoken)."""
    folder = _with_tiny_bert(tiny_checkpoints, tmp_path) if with_bert else tiny_checkpoints
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tts = api.TTS(folder, "cpu")
    assert tts.has_bert is with_bert and len(LONG_TEXT) >= 20_000
    prepared = tts.prepare(LONG_TEXT)
    tokens = sum(len(inputs.phone_ids) for _, inputs in prepared)
    ids_bytes = 3 * 8 * tokens  # phone, tone and language ids, int64
    per_chunk = 4 * (1024 + 768)  # at most one zero column of each feature
    assert _held_bytes(prepared) <= ids_bytes + per_chunk * len(prepared)
    # what a chunk is given when spoken is what the front end computes at once
    timer = stage_timer("cpu")
    for text, inputs in prepared[:2]:
        spoken = inputs.with_features(timer)
        assert not spoken.deferred and torch.equal(spoken.ja_bert, tts.front_end(text).ja_bert)
    assert (timer.seconds.get("bert", 0.0) > 0) is with_bert


# -------------------------------------------------------------------------------------- tone color


def test_extract_se_is_cached_by_content_and_order_free(
    tiny_checkpoints: Path, tmp_path: Path, voice: Path, other_voice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    converter = api.ToneColorConverter(tiny_checkpoints, "cpu", cache_dir=tmp_path / "cache")
    first = converter.extract_se([voice, other_voice])
    copy = tmp_path / "renamed.wav"
    shutil.copy(voice, copy)

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("cache miss")

    monkeypatch.setattr(converter.converter, "tone_color", must_not_run)
    torch.testing.assert_close(converter.extract_se([other_voice, copy]), first, rtol=0, atol=0)
    monkeypatch.undo()
    assert len(list((tmp_path / "cache").glob("*.pth"))) == 1
    torch.testing.assert_close(converter.extract_se([other_voice, voice], use_cache=False), first, rtol=0, atol=0)
    single = converter.extract_se([voice], method="energy")
    assert not torch.equal(single, first) and len(list((tmp_path / "cache").glob("*.pth"))) == 2


def test_energy_fallback_is_never_cached_as_silero(
    tiny_checkpoints: Path, tmp_path: Path, voice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reproduction: with silero failing to load, the energy detector's embedding was cached under the
    silero key and served later as the silero embedding. The cache is keyed by the detector that ran."""
    converter = api.ToneColorConverter(tiny_checkpoints, "cpu", cache_dir=tmp_path / "cache")
    silero = converter.extract_se([voice], use_cache=False)
    energy = converter.extract_se([voice], method="energy", use_cache=False)
    assert not torch.equal(silero, energy)
    audio_io.SILERO.reset()  # forget the loaded model...
    monkeypatch.setitem(sys.modules, "silero_vad", None)  # ...and make loading it fail
    with pytest.warns(UserWarning, match="silero-vad unavailable"):
        torch.testing.assert_close(converter.extract_se([voice]), energy, rtol=0, atol=0)
    monkeypatch.undo()  # silero works again (a failed load is not remembered): its own embedding, not the energy one
    torch.testing.assert_close(converter.extract_se([voice]), silero, rtol=0, atol=0)
    assert len(list((tmp_path / "cache").glob("*.pth"))) == 2


def test_cache_key_follows_the_converter_checkpoint(tiny_checkpoints: Path, tmp_path: Path, voice: Path) -> None:
    other = write_all(tmp_path / "other-weights", "tiny", seed=1)
    for folder in (tiny_checkpoints, other):
        api.ToneColorConverter(folder, "cpu", cache_dir=tmp_path / "cache").extract_se([voice])
    assert len(list((tmp_path / "cache").glob("*.pth"))) == 2


def test_damaged_or_unwritable_cache_only_warns(tiny_checkpoints: Path, tmp_path: Path, voice: Path) -> None:
    cache = tmp_path / "cache"
    converter = api.ToneColorConverter(tiny_checkpoints, "cpu", cache_dir=cache)
    expected = converter.extract_se([voice])
    (entry,) = cache.glob("*.pth")
    entry.write_bytes(b"junk")
    with pytest.warns(UserWarning, match="ignoring a damaged cached voice embedding"):
        torch.testing.assert_close(converter.extract_se([voice]), expected, rtol=0, atol=0)
    blocked = api.ToneColorConverter(tiny_checkpoints, "cpu", cache_dir=entry / "not-a-folder")
    with pytest.warns(UserWarning, match="could not cache the voice embedding"):
        torch.testing.assert_close(blocked.extract_se([voice]), expected, rtol=0, atol=0)


def test_short_reference_warning_passes_through(cloner: api.VoiceCloner, tmp_path: Path) -> None:
    short = make_speech(tmp_path / "short.wav", "A rather short reference.")
    with pytest.warns(ShortReferenceWarning, match="short.wav: only"):
        cloner.converter.extract_se([short], use_cache=False)


def test_convert_accepts_arrays_at_any_rate_and_refuses_slivers(cloner: api.VoiceCloner, voice: Path) -> None:
    converter = cloner.converter
    target = converter.extract_se([voice])
    source = converter.base_speaker_se("EN-US")
    speech = cloner.tts.synth("Convert me.", seed=1)
    out = converter.convert(speech.audio, source, target, sample_rate=speech.sample_rate, seed=2)
    assert out.sample_rate == 22_050 and len(out.audio) == out.frames * 256
    assert out.frames == (len(speech.audio) + 1) // 2 // 256
    with pytest.raises(AudioError, match="too short to convert"):
        converter.convert(np.zeros(500, np.float32), source, target)


def test_every_api_mistake_is_an_openvoice_error(cloner: api.VoiceCloner, voice: Path) -> None:
    """Reproductions: sample_rate=-5 gave ValueError, a [1, 128, 1] embedding a torch RuntimeError, a stereo
    array "too short (2 samples)", extract_se("me.wav") iterated over the path's characters."""
    converter = cloner.converter
    se = converter.base_speaker_se("EN-US")
    audio = np.zeros(22_050, np.float32)
    with pytest.raises(AudioError, match="audio: sample_rate must be a positive whole number of Hz, got -5"):
        converter.convert(audio, se, se, sample_rate=-5)
    half = torch.zeros(1, 128, 1)
    expected = r"target_se: not a tone-color embedding \(expected \[1, 256, 1\] floats, found \[1, 128, 1\] float32\)"
    with pytest.raises(InputError, match=expected):
        converter.convert(audio, se, half)
    with pytest.raises(InputError, match=r"^se: not a tone-color embedding"):
        cloner.clone("Hi.", se=half)
    with pytest.raises(AudioError, match=r"expected mono audio \(a 1-D array\), got shape \[22050, 2\]"):
        converter.convert(np.zeros((22_050, 2), np.float32), se, se)
    with pytest.raises(AudioError, match="contains NaN or infinite samples"):
        converter.convert(np.full(22_050, np.nan, np.float32), se, se)
    torch.testing.assert_close(converter.extract_se(str(voice)), converter.extract_se([voice]), rtol=0, atol=0)
    with pytest.raises(InputError, match="references must be a path or a list of paths, got int"):
        converter.extract_se(42)
    with pytest.raises(TextError, match="text must be a string, got int"):
        cloner.tts.synth(42)
    with pytest.raises(InputError, match="speaker must be a name"):
        cloner.tts.synth("Hi.", speaker=3)


# ------------------------------------------------------------------------------------------------ clone


def test_clone_is_synth_then_resample_then_convert_with_one_noise_stream(cloner: api.VoiceCloner, voice) -> None:
    """The cloner is exactly the V2 demo flow: one seeded noise source drawn by MeloTTS, then the converter."""
    text, seed = "One noise stream per utterance.", 21
    cloned = cloner.clone(text, reference=str(voice), speaker="EN-BR", seed=seed)
    tts, converter = cloner.tts, cloner.converter
    noise = NoiseSource(seed)
    timer = stage_timer("cpu")
    take, _ = tts.render(tts.prepare(text), "EN-BR", api.synthesis_params(), 1.0, noise, timer)
    at_22k = resample(take, tts.sample_rate, converter.sample_rate)
    expected = converter.render(
        at_22k, converter.base_speaker_se("EN-BR"), converter.extract_se([voice]), 0.3, noise, timer
    )
    np.testing.assert_array_equal(cloned.audio, expected)
    assert cloned.seed == seed and cloned.chunks == (text,)


def test_clone_needs_exactly_one_voice(cloner: api.VoiceCloner, voice: Path) -> None:
    with pytest.raises(InputError, match=r"^give reference audio or a voice embedding \(se\)$"):
        cloner.clone("Hello.")
    with pytest.raises(InputError, match="either reference audio or a voice embedding"):
        cloner.clone("Hello.", reference=[voice], se=torch.zeros(1, 256, 1))


def test_speech_save(cloner: api.VoiceCloner, tmp_path: Path) -> None:
    import soundfile as sf

    speech = cloner.tts.synth("Saved.")
    speech.save(tmp_path / "saved.flac")
    info = sf.info(tmp_path / "saved.flac")
    assert info.samplerate == speech.sample_rate and info.frames == len(speech.audio) and info.format == "FLAC"
