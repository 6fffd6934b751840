"""ttnn twin of `bert/model.py`: the prosody BERT on the device, up to the hidden state MeloTTS takes,
and the word2ph expansion of its token vectors to phones.

One small class per block, weights prepared from the host `BertEncoder` in `__init__` (through the
device's weight cache) and a pure-ttnn forward, on channels-last `[1, 1, T, hidden]` activations:

- `BertEmbeddings`: `ttnn.embedding` gathers the word vectors from uploaded uint32 token ids (the op
  tt-metal's own BERT demos use; it takes only bfloat16 tables, so the word table is bfloat16, a lookup is
  exact in it); position and token-type vectors are one table prepared on the host (MeloTTS runs every
  token as type 0, so row 0 of the type table is folded into every position row), sliced to the bucket on
  the device; then the embedding LayerNorm.
- `BertSelfAttention` + `BertLayer`: the fused q|k|v linear (the 1/sqrt(head size) score scale folded into
  the q weights: exact for BERT-base's 64-wide heads, a power of two), ttnn's head split and join, the
  scores, an additive key mask (-1e4 on padded keys: their softmax weight is exactly 0 in float32, as
  Hugging Face's most-negative-float bias), softmax, the output projection, residual add and post-LayerNorm;
  then the feed-forward with erf GELU (`ttnn.gelu(fast_and_approximate_mode=False)`: ttnn's accurate GELU,
  whose golden function is torch's erf GELU, Hugging Face's "gelu") and the second post-LayerNorm.
- `BertEncoder`: embeddings and the layers the host model holds (`BertFeatureExtractor.from_folder` loads
  the first L-2 of L, so the output is `hidden_states[-3]`).
- `PhoneExpansion`: the word2ph repeat as a matmul of a 0/1 [phones, tokens] matrix with the token vectors.
  The matrix is built on the device from one uploaded index per phone (`eq` against the resident token
  positions, the pattern of `layers.Embedding` and of the alignment path's expansion in
  `tt/alignment.py`): ttnn has no ragged repeat (`repeat_interleave` repeats every row equally), and a
  gather through `ttnn.embedding` would need the hidden states as a bfloat16 row-major table. A padded
  phone's index is -1 (a zero row), and padded tokens are never indexed.

Tokens are padded to a bucket (`TtBuckets.tokens`) with a valid count uploaded beside them
(`TtDevice.upload_count`), so the op graph depends on the bucket only, as in the rest of the tt path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from openvoice_tt.bert.model import BertEncoder as ReferenceBertEncoder
from openvoice_tt.bert.model import _Layer as ReferenceLayer
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import (
    Linear,
    Precision,
    compute_config,
    dtype_of,
    in_dtype,
    layer_norm_params,
    length_mask,
)
from openvoice_tt.tt.settings import BertPrecision, TtBuckets

MASKED_KEY = -1e4  # added to a padded key's score: exp underflows to exactly 0 (float32 and bfloat16)


class _Norm:
    """Post-LayerNorm over the hidden dim (Hugging Face's epsilon, 1e-12 for every BERT here)."""

    def __init__(self, device: TtDevice, module: torch.nn.LayerNorm, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.weight, self.bias = layer_norm_params(device, module, name, precision, ("weight", "bias"))
        self.epsilon = module.eps
        self.compute = compute_config(device, precision)

    def __call__(self, x: Any) -> Any:
        return self.ttnn.layer_norm(
            x, weight=self.weight, bias=self.bias, epsilon=self.epsilon, compute_kernel_config=self.compute
        )


class BertEmbeddings:
    def __init__(self, device: TtDevice, ref: ReferenceBertEncoder, name: str, precision: Precision) -> None:
        ttnn = self.ttnn = device.ttnn
        emb, w = ref.embeddings, device.weights
        self.hidden = emb.word_embeddings.weight.shape[1]
        self.max_tokens = emb.position_embeddings.weight.shape[0]
        word = w.get(f"{name}.word_embeddings.weight", lambda: emb.word_embeddings.weight)
        self.word = device.constant(word, ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT)  # ttnn.embedding's only type
        positions = w.get(
            f"{name}.position_embeddings.weight+token_type_embeddings.weight[0]",
            lambda: emb.position_embeddings.weight + emb.token_type_embeddings.weight[0],
        )
        self.positions = device.constant(positions.reshape(1, 1, *positions.shape), dtype_of(device, precision.weights))
        self.norm = _Norm(device, emb.LayerNorm, f"{name}.LayerNorm", precision)
        self.dtype = dtype_of(device, precision.activations)

    def __call__(self, ids: Any, length: int) -> Any:
        """ids [1, length] uint32 (row-major) -> [1, 1, length, hidden]."""
        ttnn = self.ttnn
        x = ttnn.embedding(ids, self.word, layout=ttnn.TILE_LAYOUT, dtype=self.dtype)  # [1, length, hidden]
        x = ttnn.reshape(x, (1, 1, length, self.hidden))
        positions = ttnn.slice(self.positions, [0, 0, 0, 0], [1, 1, length, self.hidden])
        return self.norm(ttnn.add(x, positions))


class BertSelfAttention:
    def __init__(self, device: TtDevice, ref: ReferenceLayer, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        attention = ref.attention.self
        self.heads = attention.heads
        self.hidden = attention.query.weight.shape[0]
        scale = 1.0 / math.sqrt(self.hidden // self.heads)
        w = device.weights
        q, k, v = attention.query, attention.key, attention.value
        weight = w.get(f"{name}.qkv.weight", lambda: torch.cat([q.weight * scale, k.weight, v.weight]))
        bias = w.get(f"{name}.qkv.bias", lambda: torch.cat([q.bias * scale, k.bias, v.bias]))
        self.qkv = Linear(device, weight, bias, precision)
        self.dtype = dtype_of(device, precision.activations)
        self.compute = compute_config(device, precision)

    def __call__(self, x: Any, length: int, key_bias: Any) -> Any:
        """x [1, 1, T, hidden], key_bias [1, 1, 1, T] (0 or MASKED_KEY) -> the heads' context [1, 1, T, hidden]."""
        ttnn = self.ttnn
        qkv = ttnn.reshape(self.qkv(x), (1, length, 3 * self.hidden))
        q, k_t, v = ttnn.transformer.split_query_key_value_and_split_heads(
            qkv, num_heads=self.heads, transpose_key=True
        )
        scores = ttnn.matmul(q, k_t, dtype=self.dtype, compute_kernel_config=self.compute)  # [1, H, T, T]
        scores = ttnn.add(scores, key_bias)
        weights = ttnn.softmax(scores, dim=-1, compute_kernel_config=self.compute)
        context = ttnn.matmul(weights, v, dtype=self.dtype, compute_kernel_config=self.compute)  # [1, H, T, d]
        return ttnn.reshape(ttnn.transformer.concatenate_heads(context), (1, 1, length, self.hidden))


class BertLayer:
    """Self-attention, projection + residual + LayerNorm, GELU feed-forward, projection + residual + LayerNorm."""

    def __init__(self, device: TtDevice, ref: ReferenceLayer, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        if ref.intermediate.act is not torch.nn.functional.gelu:
            raise ValueError(f"{name}: the ttnn BERT runs erf GELU ('gelu') only")
        self.attention = BertSelfAttention(device, ref, f"{name}.attention.self", precision)
        self.attention_out = Linear.of(device, ref.attention.output.dense, f"{name}.attention.output.dense", precision)
        self.attention_norm = _Norm(
            device, ref.attention.output.LayerNorm, f"{name}.attention.output.LayerNorm", precision
        )
        self.intermediate = Linear.of(device, ref.intermediate.dense, f"{name}.intermediate.dense", precision)
        self.output = Linear.of(device, ref.output.dense, f"{name}.output.dense", precision)
        self.output_norm = _Norm(device, ref.output.LayerNorm, f"{name}.output.LayerNorm", precision)

    def __call__(self, x: Any, length: int, key_bias: Any) -> Any:
        ttnn = self.ttnn
        x = self.attention_norm(ttnn.add(self.attention_out(self.attention(x, length, key_bias)), x))
        h = ttnn.gelu(self.intermediate(x), fast_and_approximate_mode=False)
        return self.output_norm(ttnn.add(self.output(h), x))


class BertEncoder:
    """ids -> the last hidden state of the host model's layers ([1, 1, T, hidden]); the host model holds the
    first L-2 layers of an L-layer BERT (`bert.features`), so this is MeloTTS's hidden_states[-3]."""

    def __init__(self, device: TtDevice, ref: ReferenceBertEncoder, name: str, precision: BertPrecision) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.hidden = ref.config.hidden_size
        self.max_tokens = ref.config.max_position_embeddings
        self.embeddings = BertEmbeddings(device, ref, f"{name}.embeddings", precision.embeddings)
        self.layers = [
            BertLayer(device, layer, f"{name}.encoder.layer.{i}", precision.encoder)
            for i, layer in enumerate(ref.encoder.layer)
        ]
        self.embeddings_dtype = dtype_of(device, precision.embeddings.activations)
        self.dtype = dtype_of(device, precision.encoder.activations)

    def key_bias(self, valid: Any, length: int) -> Any:
        """[1, 1, 1, T]: 0 on the `valid` first keys, MASKED_KEY on the padding (from the uploaded count)."""
        ttnn = self.ttnn
        mask = ttnn.reshape(length_mask(self.device, valid, length, self.dtype), (1, 1, 1, length))
        return ttnn.multiply(ttnn.subtract(mask, 1.0), -MASKED_KEY)

    def __call__(self, ids: Any, valid: Any, length: int) -> Any:
        """ids [1, length] uint32, valid: the token count (`TtDevice.upload_count`) -> [1, 1, length, hidden]."""
        if length > self.max_tokens:
            raise ValueError(f"{length} padded tokens: this BERT takes at most {self.max_tokens}")
        x = in_dtype(self.ttnn, self.embeddings(ids, length), self.dtype)
        key_bias = self.key_bias(valid, length)
        for layer in self.layers:
            x = layer(x, length, key_bias)
        return x


class PhoneExpansion:
    """Token vectors [1, 1, T, hidden] -> phone vectors [1, 1, P, hidden]: row p is token index[p]'s vector
    (zero where the index is -1)."""

    def __init__(self, device: TtDevice, precision: Precision) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.dtype = dtype_of(device, precision.activations)
        self.compute = compute_config(device, precision)

    def __call__(self, hidden: Any, phone_tokens: Any, tokens: int) -> Any:
        """phone_tokens [1, 1, P, 1] float32 (the token of each phone, -1 on padding); `tokens` the padded
        token count of `hidden`."""
        ttnn = self.ttnn
        positions = ttnn.reshape(self.device.resident.positions(tokens), (1, 1, 1, tokens))
        one_hot = ttnn.eq(phone_tokens, positions, dtype=self.dtype)  # [1, 1, P, T]
        return ttnn.matmul(
            one_hot, in_dtype(ttnn, hidden, self.dtype), dtype=self.dtype, compute_kernel_config=self.compute
        )


def phone_token_index(word2ph: Sequence[int], padded_phones: int) -> torch.Tensor:
    """[1, 1, padded_phones, 1] float32: the token each phone repeats (token i word2ph[i] times), -1 after."""
    index = torch.full((padded_phones,), -1.0)
    repeated = torch.arange(len(word2ph), dtype=torch.float32).repeat_interleave(torch.tensor(list(word2ph)))
    if repeated.numel() > padded_phones:
        raise ValueError(f"word2ph covers {repeated.numel()} phones, more than the {padded_phones} padded")
    index[: repeated.numel()] = repeated
    return index.reshape(1, 1, padded_phones, 1)


class BertFeatures:
    """`BertEncoder` + `PhoneExpansion`: token ids and word2ph -> MeloTTS's `ja_bert` [1, 1, P, hidden] on
    the device, P the phones' bucket. `upload` is the host boundary (the ids, the valid count, the phone
    index); `__call__` is pure ttnn."""

    def __init__(
        self,
        device: TtDevice,
        ref: ReferenceBertEncoder,
        name: str,
        precision: BertPrecision = BertPrecision(),
        buckets: TtBuckets = TtBuckets(),
    ) -> None:
        self.device = device
        self.buckets = buckets
        self.encoder = BertEncoder(device, ref, name, precision)
        self.expansion = PhoneExpansion(device, precision.expansion)

    def upload(self, ids: Sequence[int], word2ph: Sequence[int], padded_phones: int) -> tuple[Any, Any, Any, int]:
        """(ids, valid count, phone index, padded token count) on the device; ids padded with 0 (masked)."""
        if len(ids) != len(word2ph):
            raise ValueError(f"word2ph has {len(word2ph)} entries but there are {len(ids)} BERT tokens")
        padded = self.buckets.tokens(len(ids))
        device, ttnn = self.device, self.device.ttnn
        host_ids = torch.zeros((1, padded), dtype=torch.int32)
        host_ids[0, : len(ids)] = torch.tensor(list(ids), dtype=torch.int32)
        return (
            device.upload(host_ids, ttnn.uint32, "bert_ids", layout=ttnn.ROW_MAJOR_LAYOUT),
            device.upload_count(len(ids), "valid_bert_tokens"),
            device.upload(phone_token_index(word2ph, padded_phones), ttnn.float32, "phone_bert_tokens"),
            padded,
        )

    def __call__(self, ids: Any, valid: Any, phone_tokens: Any, padded_tokens: int) -> Any:
        return self.expansion(self.encoder(ids, valid, padded_tokens), phone_tokens, padded_tokens)
