"""The prosody BERT on ttnn (`tt/bert.py`) against the host BERT, for each language's real BERT-base config.

Random weights (the host `BertEncoder`'s init, seeded), the layers MeloTTS reads (10 of 12:
hidden_states[-3]), 24 tokens padded to the 64-token bucket, word2ph of 1 to 4 phones per token. The
reference is the host BERT's last hidden state repeated by word2ph, as `bert.features` computes it.

The gates are the measured ratchet (twice each deficit, over all six vocabularies; `tests/compare.py`,
so a NaN or constant output fails): on the faithful emulation 1 - PCC <= 1.41e-5 and max abs <= 0.038
were measured, on the exact emulation 3.7e-6 and 0.013 (what is left there is storage: the bfloat16 word
table, ttnn.embedding's only type, and the encoder's bfloat16 weights).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import weakref
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from openvoice_tt.tt import host_ttnn
from openvoice_tt.tt.bert import BertFeatures, phone_token_index
from openvoice_tt.tt.device import open_emulated_device
from openvoice_tt.tt.settings import TraceSettings, TtBuckets
from scripts.tt_bert_check import VOCAB_SIZES, random_bert, random_text
from tests.compare import WAVEFORM_FLOOR, Gate, assert_agrees
from tests.languages import hello

from .mock import ARCHES, REPO, requires_ttnn, run_json

GATES = {"faithful": Gate(0.99997, 0.08), "exact": Gate(0.999992, 0.03)}
TOKENS, SEED = 24, 1
# the tiny checkpoints' waveform with a 1-layer random BERT-base on the device vs. fed its host features
# (exact emulation): PCC 0.9999062, max abs error 0.0254 measured; gate at twice the deficit and error
E2E_GATE = Gate(0.99981, 0.051, WAVEFORM_FLOOR)


@pytest.mark.parametrize("language", list(VOCAB_SIZES))
def test_bert_features_match_the_host_bert_on_both_emulations(language: str) -> None:
    vocab = VOCAB_SIZES[language]
    ref = random_bert(vocab, seed=SEED)
    ids, word2ph = random_text(vocab, TOKENS, SEED)
    with torch.inference_mode():
        expected = ref(torch.tensor([ids]))[-1][0].repeat_interleave(torch.tensor(word2ph), dim=0)
    phones = sum(word2ph)
    for mode, gate in GATES.items():
        device = open_emulated_device(mode)
        features = BertFeatures(device, ref, "bert")
        out = device.download(features(*features.upload(ids, word2ph, TtBuckets().tokens(phones))), "ja_bert")
        assert out.shape == (1, 1, TtBuckets().tokens(phones), 768)
        assert_agrees(expected, out[0, 0, :phones], gate, f"{language} BERT on the {mode} emulation")
        assert torch.equal(out[0, 0, phones:], torch.zeros_like(out[0, 0, phones:]))  # padded phones: zero rows


def _one_language_per_bert():
    from openvoice_tt.languages import LANGUAGES

    return list({language.model.bert.folder: language for language in LANGUAGES}.values())


@pytest.mark.parametrize("language", _one_language_per_bert(), ids=lambda language: language.code)
def test_each_bert_folder_of_make_test_checkpoints_loads_and_runs_on_the_emulation(language, tmp_path: Path) -> None:
    """`make_test_checkpoints.py --bert` (tiny): the language's BERT folder (its real vocabulary size, hidden 768,
    its vocabulary files) loads through `BertFeatureExtractor.from_folder`, its front end gives finite
    [768, T] features for a sentence of the language, and the tt BERT computes the same features from it on
    the exact emulation."""
    from openvoice_tt.bert.features import BertFeatureExtractor
    from openvoice_tt.bert.model import BertConfig
    from scripts.make_test_checkpoints import BERT_FILES, MELO_SYMBOLS, write_all

    if language.missing_packages():
        pytest.skip(f"{language.name}'s front end needs {', '.join(language.missing_packages())}")
    root = write_all(tmp_path, "tiny", seed=0, languages=(language,), bert=True)
    folder = root / language.model.bert.folder
    config = BertConfig.from_json(folder / "config.json")
    assert (config.vocab_size, config.hidden_size) == (BERT_FILES[folder.name].vocab_size, 768)
    assert (config.num_attention_heads, config.num_hidden_layers) == (12, 3)
    extractor = BertFeatureExtractor.from_folder(folder)
    assert extractor is not None and len(extractor.tokenizer) == config.vocab_size
    front_end = language.make_front_end(MELO_SYMBOLS, add_blank=True, bert=extractor)
    inputs = front_end(hello(language.code))
    phones = len(inputs.phones)
    features = inputs.ja_bert
    assert features.shape == (768, phones) and torch.isfinite(features).all() and features.abs().sum() > 0
    ids = extractor.token_ids(inputs.normalized, inputs.word2ph)
    assert extractor.tokenizer.unk_id not in ids  # the sentence's words are in the vocabulary
    device = open_emulated_device("exact")
    tt = BertFeatures(device, extractor.encoder, "bert")
    padded = TtBuckets().tokens(phones)
    out = device.download(tt(*tt.upload(ids, inputs.word2ph, padded)), "ja_bert")
    assert_agrees(features.T, out[0, 0, :phones], GATES["exact"], f"{language.code} BERT on the exact emulation")


def test_padded_keys_change_nothing_and_a_call_uploads_only_its_inputs() -> None:
    """The same tokens in a 64- and a 128-token bucket give the same features (padded keys get weight 0);
    a second call in a bucket uploads its three inputs (ids, valid count, phone index) and nothing else."""
    ref = random_bert(VOCAB_SIZES["EN"], layers=2, seed=0)
    ids, word2ph = random_text(VOCAB_SIZES["EN"], 10, 0)
    device = open_emulated_device("exact")
    outputs = []
    for multiple in (64, 128):
        features = BertFeatures(device, ref, "bert", buckets=TtBuckets(token_multiple=multiple))
        outputs.append(device.download(features(*features.upload(ids, word2ph, 64)), "ja_bert"))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)
    device.transfers.reset()
    features(*features.upload(ids[::-1], word2ph[::-1], 64))
    assert device.transfers.summary() == {"uploads": 3, "downloads": 0, "scalar_reads": 0, "constants": 0, "weights": 0}


def test_phone_token_index_repeats_each_token_word2ph_times() -> None:
    index = phone_token_index([1, 3, 2], 8).reshape(-1).tolist()
    assert index == [0, 1, 1, 1, 2, 2, -1, -1]
    with pytest.raises(ValueError, match="more than the 4 padded"):
        phone_token_index([2, 3], 4)


def test_emulated_embedding_refuses_what_ttnn_refuses() -> None:
    """ttnn 0.81.1 (TT_FATAL on the mock N150): ids must be uint32 (or bfloat16), the table bfloat16."""
    device = host_ttnn.open_device()
    table = host_ttnn.from_torch(torch.randn(50, 64), dtype=host_ttnn.bfloat16)
    ids = torch.tensor([[3, 7, 49]], dtype=torch.int32)
    with pytest.raises(RuntimeError, match="UINT32 or BFLOAT16"):
        host_ttnn.embedding(host_ttnn.from_torch(ids, dtype=host_ttnn.int32, device=device), table)
    with pytest.raises(RuntimeError, match="BFLOAT16 dtype"):
        host_ttnn.embedding(
            host_ttnn.from_torch(ids, dtype=host_ttnn.uint32, device=device),
            host_ttnn.from_torch(torch.randn(50, 64), dtype=host_ttnn.float32),
        )
    out = host_ttnn.embedding(host_ttnn.from_torch(ids, dtype=host_ttnn.uint32, device=device), table)
    assert out.dtype is host_ttnn.bfloat16 and torch.equal(out.value, table.value[ids.long()])


@requires_ttnn
def test_emulated_embedding_matches_ttnns_golden_function(monkeypatch: pytest.MonkeyPatch) -> None:
    from openvoice_tt.tt.device import MOCK_ENV, mock_descriptor

    monkeypatch.setenv(MOCK_ENV, str(mock_descriptor("wormhole_n150")))  # (restored afterwards) no chip lookup
    import ttnn

    torch.manual_seed(0)
    table = torch.randn(1000, 96).to(torch.bfloat16)
    ids = torch.randint(0, 1000, (1, 64), dtype=torch.int32)
    golden = ttnn.get_golden_function(ttnn.embedding)(ids, table, dtype=ttnn.float32)
    emulated = host_ttnn.embedding(
        host_ttnn.from_torch(ids, dtype=host_ttnn.uint32),
        host_ttnn.from_torch(table.float(), dtype=host_ttnn.bfloat16),
        dtype=host_ttnn.float32,
    )
    assert torch.equal(emulated.value, golden.float())


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("language", ["EN", "ZH"])  # the smallest and the largest word table
def test_mock_device_runs_the_bert_graph_of_the_emulation(arch: str, language: str) -> None:
    """Every op accepted by the mock device (shapes, layouts, memory), in the emulation's order and shapes,
    with the same transfers and compute configs."""

    def run(device: str) -> dict:
        command = [sys.executable, str(REPO / "scripts" / "tt_bert_check.py"), "--device", device]
        return run_json([*command, "--vocab", str(VOCAB_SIZES[language])], 600)

    mock, emulated = run(f"mock:{arch}"), run("emulation")
    for key in ("ops", "compute_configs", "transfers", "padded_tokens"):
        assert mock[key] == emulated[key], key
    assert mock["transfers"]["uploads"] == 3


@pytest.mark.usefixtures("fresh_tt_device", "tool_environment")
def test_tts_on_the_device_runs_its_bert_there(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--device tt` with a BERT folder: per chunk the BERT token ids, valid count and phone index go up
    instead of the features, the BERT runs on the device (stage "bert"), the host BERT never runs in the
    pipeline, and the waveform matches the same synthesis fed the host BERT's features."""
    from openvoice_tt import api
    from openvoice_tt.bert.features import BertFeatureExtractor
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.synthesizer import SynthesisParams
    from tests.test_api import _with_tiny_bert

    folder = _with_tiny_bert(tiny_checkpoints, tmp_path)
    monkeypatch.setenv("OPENVOICE_TT_DEVICE", "emulation:exact")
    tts = api.TTS(folder, "tt")
    assert tts.bert_on_device and tts.synthesizer.computes_bert
    model, text = tts.synthesizer.model, "With prosody features, on the device."
    host_bert = BertFeatureExtractor.from_folder(folder / "bert-base-uncased")  # TTS's released its encoder
    inputs = tts.front_end(text, defer_bert=True)
    inputs = replace(inputs, features=host_bert(inputs.normalized, inputs.word2ph))  # for the comparison
    model.device.transfers.reset()
    on_device, frames = model.synthesize(inputs, 0, SynthesisParams(), NoiseSource(3))
    uploads = set(model.device.transfers.uploads)
    bert, model.bert = model.bert, None  # the same model fed the host features
    host, host_frames = model.synthesize(inputs, 0, SynthesisParams(), NoiseSource(3))
    model.bert = bert
    assert {"bert_ids", "valid_bert_tokens", "phone_bert_tokens"} <= uploads and "ja_bert" not in uploads
    assert frames == host_frames
    assert_agrees(host, on_device, E2E_GATE, "waveform with the BERT on the device vs. host features")

    def host_bert(*args: object) -> None:
        raise AssertionError("the host BERT ran")

    monkeypatch.setattr(BertFeatureExtractor, "__call__", host_bert)
    speech = tts.synth(text, seed=3)
    assert speech.timings["synth"]["bert"] > 0 and torch.isfinite(torch.as_tensor(speech.audio)).all()


@pytest.mark.usefixtures("fresh_tt_device", "tool_environment")
def test_with_the_bert_on_the_device_the_host_keeps_no_bert_weights(
    tiny_checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once `use_bert` has prepared the device's weights, TTS releases the host encoder: the extractor keeps
    its tokenizer only, the encoder it loaded is freed (nothing on the tt path holds it), a call for host
    features is a RuntimeError, and synthesis and streaming still run end to end on the exact emulation."""
    from openvoice_tt import api
    from openvoice_tt.bert.model import BertEncoder
    from tests.test_api import _with_tiny_bert

    loaded: list[weakref.ref] = []
    from_pretrained = BertEncoder.from_pretrained.__func__

    def tracked(cls: type, *args: object, **kwargs: object) -> BertEncoder:
        encoder = from_pretrained(cls, *args, **kwargs)
        loaded.append(weakref.ref(encoder))
        return encoder

    monkeypatch.setattr(BertEncoder, "from_pretrained", classmethod(tracked))
    folder = _with_tiny_bert(tiny_checkpoints, tmp_path)
    monkeypatch.setenv("OPENVOICE_TT_DEVICE", "emulation:exact")
    tts = api.TTS(folder, "tt")
    assert tts.bert_on_device and tts.has_bert
    extractor = tts._bert
    assert extractor is not None and extractor.encoder is None
    assert not [name for name, value in vars(extractor).items() if isinstance(value, torch.nn.Module | torch.Tensor)]
    gc.collect()
    assert len(loaded) == 1 and loaded[0]() is None  # the host encoder and its weights are gone
    assert extractor.token_ids("hello there", [1, 2, 2, 1]) == extractor.tokenizer.encode("hello there")
    with pytest.raises(RuntimeError, match="internal error: host BERT features"):
        extractor("hello there", [1, 2, 2, 1])
    with pytest.raises(RuntimeError, match="encoder was released"):
        tts.synthesizer.model.use_bert(extractor)
    speech = tts.synth("Still speaking, with the BERT on the device.", seed=3)
    assert speech.timings["synth"]["bert"] > 0 and torch.isfinite(torch.as_tensor(speech.audio)).all()
    streamed = list(tts.stream("Streamed too. Two chunks.", seed=3))
    assert streamed and all(torch.isfinite(torch.as_tensor(piece)).all() for piece in streamed)


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.parametrize("arch", ARCHES)
def test_mock_device_accepts_a_clone_with_the_bert_on_the_device(
    arch: str, tiny_checkpoints: Path, tmp_path: Path
) -> None:
    """`openvoice-tt placement` (a clone and an extraction) with a BERT folder on a mock device: every op of
    the wired path accepted, the BERT's stage on the device, its token ids uploaded instead of features."""
    from tests.test_api import _with_tiny_bert

    folder = _with_tiny_bert(tiny_checkpoints, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TT_METAL_MOCK")}  # as run_json
    env |= {"OPENVOICE_TT_DEVICE": f"mock:{arch}", "OPENVOICE_TT_CACHE": str(tmp_path / "weights")}
    env |= {"PYTHONPATH": str(REPO), "TT_METAL_LOGGER_LEVEL": "ERROR", "LOGURU_LEVEL": "ERROR"}
    command = [sys.executable, "-m", "openvoice_tt", "placement", "The quick brown fox.", "-c", str(folder), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    start = done.stdout.index("\n{\n") + 1 if not done.stdout.startswith("{") else 0  # after any ttnn log line
    report, _ = json.JSONDecoder().raw_decode(done.stdout[start:])  # (log lines may follow the report)
    rows = {row["stage"]: row for row in report["rows"]}
    assert rows["bert"]["runs_on"] == "device" and rows["bert"]["ttnn_ops"] > 0
    uploads = report["transfers"]["uploads"]
    assert "bert_ids" in uploads and "ja_bert" not in uploads


def test_a_traced_bert_replays_what_an_eager_run_gives_at_other_lengths_of_its_bucket() -> None:
    """The BERT's forward is traceable: captured and replayed (the emulation's op-list trace, which refuses
    host transfers inside), it gives bit for bit what an eager run gives, for new ids, valid counts and
    phone indices in the same slots (4 to 20 tokens in the 64-token bucket)."""
    ref = random_bert(VOCAB_SIZES["EN"], layers=2, seed=0)
    runs = {}
    for traced in (True, False):
        device = open_emulated_device("exact", TraceSettings(enabled=traced))
        features = BertFeatures(device, ref, "bert")
        outputs = []
        for tokens in (10, 20, 4, 13):
            ids, word2ph = random_text(VOCAB_SIZES["EN"], tokens, tokens)
            *inputs, padded = features.upload(ids, word2ph, 64)
            out = device.traces.run("bert", (padded, 64), inputs, lambda *t, f=features, p=padded: f(*t, p))
            outputs.append(device.download(out, "ja_bert"))
        runs[traced] = (outputs, device.traces.replays)
    assert runs[True][1] >= 2 and runs[False][1] == 0
    for traced_out, eager_out in zip(runs[True][0], runs[False][0], strict=True):
        assert torch.equal(traced_out, eager_out)
