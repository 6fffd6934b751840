#!/usr/bin/env python3
"""Write random-weight checkpoints in exactly the official OpenVoice V2 / MeloTTS formats.

No official weights exist on our machines, so tests and benchmarks run on files this script makes: the
same state-dict keys and shapes as the published files (weight norm stored as `weight_g`/`weight_v`,
training-only tensors included, `{"model": state_dict, "iteration": ...}` wrapping), the same
`config.json` fields, and bare `[1, 256, 1]` tone-color embeddings. The key lists are written out here
from the spec (§1.4), independently of `openvoice_tt.reference`, so loading them is a real check.

Two sizes: `full` uses the real published configs (spec §1.1, §1.3); `tiny` keeps the structure, the
audio settings and the 219-symbol table but shrinks the widths so end-to-end tests run in seconds.
Weights are random but scaled so the networks behave like trained ones in the ways tests rely on:
activations stay in range and the duration predictor gives about 3 frames per token.

Every base-speaker language (`openvoice_tt.languages`: en, en-v2, en-v3, es, fr, zh, jp, kr) gets its own
MeloTTS folder with that language's config shape: the same network, the same 219 symbols, 16 tones and 8
language rows (the published configs of all eight differ only in `data.spk2id`), and the language's own
speakers (`LANGUAGE_SPEAKERS`: ES {"ES": 0}, FR {"FR": 0}, EN_NEWEST {"EN-Newest": 0}, ZH {"ZH": 1}, JP
{"JP": 0}, KR {"KR": 0}; EN_V2 shares EN's). English is drawn from `seed` as it always was; every other language
from its own seed, so its weights differ from English's.

BERT: without `--bert` (`write_all(bert=False)`, the tests' shared fixtures) no BERT folder is written and the
API runs without one, with zero features. With it, each written language's BERT folder (`layout`: bert-base-uncased,
BETO uncased, the French Europeana cased, multilingual uncased, bert-base-japanese-v3, kykim's bert-kor-base;
`write_bert`) gets random weights (torch's init, seeded) in that BERT's real config (its vocabulary size, hidden
768, 12 heads, intermediate 3,072; 12 layers at full size, 3 at tiny) and its vocabulary files: bert-base-uncased
none (as downloaded: the bundled vocabulary is read), the others the synthetic `vocab.txt` and the real
`tokenizer_config.json` (casing; MeCab with unidic_lite for Japanese) of the front-end tests
(tests/text/data/vocab_<lang>.txt, tokenizer_config_<lang>.json), the vocabulary padded with [unusedN]
tokens to the model's size. Each folder loads through `BertFeatureExtractor.from_folder`, as the API does.

Usage: python scripts/make_test_checkpoints.py OUT_DIR [--size full|tiny] [--seed N] [--languages en es ...|all]
       [--bert]
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from openvoice_tt.errors import InputError
from openvoice_tt.languages import EN, LANGUAGES, Language, find_languages
from openvoice_tt.layout import (
    BERT_BASE_UNCASED,
    BETO_UNCASED,
    FRENCH_EUROPEANA_CASED,
    JAPANESE_V3,
    KOREAN_KYKIM,
    MULTILINGUAL_UNCASED,
    BertModel,
)

# The 219-entry MeloTTS symbol table in the order of today's `melo/text/symbols.py` (spec §4.2).
MELO_SYMBOLS = [
    "_", '"', "(", ")", "*", "/", ":", "AA", "E", "EE", "En", "N", "OO", "Q", "V", "[", "\\", "]", "^", "a",
    "a:", "aa", "ae", "ah", "ai", "an", "ang", "ao", "aw", "ay", "b", "by", "c", "ch", "d", "dh", "dy", "e",
    "e:", "eh", "ei", "en", "eng", "er", "ey", "f", "g", "gy", "h", "hh", "hy", "i", "i0", "i:", "ia", "ian",
    "iang", "iao", "ie", "ih", "in", "ing", "iong", "ir", "iu", "iy", "j", "jh", "k", "ky", "l", "m", "my",
    "n", "ng", "ny", "o", "o:", "ong", "ou", "ow", "oy", "p", "py", "q", "r", "ry", "s", "sh", "t", "th",
    "ts", "ty", "u", "u:", "ua", "uai", "uan", "uang", "uh", "ui", "un", "uo", "uw", "v", "van", "ve", "vn",
    "w", "x", "y", "z", "zh", "zy", "~", "æ", "ç", "ð", "ø", "ŋ", "œ", "ɐ", "ɑ", "ɒ", "ɔ", "ɕ", "ə", "ɛ",
    "ɜ", "ɡ", "ɣ", "ɥ", "ɦ", "ɪ", "ɫ", "ɬ", "ɭ", "ɯ", "ɲ", "ɵ", "ɸ", "ɹ", "ɾ", "ʁ", "ʃ", "ʊ", "ʌ", "ʎ", "ʏ",
    "ʑ", "ʒ", "ʝ", "ʲ", "ˈ", "ˌ", "ː", "̃", "̩", "β", "θ", "ᄀ", "ᄁ", "ᄂ", "ᄃ", "ᄄ", "ᄅ", "ᄆ", "ᄇ", "ᄈ",
    "ᄉ", "ᄊ", "ᄋ", "ᄌ", "ᄍ", "ᄎ", "ᄏ", "ᄐ", "ᄑ", "ᄒ", "ᅡ", "ᅢ", "ᅣ", "ᅤ", "ᅥ", "ᅦ", "ᅧ", "ᅨ", "ᅩ", "ᅪ",
    "ᅫ", "ᅬ", "ᅭ", "ᅮ", "ᅯ", "ᅰ", "ᅱ", "ᅲ", "ᅳ", "ᅴ", "ᅵ", "ᆨ", "ᆫ", "ᆮ", "ᆯ", "ᆷ", "ᆸ", "ᆼ", "ㄸ", "!",
    "?", "…", ",", ".", "'", "-", "¿", "¡", "SP", "UNK",
]  # fmt: skip

MELO_SPEAKERS = {"EN-US": 0, "EN-BR": 1, "EN_INDIA": 2, "EN-AU": 3, "EN-Default": 4}
LANGUAGE_SPEAKERS = {
    "EN": MELO_SPEAKERS,
    "EN_V2": MELO_SPEAKERS,
    "EN_NEWEST": {"EN-Newest": 0},
    "ES": {"ES": 0},
    "FR": {"FR": 0},
    "ZH": {"ZH": 1},  # the published Chinese config numbers its one speaker 1
    "JP": {"JP": 0},
    "KR": {"KR": 0},
}
"""Each language's `data.spk2id`, as in its published config.json (keyed by language code)."""
LANGUAGE_SEED_STEP = 10
"""Language i of `LANGUAGES` (i > 0) draws its MeloTTS weights from seed + 10 * i (English keeps seed)."""
# The eleven base-speaker embedding files of checkpoints_v2/base_speakers/ses (spec §1.2).
BASE_SPEAKER_SE_NAMES = ("en-au", "en-br", "en-default", "en-india", "en-newest", "en-us", "es", "fr", "jp", "kr", "zh")
RESBLOCK_KERNELS = (3, 7, 11)
RESBLOCK_DILATIONS = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
TARGET_FRAMES_PER_TOKEN = 3.0  # about real English: 86 frames/s over ~28 tokens/s (blanks included)


@dataclass(frozen=True)
class Size:
    name: str
    hidden: int  # hidden_channels = inter_channels
    filter: int
    n_layers: int
    upsample_initial_channel: int
    n_speakers: int
    gin: int = 256  # the tone-color embedding width; kept in tiny so embedding files keep their format
    bert_layers: int = 12  # the BERTs' depth (their width is always BERT-base's)


SIZES = {
    "full": Size("full", hidden=192, filter=768, n_layers=6, upsample_initial_channel=512, n_speakers=256),
    "tiny": Size("tiny", hidden=32, filter=64, n_layers=3, upsample_initial_channel=64, n_speakers=8, bert_layers=3),
}


# --------------------------------------------------------------------------------------------------
# Key lists. Each entry: (key, shape, init) where init names how the tensor is drawn.

Entry = tuple[str, tuple[int, ...], str]


def conv(
    prefix: str,
    c_out: int,
    c_in: int,
    k: int,
    *,
    bias: bool = True,
    wn: bool = False,
    gain: float = 1.0,
    transposed: bool = False,
) -> Iterator[Entry]:
    shape = (c_in, c_out, k) if transposed else (c_out, c_in, k)
    if wn:
        yield f"{prefix}.weight_g", (shape[0], 1, 1), f"g:{gain}"
        yield f"{prefix}.weight_v", shape, "v"
    else:
        yield f"{prefix}.weight", shape, f"w:{gain}"
    if bias:
        yield f"{prefix}.bias", (c_out,), "bias"


def norm(prefix: str, c: int) -> Iterator[Entry]:
    yield f"{prefix}.gamma", (c,), "gamma"
    yield f"{prefix}.beta", (c,), "beta"


def linear(prefix: str, c_out: int, c_in: int, gain: float = 1.0) -> Iterator[Entry]:
    yield f"{prefix}.weight", (c_out, c_in), f"w:{gain}"
    yield f"{prefix}.bias", (c_out,), "bias"


def attention_encoder(prefix: str, hidden: int, filter_: int, n_layers: int, kernel: int, gin: int) -> Iterator[Entry]:
    yield from linear(f"{prefix}.spk_emb_linear", hidden, gin)
    k_channels = hidden // 2
    for i in range(n_layers):
        for name in ("conv_q", "conv_k", "conv_v", "conv_o"):
            yield from conv(f"{prefix}.attn_layers.{i}.{name}", hidden, hidden, 1)
        yield f"{prefix}.attn_layers.{i}.emb_rel_k", (1, 9, k_channels), "rel"
        yield f"{prefix}.attn_layers.{i}.emb_rel_v", (1, 9, k_channels), "rel"
    for i in range(n_layers):
        yield from norm(f"{prefix}.norm_layers_1.{i}", hidden)
    for i in range(n_layers):
        yield from conv(f"{prefix}.ffn_layers.{i}.conv_1", filter_, hidden, kernel)
        yield from conv(f"{prefix}.ffn_layers.{i}.conv_2", hidden, filter_, kernel)
    for i in range(n_layers):
        yield from norm(f"{prefix}.norm_layers_2.{i}", hidden)


def wavenet(prefix: str, hidden: int, n_layers: int, gin: int) -> Iterator[Entry]:
    for i in range(n_layers):
        yield from conv(f"{prefix}.in_layers.{i}", 2 * hidden, hidden, 5, wn=True)
    for i in range(n_layers):
        out = 2 * hidden if i < n_layers - 1 else hidden
        yield from conv(f"{prefix}.res_skip_layers.{i}", out, hidden, 1, wn=True)
    yield from conv(f"{prefix}.cond_layer", 2 * hidden * n_layers, gin, 1, wn=True, gain=0.5)


def generator(
    prefix: str, hidden: int, initial: int, rates: list[int], kernels: list[int], gin: int
) -> Iterator[Entry]:
    yield from conv(f"{prefix}.conv_pre", initial, hidden, 7)
    for i, (u, k) in enumerate(zip(rates, kernels, strict=True)):
        c_in, c_out = initial // 2**i, initial // 2 ** (i + 1)
        # ConvTranspose1d weight is [in, out, k]; weight norm's g is per input channel.
        yield from conv(f"{prefix}.ups.{i}", c_out, c_in, k, wn=True, transposed=True, gain=math.sqrt(u))
    for i in range(len(rates)):
        c = initial // 2 ** (i + 1)
        for j, (k, dilations) in enumerate(zip(RESBLOCK_KERNELS, RESBLOCK_DILATIONS, strict=True)):
            index = i * len(RESBLOCK_KERNELS) + j
            for name in ("convs1", "convs2"):
                for j in range(len(dilations)):
                    yield from conv(f"{prefix}.resblocks.{index}.{name}.{j}", c, c, k, wn=True, gain=0.5)
    yield from conv(f"{prefix}.conv_post", 1, initial // 2 ** len(rates), 7, bias=False, gain=0.5)
    yield from conv(f"{prefix}.cond", initial, gin, 1, gain=0.5)


def posterior_encoder(prefix: str, spec_channels: int, hidden: int, gin: int) -> Iterator[Entry]:
    yield from conv(f"{prefix}.pre", hidden, spec_channels, 1, gain=0.3)
    yield from wavenet(f"{prefix}.enc", hidden, 16, gin)
    yield from conv(f"{prefix}.proj", 2 * hidden, hidden, 1, gain=0.3)


def dds_conv(prefix: str, c: int) -> Iterator[Entry]:
    for i in range(3):
        yield from conv(f"{prefix}.convs_sep.{i}", c, 1, 3)
    for i in range(3):
        yield from conv(f"{prefix}.convs_1x1.{i}", c, c, 1)
    for i in range(3):
        yield from norm(f"{prefix}.norms_1.{i}", c)
    for i in range(3):
        yield from norm(f"{prefix}.norms_2.{i}", c)


def sdp_flows(prefix: str, c: int) -> Iterator[Entry]:
    yield f"{prefix}.0.m", (2, 1), "affine_m"
    yield f"{prefix}.0.logs", (2, 1), "affine_logs"
    for i in (1, 3, 5, 7):
        yield from conv(f"{prefix}.{i}.pre", c, 1, 1)
        yield from dds_conv(f"{prefix}.{i}.convs", c)
        yield from conv(f"{prefix}.{i}.proj", 29, c, 1, gain=0.3)


def melo_entries(size: Size) -> Iterator[Entry]:
    h, gin = size.hidden, size.gin
    rates, kernels = [8, 8, 2, 2, 2], [16, 16, 8, 2, 2]
    yield "enc_p.emb.weight", (len(MELO_SYMBOLS), h), "embedding"
    yield "enc_p.tone_emb.weight", (16, h), "embedding"
    yield "enc_p.language_emb.weight", (8, h), "embedding"
    yield from conv("enc_p.bert_proj", h, 1024, 1, gain=0.5)
    yield from conv("enc_p.ja_bert_proj", h, 768, 1, gain=0.5)
    yield from attention_encoder("enc_p.encoder", h, size.filter, size.n_layers, 3, gin)
    yield from conv("enc_p.proj", 2 * h, h, 1, gain=0.3)
    yield from generator("dec", h, size.upsample_initial_channel, rates, kernels, gin)
    yield from posterior_encoder("enc_q", 1025, h, gin)
    for i in (0, 2, 4, 6):
        yield from conv(f"flow.flows.{i}.pre", h, h // 2, 1)
        yield from attention_encoder(f"flow.flows.{i}.enc", h, size.filter, 3, 5, gin)
        yield from conv(f"flow.flows.{i}.post", h // 2, h, 1, gain=0.1)
    yield from sdp_flows("sdp.flows", h)
    yield from conv("sdp.post_pre", h, 1, 1)
    yield from conv("sdp.post_proj", h, h, 1)
    yield from dds_conv("sdp.post_convs", h)
    yield from sdp_flows("sdp.post_flows", h)
    yield from conv("sdp.pre", h, h, 1)
    yield from conv("sdp.proj", h, h, 1)
    yield from dds_conv("sdp.convs", h)
    yield from conv("sdp.cond", h, gin, 1, gain=0.5)
    yield from conv("dp.conv_1", 256, h, 3)
    yield from norm("dp.norm_1", 256)
    yield from conv("dp.conv_2", 256, 256, 3)
    yield from norm("dp.norm_2", 256)
    yield "dp.proj.weight", (1, 256, 1), "w:0.05"
    yield "dp.proj.bias", (1,), "dp_bias"
    yield from conv("dp.cond", h, gin, 1, gain=0.5)
    yield "emb_g.weight", (size.n_speakers, gin), "speaker"


def converter_entries(size: Size) -> Iterator[Entry]:
    h, gin = size.hidden, size.gin
    yield from generator("dec", h, size.upsample_initial_channel, [8, 8, 2, 2], [16, 16, 4, 4], gin)
    yield from posterior_encoder("enc_q", 513, h, gin)
    for i in (0, 2, 4, 6):
        yield from conv(f"flow.flows.{i}.pre", h, h // 2, 1)
        yield from wavenet(f"flow.flows.{i}.enc", h, 4, gin)
        yield from conv(f"flow.flows.{i}.post", h // 2, h, 1, gain=0.1)
    yield "ref_enc.layernorm.weight", (513,), "gamma"
    yield "ref_enc.layernorm.bias", (513,), "beta"
    filters = [1, 32, 32, 64, 64, 128, 128]
    for i in range(6):
        yield f"ref_enc.convs.{i}.weight_g", (filters[i + 1], 1, 1, 1), "g:1.0"
        yield f"ref_enc.convs.{i}.weight_v", (filters[i + 1], filters[i], 3, 3), "v"
        yield f"ref_enc.convs.{i}.bias", (filters[i + 1],), "bias"
    yield "ref_enc.gru.weight_ih_l0", (384, 128 * 9), "gru"
    yield "ref_enc.gru.weight_hh_l0", (384, 128), "gru"
    yield "ref_enc.gru.bias_ih_l0", (384,), "gru"
    yield "ref_enc.gru.bias_hh_l0", (384,), "gru"
    yield from linear("ref_enc.proj", gin, 128)


# --------------------------------------------------------------------------------------------------
# Values.


def draw(shape: tuple[int, ...], init: str, gen: torch.Generator) -> torch.Tensor:
    def randn() -> torch.Tensor:
        return torch.randn(shape, generator=gen)

    kind, _, arg = init.partition(":")
    if kind == "w":  # plain weight: unit-gain for unit-variance input, fan-in over all dims but 0
        fan_in = math.prod(shape[1:])
        return randn() * float(arg) / math.sqrt(fan_in)
    if kind == "v":
        return randn()
    if kind == "g":  # weight-norm magnitude: the effective filter's L2 norm
        return float(arg) * (0.8 + 0.4 * torch.rand(shape, generator=gen))
    if kind == "bias":
        return 0.02 * randn()
    if kind == "gamma":
        return 1.0 + 0.05 * randn()
    if kind == "beta":
        return 0.05 * randn()
    if kind == "embedding":
        return randn() * shape[1] ** -0.5
    if kind == "rel":
        return randn() * shape[2] ** -0.5
    if kind == "speaker":
        return randn()
    if kind == "gru":
        bound = 1.0 / math.sqrt(128)
        return (torch.rand(shape, generator=gen) * 2 - 1) * bound
    if kind == "affine_m":  # SDP reverse ends with (z - m): m[0] = -log(frames) centres its log-durations
        return torch.tensor([[-math.log(TARGET_FRAMES_PER_TOKEN)], [0.0]])
    if kind == "affine_logs":
        return torch.zeros(shape)
    if kind == "dp_bias":
        return torch.full(shape, math.log(TARGET_FRAMES_PER_TOKEN))
    raise ValueError(f"unknown init {init!r}")


def state_dict(entries: Iterator[Entry], seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {key: draw(shape, init, gen) for key, shape, init in entries}


# --------------------------------------------------------------------------------------------------
# Configs (the published files' fields).


def melo_config(size: Size, language: Language = EN) -> dict:
    """The MeloTTS config.json of `language` (English by default) at `size`."""
    h = size.hidden
    return {
        "train": {"log_interval": 200, "eval_interval": 1000, "seed": 52, "epochs": 10000, "learning_rate": 0.0003,
                  "betas": [0.8, 0.99], "eps": 1e-09, "batch_size": 6, "fp16_run": False, "lr_decay": 0.999875,
                  "segment_size": 16384, "init_lr_ratio": 1, "warmup_epochs": 0, "c_mel": 45, "c_kl": 1.0,
                  "skip_optimizer": True},
        "data": {"training_files": "", "validation_files": "", "max_wav_value": 32768.0, "sampling_rate": 44100,
                 "filter_length": 2048, "hop_length": 512, "win_length": 2048, "n_mel_channels": 128,
                 "mel_fmin": 0.0, "mel_fmax": None, "add_blank": True, "n_speakers": size.n_speakers,
                 "cleaned_text": True, "spk2id": dict(LANGUAGE_SPEAKERS[language.code])},
        "model": {"use_spk_conditioned_encoder": True, "use_noise_scaled_mas": True, "use_mel_posterior_encoder": False,
                  "use_duration_discriminator": True, "inter_channels": h, "hidden_channels": h,
                  "filter_channels": size.filter, "n_heads": 2, "n_layers": size.n_layers, "n_layers_trans_flow": 3,
                  "kernel_size": 3, "p_dropout": 0.1, "resblock": "1", "resblock_kernel_sizes": list(RESBLOCK_KERNELS),
                  "resblock_dilation_sizes": [list(d) for d in RESBLOCK_DILATIONS],
                  "upsample_rates": [8, 8, 2, 2, 2], "upsample_initial_channel": size.upsample_initial_channel,
                  "upsample_kernel_sizes": [16, 16, 8, 2, 2], "n_layers_q": 3, "use_spectral_norm": False,
                  "gin_channels": size.gin},
        "symbols": list(MELO_SYMBOLS),
        "num_tones": 16,
        "num_languages": 8,
    }  # fmt: skip


def converter_config(size: Size) -> dict:
    h = size.hidden
    return {
        "_version_": "v2",
        "data": {"sampling_rate": 22050, "filter_length": 1024, "hop_length": 256, "win_length": 1024,
                 "n_speakers": 0},
        "model": {"zero_g": True, "inter_channels": h, "hidden_channels": h, "filter_channels": size.filter,
                  "n_heads": 2, "n_layers": 6, "kernel_size": 3, "p_dropout": 0.1, "resblock": "1",
                  "resblock_kernel_sizes": list(RESBLOCK_KERNELS),
                  "resblock_dilation_sizes": [list(d) for d in RESBLOCK_DILATIONS],
                  "upsample_rates": [8, 8, 2, 2], "upsample_initial_channel": size.upsample_initial_channel,
                  "upsample_kernel_sizes": [16, 16, 4, 4], "gin_channels": size.gin},
    }  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Files.


def write_checkpoint(folder: Path, config: dict, weights: dict[str, torch.Tensor]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    torch.save({"model": weights, "iteration": 0}, folder / "checkpoint.pth")


def write_all(
    out: Path, size: str = "tiny", seed: int = 0, languages: tuple[Language, ...] = (EN,), bert: bool = False
) -> Path:
    """Write the checkpoint folder (the layout of checkpoints/README.md) with a MeloTTS folder for each of
    `languages` (English only by default, as the tests' shared fixture has it), with `bert` each one's BERT
    folder too (`write_bert`), and return it."""
    spec = SIZES[size]
    out = Path(out)
    if bert:
        for model in dict.fromkeys(language.model.bert for language in languages):
            write_bert(out / model.folder, seed, spec.bert_layers, model)
    for language in languages:
        language_seed = seed + LANGUAGE_SEED_STEP * LANGUAGES.index(language)
        weights = state_dict(melo_entries(spec), language_seed)
        write_checkpoint(out / language.model.folder, melo_config(spec, language), weights)
    write_checkpoint(out / "converter", converter_config(spec), state_dict(converter_entries(spec), seed + 1))
    ses = out / "base_speakers" / "ses"
    ses.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed + 2)
    for name in BASE_SPEAKER_SE_NAMES:
        torch.save(torch.randn(1, spec.gin, 1, generator=gen), ses / f"{name}.pth")
    return out


@dataclass(frozen=True)
class BertFiles:
    """A BERT's real vocabulary size, and the front-end tests' files that stand for its vocabulary and
    tokenizer config (tests/text/data/vocab_<data>.txt, tokenizer_config_<data>.json; None: no files, the
    bundled bert-base-uncased vocabulary is read, as for the downloaded folder)."""

    vocab_size: int
    data: str | None = None


BERT_FILES = {
    BERT_BASE_UNCASED.folder: BertFiles(30522),  # google-bert/bert-base-uncased
    BETO_UNCASED.folder: BertFiles(31002, "es"),  # dccuchile/bert-base-spanish-wwm-uncased
    FRENCH_EUROPEANA_CASED.folder: BertFiles(32000, "fr"),  # dbmdz/bert-base-french-europeana-cased
    MULTILINGUAL_UNCASED.folder: BertFiles(105879, "zh"),  # google-bert/bert-base-multilingual-uncased
    JAPANESE_V3.folder: BertFiles(32768, "jp"),  # tohoku-nlp/bert-base-japanese-v3
    KOREAN_KYKIM.folder: BertFiles(42000, "kr"),  # kykim/bert-kor-base
}
BERT_DATA = Path(__file__).resolve().parents[1] / "tests" / "text" / "data"


def bert_config(vocab_size: int, layers: int = 12, intermediate: int = 3072) -> dict:
    """A BERT-base config.json (the published files' fields) of this vocabulary and depth."""
    return {"architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": vocab_size,
            "hidden_size": 768, "num_hidden_layers": layers, "num_attention_heads": 12,
            "intermediate_size": intermediate, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 2,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
            "position_embedding_type": "absolute"}  # fmt: skip


def padded_vocab(tokens: list[str], size: int) -> list[str]:
    """`tokens` followed by [unusedN] tokens (N past any already there) up to `size` entries."""
    if len(tokens) > size:
        raise ValueError(f"the vocabulary has {len(tokens)} tokens, more than {size}")
    known, n, out = set(tokens), 0, list(tokens)
    while len(out) < size:
        if f"[unused{n}]" not in known:
            out.append(f"[unused{n}]")
        n += 1
    return out


def write_bert(folder: Path, seed: int = 0, layers: int = 12, model: BertModel = BERT_BASE_UNCASED) -> Path:
    """`model`'s BERT folder (bert-base-uncased by default) with random weights (torch's init, seeded) in its
    real config at `layers` layers: config.json, model.safetensors and its vocabulary files (`BertFiles`).
    For measurements of the BERT's place in the pipeline (README's placement table) and for tests, not for
    its numbers."""

    from safetensors.torch import save_file

    from openvoice_tt.bert.model import BertConfig, BertEncoder

    files = BERT_FILES[model.folder]
    config = bert_config(files.vocab_size, layers)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    if files.data is not None:
        tokens = (BERT_DATA / f"vocab_{files.data}.txt").read_text(encoding="utf-8").splitlines()
        vocab = padded_vocab(tokens, files.vocab_size)
        (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tokenizer_config = (BERT_DATA / f"tokenizer_config_{files.data}.json").read_text(encoding="utf-8")
        (folder / "tokenizer_config.json").write_text(tokenizer_config, encoding="utf-8")
    torch.manual_seed(seed)
    fields = {k: config[k] for k in BertConfig.__dataclass_fields__ if k in config}
    encoder = BertEncoder(BertConfig(**fields))
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(folder / "model.safetensors"))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--languages",
        nargs="+",
        default=["all"],
        metavar="LANGUAGE",
        help=f"languages to write MeloTTS checkpoints for: {', '.join(x.key for x in LANGUAGES)} or all (default: all)",
    )
    parser.add_argument(
        "--bert", action="store_true", help="also write each language's BERT folder (random weights, real config)"
    )
    args = parser.parse_args()
    try:
        languages = find_languages(args.languages)
    except InputError as e:
        parser.error(str(e))
    print(write_all(args.out, args.size, args.seed, languages, args.bert))


if __name__ == "__main__":
    main()
