"""Phone-level BERT features for MeloTTS's `ja_bert` input (spec §4.6).

MeloTTS runs bert-base-uncased on the normalized chunk, takes `hidden_states[-3]` (the output of
layer 10 of 12, so the last two layers are never loaded here) and repeats each token's vector
`word2ph[i]` times, giving [768, T] aligned with the phone sequence.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from openvoice_tt.bert.model import BertConfig, BertEncoder
from openvoice_tt.bert.tokenizer import TOKENIZER_CONFIG, WordPieceTokenizer
from openvoice_tt.bert.tokenizer_config import load_tokenizer
from openvoice_tt.errors import CheckpointError, ConfigError, TextError

HIDDEN_STATE = -3
"""Which hidden state MeloTTS uses: `hidden_states[-3]`."""


class BertFeatureExtractor:
    """`extractor(normalized_text, word2ph)` -> float32 [hidden, sum(word2ph)] on the CPU.

    With the BERT on a device (`Synthesizer.use_bert`), the host only tokenizes: `release_encoder` then drops
    the host encoder's weights (a second full copy: ~330 MB for bert-base-uncased, ~600 MB multilingual);
    the extractor keeps its tokenizer (`token_ids`), and a call for host features is a RuntimeError.
    """

    def __init__(self, encoder: BertEncoder, tokenizer: WordPieceTokenizer | Any) -> None:
        self.encoder: BertEncoder | None = encoder.eval()
        self.tokenizer = tokenizer
        self.hidden_size = encoder.config.hidden_size
        self.max_tokens = encoder.config.max_position_embeddings

    @classmethod
    def from_folder(
        cls, folder: str | os.PathLike[str], device: str | torch.device = "cpu", missing_ok: bool = False
    ) -> BertFeatureExtractor | None:
        """Load a Hugging Face BERT folder (config.json, model.safetensors or pytorch_model.bin, and
        vocab.txt; without vocab.txt the bundled bert-base-uncased vocabulary is used). Its
        tokenizer_config.json, when there, sets casing and accents (`Casing.from_config`), or asks for
        MeCab + WordPiece (bert-base-japanese-v3: `tokenizer_config.load_tokenizer`).

        A folder that does not exist raises CheckpointError, or gives None with `missing_ok` (the
        front end then runs in no-BERT mode); a folder that exists but is incomplete always raises.
        """
        folder = Path(folder)
        if not folder.is_dir():
            if missing_ok:
                return None
            raise CheckpointError(f"{folder}: BERT folder not found")
        config = BertConfig.from_json(folder / "config.json")
        # hidden_states[-3] of an L-layer model is the output of layer L-2: later layers are not needed.
        num_layers = config.num_hidden_layers + 1 + HIDDEN_STATE
        if num_layers < 0:
            raise ConfigError(f"{folder}: a {config.num_hidden_layers}-layer BERT has no hidden_states[-3]")
        encoder = BertEncoder.from_pretrained(folder, num_layers=num_layers, device=device)
        vocab = folder / "vocab.txt"
        tokenizer = load_tokenizer(vocab if vocab.is_file() else None, folder / TOKENIZER_CONFIG)
        if len(tokenizer) > config.vocab_size:
            raise CheckpointError(f"{folder}: vocab.txt has {len(tokenizer)} tokens, the model {config.vocab_size}")
        return cls(encoder, tokenizer)

    def token_ids(self, normalized_text: str, word2ph: Sequence[int]) -> list[int]:
        """The BERT token ids of the text, checked against word2ph and the model's length (what the encoder
        reads here, and what the ttnn path uploads to run the encoder on the device: `tt/bert.py`)."""
        ids = self.tokenizer.encode(normalized_text)
        if len(ids) != len(word2ph):
            raise ValueError(f"word2ph has {len(word2ph)} entries but the text has {len(ids)} BERT tokens")
        if len(ids) > self.max_tokens:
            raise TextError(
                f"text is too long for BERT ({len(ids)} tokens, at most {self.max_tokens}); split it first "
                "(openvoice_tt.text.split_text)"
            )
        return ids

    def release_encoder(self) -> None:
        """Drop the host encoder (its weights go with it unless someone else holds them): for when the BERT
        runs elsewhere (the device) and this extractor only tokenizes. Features are then refused."""
        self.encoder = None

    @torch.inference_mode()
    def __call__(self, normalized_text: str, word2ph: Sequence[int]) -> torch.Tensor:
        if self.encoder is None:  # a bug: the path that released it must not ask the host for features
            raise RuntimeError(
                "internal error: host BERT features were asked for, but this extractor's encoder was released "
                "(the BERT runs on the device; the host only tokenizes)"
            )
        ids = self.token_ids(normalized_text, word2ph)
        device = self.encoder.embeddings.word_embeddings.weight.device
        states = self.encoder(torch.tensor([ids], device=device))
        tokens = states[-1][0].float().cpu()  # [n_tokens, hidden]
        repeats = torch.tensor(list(word2ph), dtype=torch.long)
        return tokens.repeat_interleave(repeats, dim=0).T.contiguous()
