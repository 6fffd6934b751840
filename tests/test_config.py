"""config.json parsing: every field typed and validated, errors name the field."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from openvoice_tt.config import ConverterConfig, MeloConfig
from openvoice_tt.errors import ConfigError
from scripts.make_test_checkpoints import SIZES, converter_config, melo_config

REPO = Path(__file__).resolve().parents[1]


def test_full_melo_config_fields() -> None:
    config = MeloConfig.from_dict(melo_config(SIZES["full"]))
    assert config.n_vocab == 219
    assert config.num_tones == 16 and config.num_languages == 8
    assert config.data.sampling_rate == 44100 and config.data.hop_length == 512
    assert config.data.spec_channels == 1025 and config.data.add_blank
    assert dict(config.speakers) == {"EN-US": 0, "EN-BR": 1, "EN_INDIA": 2, "EN-AU": 3, "EN-Default": 4}
    assert config.model.n_layers == 6 and config.model.n_layers_trans_flow == 3
    assert config.generator.upsample_rates == (8, 8, 2, 2, 2)
    assert config.generator.upsample_factor == 512
    assert config.generator.stage_channels(4) == 16
    assert config.model.use_transformer_flow and not config.data.disable_bert


def test_full_converter_config_fields() -> None:
    config = ConverterConfig.from_dict(converter_config(SIZES["full"]))
    assert config.version == "v2" and config.model.zero_g
    assert config.data.spec_channels == 513 and config.data.sampling_rate == 22050
    assert config.generator.upsample_kernel_sizes == (16, 16, 4, 4)
    assert config.generator.resblock_dilation_sizes == ((1, 3, 5),) * 3


def _without(obj: dict, path: str) -> dict:
    obj = copy.deepcopy(obj)
    *parents, leaf = path.split(".")
    node = obj
    for p in parents:
        node = node[p]
    del node[leaf]
    return obj


@pytest.mark.parametrize(
    "path",
    [
        "data",
        "data.sampling_rate",
        "data.spk2id",
        "model.hidden_channels",
        "model.upsample_rates",
        "symbols",
        "num_tones",
    ],
)
def test_missing_melo_field_is_named(path: str) -> None:
    with pytest.raises(ConfigError, match=f"config.json: missing field '{path}'"):
        MeloConfig.from_dict(_without(melo_config(SIZES["tiny"]), path))


@pytest.mark.parametrize("path", ["data.hop_length", "model.gin_channels", "model.resblock_kernel_sizes"])
def test_missing_converter_field_is_named(path: str) -> None:
    with pytest.raises(ConfigError, match=f"missing field '{path}'"):
        ConverterConfig.from_dict(_without(converter_config(SIZES["tiny"]), path))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("data.hop_length", "512", "field 'data.hop_length' must be an integer"),
        ("data.add_blank", 1, "field 'data.add_blank' must be true or false"),
        ("model.upsample_rates", [4, 8, 2, 2, 2], "field 'model.upsample_rates' must multiply to data.hop_length=512"),
        ("model.upsample_kernel_sizes", [16, 16, 8, 2, 3], "field 'model.upsample_kernel_sizes[4]'"),
        ("model.resblock", "2", "field 'model.resblock' must be \"1\""),
        ("model.resblock_dilation_sizes", [[1, 3, 5], [1, "x", 5], [1, 3, 5]], "'model.resblock_dilation_sizes[1][1]'"),
        ("model.n_heads", 5, "field 'model.n_heads' must divide hidden_channels"),
        ("data.spk2id", {"EN-US": 300}, "field 'data.spk2id.EN-US' must be in [0, n_speakers=8)"),
        ("model.use_transformer_flow", False, "field 'model.use_transformer_flow' must be true"),
        ("symbols", ["a", "b"], "field 'symbols' must start with the pad/blank symbol '_'"),
    ],
)
def test_bad_melo_field_is_named(path: str, value, message: str) -> None:
    obj = melo_config(SIZES["tiny"])
    *parents, leaf = path.split(".")
    node = obj
    for p in parents:
        node = node[p]
    node[leaf] = value
    with pytest.raises(ConfigError) as info:
        MeloConfig.from_dict(obj)
    assert message in str(info.value)


def test_converter_rejects_a_tts_config() -> None:
    obj = converter_config(SIZES["tiny"])
    obj["data"]["n_speakers"] = 256
    with pytest.raises(ConfigError, match="is this a TTS config"):
        ConverterConfig.from_dict(obj)


def test_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        MeloConfig.from_file(tmp_path / "config.json")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        MeloConfig.from_file(tmp_path / "config.json")
    (tmp_path / "config.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ConfigError, match="expected a JSON object"):
        ConverterConfig.from_file(tmp_path / "config.json")


def _tables(n_vocab=219, tones=16, languages=8, speakers=8) -> dict[str, torch.Tensor]:
    return {
        "enc_p.emb.weight": torch.zeros(n_vocab, 4),
        "enc_p.tone_emb.weight": torch.zeros(tones, 4),
        "enc_p.language_emb.weight": torch.zeros(languages, 4),
        "emb_g.weight": torch.zeros(speakers, 4),
    }


@pytest.mark.parametrize(
    ("tables", "field"),
    [
        (_tables(n_vocab=218), "symbols"),
        (_tables(tones=17), "num_tones"),
        (_tables(languages=10), "num_languages"),
        (_tables(speakers=256), "data.n_speakers"),
    ],
)
def test_table_sizes_are_cross_checked_with_the_checkpoint(tables, field: str) -> None:
    config = MeloConfig.from_dict(melo_config(SIZES["tiny"]))
    with pytest.raises(ConfigError, match=f"field '{field}' gives .* do not belong together"):
        config.with_table_sizes(tables)


def test_num_languages_is_read_from_the_checkpoint_when_absent() -> None:
    obj = melo_config(SIZES["tiny"])
    del obj["num_languages"]
    config = MeloConfig.from_dict(obj)
    assert config.num_languages is None
    assert config.with_table_sizes(_tables(languages=10)).languages == 10


def test_config_is_a_low_layer_that_names_no_ttnn_setting_or_chunking_policy() -> None:
    # tt/settings.py and chunking.py sit above config; importing config must stay cheap (CLI --help).
    code = (
        "import sys, openvoice_tt.config as c; "
        "print(sorted(m for m in sys.modules if m in ('torch', 'numpy') or m.startswith(('openvoice_tt.tt', "
        "'openvoice_tt.chunking')))); "
        "print([n for n in ('MathConfig', 'BlockPrecision', 'MeloPrecision', 'ConverterPrecision', 'TtBuckets', "
        "'TraceSettings', 'ConversionChunking', 'StreamChunking') if hasattr(c, n)])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.split("\n")[:2] == ["[]", "[]"]
