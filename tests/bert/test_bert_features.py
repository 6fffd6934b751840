from __future__ import annotations

import warnings

import pytest
import torch

from openvoice_tt.bert import BertFeatureExtractor
from openvoice_tt.errors import CheckpointError, TextError
from openvoice_tt.text import EnglishFrontEnd, normalize_text


@pytest.fixture(scope="module")
def extractor(minilm_dir):
    return BertFeatureExtractor.from_folder(minilm_dir)


def test_loads_only_the_layers_hidden_states_minus_3_needs(extractor):
    assert extractor.hidden_size == 384
    assert len(extractor.encoder.encoder.layer) == 4  # 6 layers; hidden_states[-3] is layer 4's output


def test_features_are_hidden_state_minus_3_repeated_by_word2ph(extractor, reference_model):
    text = "hello world, this is open voice."
    ids = extractor.tokenizer.encode(text)
    word2ph = [3, 2, 0, 1, 4, 2, 2, 5, 2, 1]
    assert len(ids) == len(word2ph)
    features = extractor(text, word2ph)
    assert features.shape == (384, sum(word2ph)) and features.dtype == torch.float32
    with torch.no_grad():
        reference = reference_model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[-3][0]
    expected = torch.cat([reference[i].expand(n, -1) for i, n in enumerate(word2ph)]).T
    assert (features - expected).abs().max() < 1e-5


def test_front_end_with_bert(extractor, symbols, reference_model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no no-BERT warning when features are real
        fe = EnglishFrontEnd(symbols, bert=extractor, ja_bert_dim=384)
    out = fe("Hello world, OpenVoice!")
    t = len(out.phones)
    assert out.ja_bert.shape == (384, t) and out.bert.shape == (1024, t) and not out.bert.any()
    ids = extractor.tokenizer.encode(out.normalized)
    with torch.no_grad():
        reference = reference_model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[-3][0]
    # the first 2*1+1 = 3 columns belong to [CLS] (its pad and the two blanks around it)
    assert out.word2ph[0] == 3
    position = 0
    for token, count in enumerate(out.word2ph):
        for column in range(position, position + count):
            assert (out.ja_bert[:, column] - reference[token]).abs().max() < 1e-5
        position += count
    assert position == t


def test_width_mismatch_is_a_checkpoint_error(extractor, symbols):
    with pytest.raises(CheckpointError, match="384-wide features but ja_bert takes 768"):
        EnglishFrontEnd(symbols, bert=extractor)


def test_mismatched_word2ph_and_too_long_text(extractor):
    with pytest.raises(ValueError, match="word2ph has 2 entries but the text has 4 BERT tokens"):
        extractor("hello world", [1, 1])
    text = normalize_text("word " * 600)
    word2ph = [1] * len(extractor.tokenizer.encode(text))
    with pytest.raises(TextError, match=r"too long for BERT \(602 tokens, at most 512\); split it first"):
        extractor(text, word2ph)


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="BERT folder not found"):
        BertFeatureExtractor.from_folder(tmp_path / "nope")
    assert BertFeatureExtractor.from_folder(tmp_path / "nope", missing_ok=True) is None
    with pytest.raises(CheckpointError):  # an existing but empty folder is an error even with missing_ok
        BertFeatureExtractor.from_folder(tmp_path, missing_ok=True)


def test_folder_without_vocab_uses_the_bundled_one(minilm_dir, tmp_path):
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).symlink_to(minilm_dir / name)
    extractor = BertFeatureExtractor.from_folder(tmp_path)
    assert extractor.tokenizer.vocab_path.name == "vocab.txt"
    assert extractor.tokenizer.vocab_path.parent.name == "data"
