"""Safe loading, weight-norm folding and key validation of official-format checkpoints."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations

from openvoice_tt.checkpoints import (
    MELO_TRAINING_ONLY_PREFIXES,
    fold_weight_norm,
    load_tone_color_embedding,
    read_state_dict,
    save_tone_color_embedding,
)
from openvoice_tt.errors import CheckpointError
from openvoice_tt.reference.converter import ToneColorConverterModel, load_converter_model
from openvoice_tt.reference.synthesizer import MeloSynthesizer, load_melo_synthesizer
from scripts.make_test_checkpoints import SIZES, converter_entries, melo_entries

from .conftest import DATA

OFFICIAL = {
    "melotts-english": ("melotts_english.json", melo_entries, 1051, 51_873_713),
    "converter": ("converter_v2.json", converter_entries, 486, 32_792_226),
}


# Official format -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(OFFICIAL))
def test_generated_keys_equal_the_official_key_list(model: str) -> None:
    fixture, entries, n_tensors, n_params = OFFICIAL[model]
    official = json.loads((DATA / "official_keys" / fixture).read_text())
    generated = {key: list(shape) for key, shape, _ in entries(SIZES["full"])}
    assert generated == official
    assert len(generated) == n_tensors
    assert sum(torch.Size(s).numel() for s in generated.values()) == n_params


def test_generated_files_use_the_official_wrapping(tiny_checkpoints: Path) -> None:
    raw = torch.load(tiny_checkpoints / "converter" / "checkpoint.pth", weights_only=True)
    assert set(raw) == {"model", "iteration"}
    assert any(k.endswith(".weight_g") for k in raw["model"])
    se = torch.load(tiny_checkpoints / "base_speakers" / "ses" / "en-us.pth", weights_only=True)
    assert isinstance(se, torch.Tensor) and se.shape == (1, 256, 1)


@pytest.mark.slow
def test_full_size_melo_checkpoint_is_consumed_except_documented_training_keys(full_checkpoints: Path) -> None:
    folder = full_checkpoints / "melotts-english"
    model = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    folded = fold_weight_norm(read_state_dict(folder / "checkpoint.pth"))
    model_keys = set(model.state_dict())
    ignored = {k for k in folded if k.startswith(MELO_TRAINING_ONLY_PREFIXES)}
    assert set(folded) == model_keys | ignored
    assert model_keys.isdisjoint(ignored)
    assert {k.split(".")[0] for k in ignored} == {"enc_q", "sdp"}
    assert any(k.startswith("sdp.flows.1.") for k in ignored)
    for key, value in model.state_dict().items():
        assert torch.equal(value, folded[key]), key


@pytest.mark.slow
def test_full_size_converter_checkpoint_is_entirely_consumed(full_checkpoints: Path) -> None:
    folder = full_checkpoints / "converter"
    model = load_converter_model(folder / "config.json", folder / "checkpoint.pth")
    folded = fold_weight_norm(read_state_dict(folder / "checkpoint.pth"))
    assert set(folded) == set(model.state_dict())


# Key mismatches name the key -------------------------------------------------------------------------


def _mutated_checkpoint(tiny: Path, tmp_path: Path, mutate) -> Path:
    folder = tmp_path / "converter"
    shutil.copytree(tiny / "converter", folder)
    raw = torch.load(folder / "checkpoint.pth", weights_only=True)
    mutate(raw["model"])
    torch.save(raw, folder / "checkpoint.pth")
    return folder


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda sd: sd.pop("dec.conv_pre.bias"), "missing dec.conv_pre.bias"),
        (lambda sd: sd.pop("flow.flows.2.enc.in_layers.1.weight_g"), "flow.flows.2.enc.in_layers.1.weight_g"),
        (lambda sd: sd.__setitem__("dec.extra.weight", torch.zeros(3)), "unexpected dec.extra.weight"),
        (
            lambda sd: sd.__setitem__("ref_enc.proj.bias", torch.zeros(255)),
            "wrong shape ref_enc.proj.bias (file [255], model [256])",
        ),
    ],
    ids=["removed", "removed-weight-norm-half", "extra", "wrong-shape"],
)
def test_mismatched_checkpoint_fails_naming_the_key(tiny_checkpoints, tmp_path, mutate, expected) -> None:
    folder = _mutated_checkpoint(tiny_checkpoints, tmp_path, mutate)
    with pytest.raises(CheckpointError) as info:
        load_converter_model(folder / "config.json", folder / "checkpoint.pth")
    message = str(info.value)
    assert expected in message
    assert "\n" not in message and str(folder / "checkpoint.pth") in message


def test_melo_training_only_keys_are_optional(tiny_checkpoints: Path, tmp_path: Path) -> None:
    folder = tmp_path / "melo"
    shutil.copytree(tiny_checkpoints / "melotts-english", folder)
    raw = torch.load(folder / "checkpoint.pth", weights_only=True)
    raw["model"] = {k: v for k, v in raw["model"].items() if not k.startswith(MELO_TRAINING_ONLY_PREFIXES)}
    torch.save(raw["model"], folder / "checkpoint.pth")  # also: a bare state dict is accepted
    model = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
    assert isinstance(model, MeloSynthesizer)


# Weight-norm folding ---------------------------------------------------------------------------------


LAYERS = {
    "conv1d": (lambda: nn.Conv1d(6, 4, 5), (1, 6, 20)),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(6, 4, 8, stride=4, padding=2), (1, 6, 20)),
    "conv2d": (lambda: nn.Conv2d(3, 5, 3), (1, 3, 9, 9)),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("style", ["weight_g/weight_v", "parametrizations"])
def test_folded_weight_equals_torch_weight_norm(kind: str, style: str) -> None:
    torch.manual_seed(0)
    make, input_shape = LAYERS[kind]
    layer = make()
    with torch.no_grad():
        if style == "weight_g/weight_v":
            layer = torch.nn.utils.weight_norm(layer)
            layer.weight_g.mul_(torch.rand_like(layer.weight_g) + 0.5)
        else:
            layer = parametrizations.weight_norm(layer)
            layer.parametrizations.weight.original0.mul_(1.7)
        x = torch.randn(input_shape)
        expected = layer(x)  # the old style recomputes `weight` from g and v in a forward pre-hook
    folded = fold_weight_norm({f"layer.{k}": v.detach() for k, v in layer.state_dict().items()})
    assert set(folded) == {"layer.weight", "layer.bias"}
    torch.testing.assert_close(folded["layer.weight"], layer.weight.detach(), rtol=1e-6, atol=1e-7)
    plain = make()
    plain.load_state_dict({"weight": folded["layer.weight"], "bias": folded["layer.bias"]})
    with torch.no_grad():
        torch.testing.assert_close(plain(x), expected, rtol=1e-5, atol=1e-6)


def test_conv_transpose_g_is_per_input_channel() -> None:
    layer = torch.nn.utils.weight_norm(nn.ConvTranspose1d(6, 4, 8))
    assert layer.weight_g.shape == (6, 1, 1)  # dim 0 of a transposed conv weight is the input channel
    g = torch.linspace(0.5, 2.0, 6).reshape(6, 1, 1)
    folded = fold_weight_norm({"up.weight_g": g, "up.weight_v": layer.weight_v.detach()})["up.weight"]
    torch.testing.assert_close(folded.pow(2).sum(dim=(1, 2)).sqrt(), g.flatten())


# Bad files: one line naming the file and the problem ---------------------------------------------------


class _Exploit:
    """A pickle payload that would create a file when unpickled with weights_only=False."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


class _Shell:
    """A pickle payload that calls os.system (harmless "true") when unpickled with weights_only=False."""

    def __reduce__(self):
        return (os.system, ("true",))


@pytest.mark.parametrize(
    ("payload", "named"),
    [(_Exploit, "getattr"), (lambda marker: _Shell(), "posix.system")],
    ids=["not-allowed-global", "blocked-module"],  # torch 2.14's two wordings of the refusal
)
def test_code_carrying_pickle_is_refused_and_never_executed(tmp_path: Path, payload, named: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"model": {"w": torch.zeros(1)}, "payload": payload(marker)}, path)
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    assert not marker.exists()
    assert str(info.value) == (
        f"{path}: refused to load: unsafe pickle: it references Python code ({named}) that would run "
        "when unpickled; not a weights-only checkpoint"
    )


def test_plain_pickle_the_safe_unpickler_rejects_is_refused_not_called_unreadable(tmp_path: Path) -> None:
    """A protocol-4 pickle.dump of the same payload: torch's weights-only unpickler stops at an opcode it does
    not support ("Weights only load failed ... Unsupported operand"); that is a refusal, not a corrupt file."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(_Exploit(marker), protocol=4))
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    assert not marker.exists()
    assert str(info.value) == f"{path}: refused to load: not a weights-only checkpoint (the safe unpickler rejected it)"


def test_nan_or_inf_weight_is_refused_naming_the_tensor(tiny_checkpoints: Path, tmp_path: Path) -> None:
    def poison(sd: dict) -> None:
        sd["dec.conv_post.weight"][0, 0, 1] = float("nan")

    folder = _mutated_checkpoint(tiny_checkpoints, tmp_path, poison)
    with pytest.raises(CheckpointError) as info:
        load_converter_model(folder / "config.json", folder / "checkpoint.pth")
    assert str(info.value) == (
        f"{folder / 'checkpoint.pth'}: tensor dec.conv_post.weight holds NaN values (the file is damaged)"
    )
    sd = torch.load(folder / "checkpoint.pth", weights_only=True)
    sd["model"]["dec.conv_post.weight"] = torch.zeros_like(sd["model"]["dec.conv_post.weight"])
    sd["model"]["flow.flows.0.enc.in_layers.0.weight_v"][0, 0, 0] = float("-inf")
    torch.save(sd, folder / "checkpoint.pth")
    with pytest.raises(CheckpointError, match=r"tensor flow\.flows\.0\.enc\.in_layers\.0\.weight_v holds infinite"):
        load_converter_model(folder / "config.json", folder / "checkpoint.pth")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found"),
        (b"", "not a PyTorch checkpoint"),
        (b"this is plain text, not a checkpoint\n" * 10, "not a PyTorch checkpoint"),
        ("directory", "is a directory"),
    ],
    ids=["missing", "empty", "text", "directory"],
)
def test_unreadable_checkpoint_gives_one_clear_line(tmp_path: Path, content, expected: str) -> None:
    path = tmp_path / "checkpoint.pth"
    if content == "directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    assert str(path) in str(info.value) and expected in str(info.value)
    assert "\n" not in str(info.value)


def test_checkpoint_without_tensors_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pth"
    torch.save({"model": {"w": [1, 2, 3]}}, path)
    with pytest.raises(CheckpointError, match="non-tensor entries: w"):
        read_state_dict(path)


# Tone-color embeddings ---------------------------------------------------------------------------------


def test_tone_color_embedding_round_trip(tmp_path: Path) -> None:
    se = torch.randn(1, 256, 1)
    save_tone_color_embedding(se, tmp_path / "voice.pth")
    assert torch.equal(load_tone_color_embedding(tmp_path / "voice.pth"), se)
    assert list(tmp_path.iterdir()) == [tmp_path / "voice.pth"]  # no temp file left behind


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"se": torch.zeros(1, 256, 1)}, "expected a tensor, found dict"),
        (torch.zeros(1, 128, 1), "found [1, 128, 1] float32"),
        (torch.full((1, 256, 1), float("nan")), "NaN"),
    ],
)
def test_bad_tone_color_embedding(tmp_path: Path, obj, expected: str) -> None:
    path = tmp_path / "se.pth"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_tone_color_embedding(path)


def test_models_build_from_configs_without_files() -> None:
    """The reference models expose exactly the official (folded) key set for their configs."""
    from openvoice_tt.config import ConverterConfig
    from scripts.make_test_checkpoints import converter_config

    model = ToneColorConverterModel(ConverterConfig.from_dict(converter_config(SIZES["full"])))
    official = json.loads((DATA / "official_keys" / "converter_v2.json").read_text())
    folded_names = {
        k.removesuffix("_g").removesuffix("_v") if k.endswith(("weight_g", "weight_v")) else k for k in official
    }
    assert set(model.state_dict()) == folded_names
