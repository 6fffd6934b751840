"""MeloTTS text encoder `enc_p` (spec §2.2): embeddings + BERT projections, attention encoder, prior stats."""

from __future__ import annotations

import math

import torch
from torch import nn

from openvoice_tt.reference.attention import RelativeAttentionEncoder

BERT_CHANNELS = 1024  # `bert` input (Chinese RoBERTa-large width); zeros for English
JA_BERT_CHANNELS = 768  # `ja_bert` input; carries the English bert-base features


class TextEncoder(nn.Module):
    def __init__(
        self,
        n_vocab: int,
        num_tones: int,
        num_languages: int,
        out_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        gin_channels: int,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.emb = nn.Embedding(n_vocab, hidden_channels)
        self.tone_emb = nn.Embedding(num_tones, hidden_channels)
        self.language_emb = nn.Embedding(num_languages, hidden_channels)
        self.bert_proj = nn.Conv1d(BERT_CHANNELS, hidden_channels, 1)
        self.ja_bert_proj = nn.Conv1d(JA_BERT_CHANNELS, hidden_channels, 1)
        self.encoder = RelativeAttentionEncoder(
            hidden_channels, filter_channels, n_heads, n_layers, kernel_size, gin_channels=gin_channels
        )
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(
        self,
        phones: torch.Tensor,
        tones: torch.Tensor,
        languages: torch.Tensor,
        bert: torch.Tensor,
        ja_bert: torch.Tensor,
        x_mask: torch.Tensor,
        g: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Ids [B, T], bert [B, 1024, T], ja_bert [B, 768, T], mask [B, 1, T] -> (h, m_p, logs_p)."""
        x = (
            self.emb(phones)
            + self.tone_emb(tones)
            + self.language_emb(languages)
            + self.bert_proj(bert).transpose(1, 2)
            + self.ja_bert_proj(ja_bert).transpose(1, 2)
        ) * math.sqrt(self.hidden_channels)
        x = x.transpose(1, 2)
        h = self.encoder(x * x_mask, x_mask, g=g)
        stats = self.proj(h) * x_mask
        m_p, logs_p = torch.split(stats, self.out_channels, dim=1)
        return h, m_p, logs_p
