"""ttnn twin of `reference/text_encoder.py`: embeddings, BERT projection and the attention encoder.

English feeds its BERT features through `ja_bert` and leaves the 1024-wide `bert` input at zero, so
`bert_proj(bert)` is exactly `bert_proj.bias`; that bias is folded into `ja_bert_proj`'s and the zero
tensor is never uploaded.
"""

from __future__ import annotations

import math
from typing import Any

from openvoice_tt.reference.text_encoder import TextEncoder as ReferenceTextEncoder
from openvoice_tt.tt.attention import RelativeAttentionEncoder, RelativeBands
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Embedding, Linear, Precision, halves


class TextEncoder:
    def __init__(self, device: TtDevice, ref: ReferenceTextEncoder, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.hidden = ref.hidden_channels
        self.out_channels = ref.out_channels
        w = device.weights
        self.emb = Embedding(device, w.get(f"{name}.emb.weight", lambda: ref.emb.weight), precision)
        self.tone_emb = Embedding(device, w.get(f"{name}.tone_emb.weight", lambda: ref.tone_emb.weight), precision)
        self.language_emb = Embedding(
            device, w.get(f"{name}.language_emb.weight", lambda: ref.language_emb.weight), precision
        )
        self.ja_bert_proj = Linear(
            device,
            w.get(f"{name}.ja_bert_proj.weight", lambda: ref.ja_bert_proj.weight),
            w.get(f"{name}.ja_bert_proj.bias+bert_proj.bias", lambda: ref.ja_bert_proj.bias + ref.bert_proj.bias),
            precision,
        )
        self.encoder = RelativeAttentionEncoder(device, ref.encoder, f"{name}.encoder", precision)
        self.proj = Linear.of(device, ref.proj, f"{name}.proj", precision)

    def __call__(
        self, phones: Any, tones: Any, languages: Any, ja_bert: Any, length: int, bands: RelativeBands, g: Any | None
    ) -> tuple[Any, Any, Any]:
        """ids [1, 1, T, 1] (float32), ja_bert [1, 1, T, 768] -> h [1, 1, T, C], m_p, logs_p [1, 1, T, C']."""
        ttnn, c = self.ttnn, self.out_channels
        x = ttnn.add(ttnn.add(self.emb(phones), self.tone_emb(tones)), self.language_emb(languages))
        x = ttnn.multiply(ttnn.add(x, self.ja_bert_proj(ja_bert)), math.sqrt(self.hidden))
        h = self.encoder(x, length, bands, g)
        stats = self.proj(h)
        if bands.mask is not None:
            stats = ttnn.multiply(stats, bands.mask)
        m_p, logs_p = halves(ttnn, stats, length, c)
        return h, m_p, logs_p
