"""ttnn twin of `reference/synthesizer.py`: MeloTTS inference entirely on device.

Per text chunk the host uploads the token ids, the BERT features (or, with `use_bert`, the BERT token
ids and word2ph, and the BERT runs on the device: `tt/bert.py`), the speaker id and the SDP noise,
reads back ONE scalar (the total frame count, which sizes the frame axis and the prior noise), uploads
the prior noise, and downloads the waveform. Token and frame axes are padded to buckets
(`tt.settings.TtBuckets`) and masked, so programs are reused across utterances; the masks make a padded run
equal an exact-length one. The valid token and frame counts are uploaded too (`TtDevice.upload_count`)
and the masks built from them on the device, so a forward's op graph depends on its bucket only. The
length read splits a chunk into two forwards, `encode` (per token bucket) and `decode` (per frame
bucket), each run through `device.traces` (`traced.py`): on a chip one trace per bucket, captured and
replayed at every length in it; eager elsewhere.

Durations are `ceil`ed, so a chip's arithmetic (19-bit matrix-unit operands, README "Precision per
block") can move a token whose predicted duration lies within ~1e-3 of an integer by one frame, and
every later frame with it. The pipeline accepts that (a one-frame shift of one phoneme is inaudible);
the arithmetic after the last matrix op (exp, scale, ceil, the sum) stays float32 on the vector unit.
Checks against torch instead run the public stages (`encode_chunk`, `decode_chunk`) on the reference's own
durations (`scripts/tt_given_durations.py`: `scripts/tt_parity.py`, `scripts/tt_acceptance.py --compare`,
the tt tests) and count free-running differences separately.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from openvoice_tt.config import RELATIVE_ATTENTION_WINDOW
from openvoice_tt.errors import DeviceError
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.alignment import checked_frame_count
from openvoice_tt.reference.synthesizer import MeloSynthesizer as ReferenceMeloSynthesizer
from openvoice_tt.reference.synthesizer import SynthesisParams
from openvoice_tt.timing import NULL_TIMER, StageTimer
from openvoice_tt.tt.alignment import Alignment
from openvoice_tt.tt.attention import RelativeBands
from openvoice_tt.tt.bert import BertFeatures
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.duration_predictor import DurationPredictor
from openvoice_tt.tt.hifigan import Generator
from openvoice_tt.tt.layers import Embedding, dtype_of, in_dtype, length_mask, masked
from openvoice_tt.tt.settings import BertPrecision, MeloPrecision, TtBuckets
from openvoice_tt.tt.stochastic_duration_predictor import StochasticDurationPredictor
from openvoice_tt.tt.text_encoder import TextEncoder
from openvoice_tt.tt.transformer_flow import TransformerCouplingBlock
from openvoice_tt.tt.weights import WeightCache

NAME = "melotts"  # prefix of this model's prepared-weight names (models may share a device and cache)


@dataclass
class TextState:
    """Device tensors of one chunk after the text encoder and duration predictors."""

    padded_tokens: int
    g: Any
    m_p: Any
    logs_p: Any
    durations: Any  # [1, 1, padded_tokens, 1] float32 frames per token
    total: Any  # [1] float32 total frames


@dataclass
class EncodedChunk:
    """A chunk after `MeloSynthesizer.encode_chunk`: its device state and its valid token count."""

    state: TextState
    tokens: int


def zero_padded(values: torch.Tensor, length: int) -> torch.Tensor:
    """Zero-pad the token (or frame) axis, dim 0, to `length`."""
    out = torch.zeros((length, *values.shape[1:]), dtype=values.dtype)
    out[: values.shape[0]] = values
    return out


class MeloSynthesizer:
    def __init__(self, device: TtDevice, ref: ReferenceMeloSynthesizer, precision: MeloPrecision,
                 buckets: TtBuckets = TtBuckets()) -> None:  # fmt: skip
        self.device = device
        self.ttnn = device.ttnn
        self.config = ref.config
        self.precision = precision
        self.buckets = buckets
        self.hop = ref.config.data.hop_length
        self.inter_channels = ref.enc_p.out_channels
        self.gin = ref.emb_g.weight.shape[1]
        w = device.weights
        self.emb_g = Embedding(device, w.get(f"{NAME}.emb_g.weight", lambda: ref.emb_g.weight), precision.text_encoder)
        self.use_spk_conditioned_encoder = ref.use_spk_conditioned_encoder
        self.enc_p = TextEncoder(device, ref.enc_p, f"{NAME}.enc_p", precision.text_encoder)
        self.sdp = StochasticDurationPredictor(device, ref.sdp, f"{NAME}.sdp", precision.duration)
        self.dp = DurationPredictor(device, ref.dp, f"{NAME}.dp", precision.duration)
        self.alignment = Alignment(device, precision.duration.math)
        self.flow = TransformerCouplingBlock(device, ref.flow, f"{NAME}.flow", precision.flow)
        self.dec = Generator(device, ref.dec, f"{NAME}.dec", precision.vocoder, zero_condition=False)
        self.activations = {
            name: dtype_of(device, getattr(precision, name).activations)
            for name in ("text_encoder", "duration", "flow", "vocoder")
        }
        self.bert: BertFeatures | None = None  # `use_bert`
        self.bert_tokens: Callable[[str, Sequence[int]], list[int]] | None = None
        device.weights.save()

    def use_bert(self, extractor: Any, precision: BertPrecision = BertPrecision()) -> None:
        """From now on compute `ja_bert` on the device with `extractor`'s BERT (a `BertFeatureExtractor`):
        per chunk its token ids (tokenized on the host by `extractor.token_ids`) and word2ph go up, not the
        features. Its weights are prepared in memory (cheap: a concatenation and a fold), not cached; the
        extractor's host encoder may be released afterwards (`BertFeatureExtractor.release_encoder`)."""
        if extractor.encoder is None:
            raise RuntimeError("internal error: this BERT extractor's encoder was released; load the folder again")
        with self.device.preparing(WeightCache()):
            self.bert = BertFeatures(self.device, extractor.encoder, "bert", precision, self.buckets)
        self.bert_tokens = extractor.token_ids

    # Pure ttnn ---------------------------------------------------------------------------------------

    def encode(
        self,
        phones: Any,
        tones: Any,
        languages: Any,
        ja_bert: Any,
        speaker: Any,
        sdp_noise: Any,
        tokens: Any,
        padded: int,
        params: SynthesisParams,
        timer: StageTimer = NULL_TIMER,
    ) -> TextState:
        """Text encoder, both duration predictors and the durations (up to the one length read); `tokens`
        is the valid token count as a device count (`TtDevice.upload_count`), `padded` its bucket."""
        ttnn = self.ttnn
        with timer("text_encoder"):
            g = self.emb_g(speaker)  # [1, 1, 1, gin]
            mask = length_mask(self.device, tokens, padded, self.activations["text_encoder"])
            bands = RelativeBands(
                self.device, padded, RELATIVE_ATTENTION_WINDOW, mask, self.activations["text_encoder"]
            )
            h, m_p, logs_p = self.enc_p(
                phones, tones, languages, ja_bert, padded, bands, g if self.use_spk_conditioned_encoder else None
            )
        with timer("duration"):
            mask = in_dtype(ttnn, mask, self.activations["duration"])
            logw_sdp = self.sdp(h, padded, mask, g, ttnn.multiply(sdp_noise, params.noise_scale_w))
            logw_dp = self.dp(h, padded, mask, g)
            logw = ttnn.add(ttnn.multiply(logw_sdp, params.sdp_ratio), ttnn.multiply(logw_dp, 1 - params.sdp_ratio))
            durations = self.alignment.durations(logw, mask, params.length_scale)
            total = self.alignment.total(durations)
        return TextState(padded, g, m_p, logs_p, durations, total)

    def decode(
        self,
        state: TextState,
        frames: Any,
        padded_frames: int,
        prior_noise: Any,
        params: SynthesisParams,
        timer: StageTimer = NULL_TIMER,
    ) -> Any:
        """Alignment, prior sampling, flow (reverse) and vocoder -> waveform [1, 1, padded_frames * hop, 1]
        (zero past `frames * hop`; `frames` a device count, `padded_frames` its bucket)."""
        ttnn = self.ttnn
        with timer("alignment"):
            path = self.alignment.path(state.durations, padded_frames)
            m_p = self.alignment.expand(state.m_p, path)
            logs_p = self.alignment.expand(state.logs_p, path)
            y_mask = length_mask(self.device, frames, padded_frames, self.activations["flow"])
        with timer("flow"):
            z_p = ttnn.add(m_p, ttnn.multiply(ttnn.multiply(prior_noise, ttnn.exp(logs_p)), params.noise_scale))
            z_p = ttnn.typecast(masked(ttnn, z_p, y_mask), self.activations["flow"])
            bands = RelativeBands(
                self.device, padded_frames, RELATIVE_ATTENTION_WINDOW, y_mask, self.activations["flow"]
            )
            z = self.flow.reverse(z_p, padded_frames, bands, state.g)
        with timer("vocoder"):
            z = ttnn.typecast(masked(ttnn, z, y_mask), self.activations["vocoder"])
            wave, _ = self.dec(z, padded_frames, state.g, valid=frames)
        return wave

    # Host boundary -----------------------------------------------------------------------------------
    # A chunk runs in three public stages, `encode_chunk` -> `chunk_frames` (the one length read) ->
    # `decode_chunk`, which `synthesize_on_device` composes; a comparison with torch composes them with the
    # reference's durations in place of the length read (`scripts/tt_given_durations.py`).

    def upload_text(
        self, inputs, speaker_id: int, noise: NoiseSource, timer: StageTimer = NULL_TIMER
    ) -> tuple[list[Any], int, int]:
        device, ttnn = self.device, self.ttnn
        tokens = int(inputs.phone_ids.shape[0])
        padded = self.buckets.tokens(tokens)
        ids = [
            device.upload(zero_padded(t.float(), padded).reshape(1, 1, padded, 1), ttnn.float32, name)
            for t, name in (
                (inputs.phone_ids, "phone_ids"),
                (inputs.tone_ids, "tone_ids"),
                (inputs.language_ids, "language_ids"),
            )
        ]
        if self.bert is not None:
            ja_bert = self.bert_on_device(inputs, padded, timer)
        else:
            ja_bert = device.upload(
                zero_padded(inputs.ja_bert.t(), padded).reshape(1, 1, padded, -1),
                self.activations["text_encoder"],
                "ja_bert",
            )
        speaker = device.upload(torch.tensor([[[[float(speaker_id)]]]]), ttnn.float32, "speaker_id")
        sdp_noise = noise.normal(1, 2, tokens)[0].t()
        sdp = device.upload(
            zero_padded(sdp_noise, padded).reshape(1, 1, padded, 2), self.activations["duration"], "sdp_noise"
        )
        return [*ids, ja_bert, speaker, sdp, device.upload_count(tokens, "valid_tokens")], tokens, padded

    def bert_on_device(self, inputs, padded: int, timer: StageTimer = NULL_TIMER) -> Any:
        """The chunk's `ja_bert` [1, 1, padded, 768] computed on the device (`use_bert`): its BERT token ids,
        valid count and phone index go up, the BERT and the word2ph expansion run (traced per token and
        phone bucket, timed as "bert"), and the result is staged into its slot, so the traced `encode`
        reads the same buffer every time."""
        assert self.bert is not None and self.bert_tokens is not None
        ids = self.bert_tokens(inputs.normalized, inputs.word2ph)
        *uploaded, padded_ids = self.bert.upload(ids, inputs.word2ph, padded)
        self.device.use_shape(("bert.tokens", padded_ids, padded))
        with timer("bert"):
            out = self.device.traces.run(
                "bert", (padded_ids, padded), uploaded, lambda *tensors: self.bert(*tensors, padded_ids)
            )
            return self.device.stage(in_dtype(self.ttnn, out, self.activations["text_encoder"]), "ja_bert")

    def encode_chunk(
        self, inputs, speaker_id: int, params: SynthesisParams, noise: NoiseSource, timer: StageTimer = NULL_TIMER
    ) -> EncodedChunk:
        """Upload one chunk's text inputs and SDP noise, and run `encode` (traced per token bucket)."""
        uploaded, tokens, padded = self.upload_text(inputs, speaker_id, noise, timer)
        self.device.use_shape(("melotts.tokens", padded))
        state = self.device.traces.run(
            "melotts.encode", (padded, params), uploaded, lambda *tensors: self.encode(*tensors, padded, params, timer)
        )
        return EncodedChunk(state, tokens)

    def chunk_frames(self, chunk: EncodedChunk) -> int:
        """The chunk's frame count: the one scalar read back from the device (bounded per token)."""
        return checked_frame_count(self.device.read_scalar(chunk.state.total, "frames"), chunk.tokens)

    def decode_chunk(
        self,
        chunk: EncodedChunk,
        frames: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> tuple[Any, int, int]:
        """Upload the prior noise and run `decode` (traced per token and frame bucket) on `chunk`'s durations
        -> (waveform [1, 1, samples, 1] left on the device, samples, frames)."""
        device, ttnn = self.device, self.ttnn
        state, padded = chunk.state, chunk.state.padded_tokens
        padded_frames = self.buckets.frames(frames)
        device.use_shape(("melotts.frames", padded_frames))
        prior = noise.normal(1, self.inter_channels, frames)[0].t()
        prior_noise = device.upload(
            zero_padded(prior, padded_frames).reshape(1, 1, padded_frames, -1), self.activations["flow"], "prior_noise"
        )

        valid = device.upload_count(frames, "valid_frames")

        def decode(g: Any, m_p: Any, logs_p: Any, durations: Any, prior_noise: Any, valid: Any) -> Any:
            text = TextState(padded, g, m_p, logs_p, durations, None)
            return self.decode(text, valid, padded_frames, prior_noise, params, timer)

        inputs = (state.g, state.m_p, state.logs_p, state.durations, prior_noise, valid)
        wave = device.traces.run("melotts.decode", (padded, padded_frames, params), inputs, decode)
        samples = frames * self.hop
        if samples < wave.shape[2]:  # a copy: the next replay of this bucket's trace overwrites `wave`
            wave = ttnn.slice(wave, [0, 0, 0, 0], [1, 1, samples, 1])
        elif device.traces.enabled:
            wave = ttnn.clone(wave)
        return wave, samples, frames

    def synthesize_on_device(
        self,
        inputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
        durations: bool = False,
    ) -> tuple[Any, int, int, torch.Tensor | None]:
        """One chunk -> (waveform [1, 1, samples, 1] left on the device, samples, frames, durations). With
        `durations` (word timings only: one extra download of the padded tokens' float32 durations) the
        chunk's frames per token (int64 [tokens]), else None: the default path never reads them."""
        chunk = self.encode_chunk(inputs, speaker_id, params, noise, timer)
        frames = self.chunk_frames(chunk)
        per_token = None
        if durations:
            per_token = self.device.download(chunk.state.durations, "durations").reshape(-1)[: chunk.tokens]
        wave, samples, frames = self.decode_chunk(chunk, frames, params, noise, timer)
        if per_token is None:
            return wave, samples, frames, None
        counts = per_token.round().long()
        if int(counts.sum()) != frames:  # the words' spans would not be the audio's: say so, never shift them
            raise DeviceError(
                f"the chunk's durations add up to {int(counts.sum())} frames, not the {frames} the device decoded"
            )
        return wave, samples, frames, counts

    def synthesize(
        self,
        inputs,
        speaker_id: int,
        params: SynthesisParams,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> tuple[torch.Tensor, int]:
        """One chunk -> (waveform [frames * hop] on the host, frames)."""
        wave, samples, frames, _ = self.synthesize_on_device(inputs, speaker_id, params, noise, timer)
        return self.download_wave(wave, samples), frames

    def download_wave(self, wave: Any, samples: int) -> torch.Tensor:
        """A waveform `synthesize_on_device` left on the device -> its `samples` on the host."""
        return self.device.download(wave, "waveform").reshape(-1)[:samples]
