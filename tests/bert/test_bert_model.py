from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from openvoice_tt.bert import BertConfig, BertEncoder, WordPieceTokenizer
from openvoice_tt.errors import CheckpointError, ConfigError

SENTENCES = ["Hello world, this is OpenVoice cloning tortellini.", "short one", "Zyxquist met Dr. Jones at 7:05."]


def _batch():
    tok = WordPieceTokenizer()
    ids = [tok.encode(s) for s in SENTENCES]
    width = max(map(len, ids))
    input_ids = torch.tensor([i + [0] * (width - len(i)) for i in ids])
    mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids])
    return input_ids, mask


def _max_diff(ours, reference, mask):
    keep = mask.bool()
    return max(float((a - b)[keep].abs().max()) for a, b in zip(ours, reference, strict=True))


@pytest.fixture(scope="module")
def encoder(minilm_dir):
    return BertEncoder.from_pretrained(minilm_dir)


def test_all_hidden_states_match_transformers(encoder, reference_model):
    input_ids, mask = _batch()
    with torch.no_grad():
        ours = encoder(input_ids, mask)
        reference = reference_model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True).hidden_states
    assert len(ours) == len(reference) == 7
    assert ours[0].shape == reference[0].shape == (3, input_ids.shape[1], 384)
    assert _max_diff(ours, reference, mask) < 1e-5


def test_without_mask_on_a_single_sequence(encoder, reference_model):
    ids = torch.tensor([WordPieceTokenizer().encode(SENTENCES[0])])
    with torch.no_grad():
        ours = encoder(ids)
        reference = reference_model(input_ids=ids, output_hidden_states=True).hidden_states
    assert _max_diff(ours, reference, torch.ones_like(ids)) < 1e-5


def test_pytorch_model_bin_with_old_key_names(minilm_dir, tmp_path, encoder):
    """bert-base-uncased's own pytorch_model.bin uses a `bert.` prefix and LayerNorm gamma/beta, and
    carries the MLM head; all of that must load."""
    state = load_file(minilm_dir / "model.safetensors")
    renamed = {
        "bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
        for k, v in state.items()
    }
    renamed["cls.predictions.bias"] = torch.zeros(30522)
    torch.save(renamed, tmp_path / "pytorch_model.bin")
    shutil.copy(minilm_dir / "config.json", tmp_path / "config.json")
    loaded = BertEncoder.from_pretrained(tmp_path)
    for name, tensor in encoder.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_truncated_stack_gives_the_first_states(minilm_dir, encoder):
    input_ids, mask = _batch()
    short = BertEncoder.from_pretrained(minilm_dir, num_layers=4)
    assert len(short.encoder.layer) == 4
    with torch.no_grad():
        assert _max_diff(short(input_ids, mask), encoder(input_ids, mask)[:5], mask) == 0.0


def test_missing_or_broken_files(minilm_dir, tmp_path):
    with pytest.raises(ConfigError, match="not a readable BERT config"):
        BertEncoder.from_pretrained(tmp_path)
    shutil.copy(minilm_dir / "config.json", tmp_path / "config.json")
    with pytest.raises(CheckpointError, match=r"no model\.safetensors or pytorch_model\.bin"):
        BertEncoder.from_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="cannot read BERT weights"):
        BertEncoder.from_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    torch.save({"embeddings.word_embeddings.weight": torch.zeros(30522, 384)}, tmp_path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match=r"BERT weights lack \d+ tensors"):
        BertEncoder.from_pretrained(tmp_path)


def test_config_validation(tmp_path):
    path = tmp_path / "config.json"
    base = {
        "vocab_size": 10,
        "hidden_size": 8,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 16,
    }
    path.write_text(json.dumps(base))
    assert BertConfig.from_json(path).layer_norm_eps == 1e-12
    path.write_text(json.dumps({**base, "hidden_act": "swish"}))
    with pytest.raises(ConfigError, match="hidden_act 'swish'"):
        BertConfig.from_json(path)
    path.write_text(json.dumps({**base, "position_embedding_type": "relative_key"}))
    with pytest.raises(ConfigError, match="absolute position embeddings"):
        BertConfig.from_json(path)
    path.write_text(json.dumps({k: v for k, v in base.items() if k != "hidden_size"}))
    with pytest.raises(ConfigError, match="not a readable BERT config"):
        BertConfig.from_json(path)


def test_a_programming_error_while_reading_is_not_called_a_damaged_file(minilm_dir, monkeypatch):
    """Only the readers' own failures mean a damaged checkpoint; a bug in this package keeps its traceback."""
    import safetensors

    def broken(*args, **kwargs):
        raise TypeError("a bug, not a damaged file")

    monkeypatch.setattr(safetensors, "safe_open", broken)
    with pytest.raises(TypeError, match="a bug, not a damaged file"):
        BertEncoder.from_pretrained(minilm_dir)


@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin"])
def test_nan_weight_is_refused_naming_the_tensor(minilm_dir, tmp_path, name):
    from safetensors.torch import save_file

    state = load_file(minilm_dir / "model.safetensors")
    state["encoder.layer.0.output.dense.weight"][3, 5] = float("nan")
    shutil.copy(minilm_dir / "config.json", tmp_path / "config.json")
    if name == "model.safetensors":
        save_file(state, tmp_path / name)
    else:
        torch.save(state, tmp_path / name)
    with pytest.raises(CheckpointError, match=rf"{name}: tensor encoder\.layer\.0\.output\.dense\.weight holds NaN"):
        BertEncoder.from_pretrained(tmp_path)
