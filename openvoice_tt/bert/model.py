"""A plain torch BERT encoder that loads Hugging Face BERT weights from a local folder.

MeloTTS takes English prosody features from `bert-base-uncased` (spec §4.6). transformers is a heavy
import with hub machinery we must not touch at run time, so this is the encoder alone (embeddings +
post-LayerNorm transformer layers, module names matching Hugging Face's so its state dicts load as is).
It can stop after the first `num_layers` layers: MeloTTS only uses `hidden_states[-3]`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from openvoice_tt.checkpoints import check_finite, read_state_dict
from openvoice_tt.errors import CheckpointError, ConfigError, shorten

_ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
}


@dataclass(frozen=True)
class BertConfig:
    """The `config.json` fields the encoder needs."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12

    @classmethod
    def from_json(cls, path: Path) -> BertConfig:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            config = cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})
        except (OSError, ValueError, TypeError) as e:
            raise ConfigError(f"{path}: not a readable BERT config ({e})") from e
        if config.hidden_act not in _ACTIVATIONS:
            raise ConfigError(f"{path}: hidden_act {config.hidden_act!r} is not one of {sorted(_ACTIVATIONS)}")
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise ConfigError(f"{path}: only absolute position embeddings are supported")
        if config.hidden_size % config.num_attention_heads:
            raise ConfigError(f"{path}: hidden_size is not a multiple of num_attention_heads")
        return config


class _Embeddings(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        return self.LayerNorm(x + self.token_type_embeddings.weight[0])  # token type 0 everywhere


class _SelfAttention(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.heads = c.num_attention_heads
        self.query, self.key, self.value = (nn.Linear(c.hidden_size, c.hidden_size) for _ in range(3))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (
            m(x).view(b, t, self.heads, d // self.heads).transpose(1, 2) for m in (self.query, self.key, self.value)
        )
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads) + bias
        return (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)


class _DenseNorm(nn.Module):
    """Projection, residual add, LayerNorm (Hugging Face's BertSelfOutput / BertOutput)."""

    def __init__(self, c: BertConfig, width_in: int) -> None:
        super().__init__()
        self.dense = nn.Linear(width_in, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _DenseNorm(c, c.hidden_size)


class _Intermediate(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)
        self.act = _ACTIVATIONS[c.hidden_act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _DenseNorm(c, c.intermediate_size)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.attention.output(self.attention.self(x, bias), x)
        return self.output(self.intermediate(x), x)


class _Stack(nn.Module):
    def __init__(self, c: BertConfig, num_layers: int) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(num_layers))


class BertEncoder(nn.Module):
    """BERT embeddings + the first `num_layers` transformer layers (all by default)."""

    def __init__(self, config: BertConfig, num_layers: int | None = None) -> None:
        super().__init__()
        n = config.num_hidden_layers if num_layers is None else num_layers
        if not 0 <= n <= config.num_hidden_layers:
            raise ValueError(f"num_layers must be in 0..{config.num_hidden_layers}, got {num_layers}")
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Stack(config, n)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Hidden states [B, T, hidden]: the embedding output, then each layer's output."""
        x = self.embeddings(input_ids)
        bias = torch.zeros((), dtype=x.dtype, device=x.device)
        if attention_mask is not None:  # padded keys get the most negative float, as Hugging Face
            bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        states = [x]
        for layer in self.encoder.layer:
            states.append(layer(states[-1], bias))
        return states

    @classmethod
    def from_pretrained(
        cls, folder: str | os.PathLike[str], num_layers: int | None = None, device: str | torch.device = "cpu"
    ) -> BertEncoder:
        """Load `config.json` + `model.safetensors` (or `pytorch_model.bin`) from a local folder."""
        folder = Path(folder)
        model = cls(BertConfig.from_json(folder / "config.json"), num_layers)
        wanted = model.state_dict()
        weights = _read_weights(folder, wanted.keys())
        missing = sorted(wanted.keys() - weights.keys())
        if missing:
            raise CheckpointError(f"{folder}: BERT weights lack {len(missing)} tensors, e.g. {missing[0]}")
        for key, tensor in weights.items():
            if tensor.shape != wanted[key].shape:
                raise CheckpointError(
                    f"{folder}: {key} has shape {tuple(tensor.shape)}, config implies {tuple(wanted[key].shape)}"
                )
        model.load_state_dict({k: v.float() for k, v in weights.items()})
        return model.to(device).eval()


def _read_weights(folder: Path, wanted) -> dict[str, torch.Tensor]:
    """The tensors named in `wanted`, found under Hugging Face's key variants (`bert.` prefix,
    old `gamma`/`beta` LayerNorm names); other tensors (MLM head, pooler, later layers) are skipped."""
    wanted = set(wanted)

    def ours(key: str) -> str:
        key = key.removeprefix("bert.")
        return key.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")

    safetensors_path, bin_path = folder / "model.safetensors", folder / "pytorch_model.bin"
    if safetensors_path.is_file():
        from safetensors import SafetensorError, safe_open

        try:  # only the reader's own failures mean a damaged file; any other exception is a bug here
            with safe_open(str(safetensors_path), framework="pt") as f:
                weights = {ours(k): f.get_tensor(k) for k in f.keys() if ours(k) in wanted}  # noqa: SIM118
        except (SafetensorError, OSError) as e:
            raise CheckpointError(f"{safetensors_path}: cannot read BERT weights ({shorten(str(e))})") from None
        check_finite(weights, str(safetensors_path))
        return weights
    if bin_path.is_file():
        return {ours(k): v for k, v in read_state_dict(bin_path).items() if ours(k) in wanted}
    raise CheckpointError(f"{folder}: no model.safetensors or pytorch_model.bin")
