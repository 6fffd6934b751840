"""The Python API: load the models once, then synthesize, convert and clone as often as you like.

    from openvoice_tt.api import TTS, ToneColorConverter, VoiceCloner

    cloner = VoiceCloner("checkpoints", device="cpu")
    speech = cloner.clone("Hello there.", reference=["me.wav"], seed=1)
    speech.save("hello.wav")

`TTS` is one MeloTTS language (text -> 44.1 kHz speech; `language="ES"`, default English),
`ToneColorConverter` the OpenVoice V2 converter (speaker
embeddings; speech -> 22.05 kHz speech with another timbre) and `VoiceCloner` the V2 demo flow of spec §3.6
(synthesize with a base speaker, resample in memory, convert to the reference's tone color).

Nothing here prints. Notices (no BERT model, a short reference, a skipped unspeakable chunk) are Python
warnings, which the CLI renders as one-line notes; every failure a user can cause is an
`openvoice_tt.errors.OpenVoiceError` with a one-line message. The compute backend (torch CPU/CUDA or ttnn)
is chosen by `device` and is invisible above `openvoice_tt.backends`.

Every name is importable from here; each lives in the module of its concern:

    speech.py         Speech (what every call returns), Progress, PathLike
    validation.py     request checks before any model loads: check_request, check_text, synthesis_params,
                      base_speakers; the defaults (SYNTHESIS, CONVERSION, DEFAULT_SEED, ...)
    pronunciation.py  load_lexicon, phonemes (the front end's reading of text, no model)
    device.py         resolve_device, resolve_replicas, resolve_precision, silenced_native_output, stage_timer
    tts.py            TTS (one language's MeloTTS checkpoint)
    voices.py         BaseSpeaker, installed_languages, installed_speakers, require_speakers,
                      find_base_speaker, find_speaker, detect_language (openvoice_tt.detection)
    pool.py           TTSPool (one lazily loaded TTS per language, kept: the server's and batch's)
    embeddings.py     load_se, save_se, EmbeddingCache, default_cache_dir
    mix.py            voice mixes: parse_mix, split_mix, load_mix, mix_embeddings, VoiceMix, MixPart,
                      MAX_MIX_VOICES
    converter.py      ToneColorConverter
    cloner.py         VoiceCloner, clone_phases
    replicas.py       Replica, load_replicas (one per chip or GPU: --devices), spread (items over replicas)
    tt_placement.py   placement, Placement (the ttnn diagnostic, the one part that looks inside a backend)

Where the checkpoint files are (checkpoint_dir, MELO_DIR, speaker_key, ...) is `openvoice_tt.layout`'s to
know; those names are re-exported here as they always were.
"""

from openvoice_tt.api.cloner import VoiceCloner, clone_phases
from openvoice_tt.api.converter import ToneColorConverter
from openvoice_tt.api.device import resolve_device, resolve_precision, resolve_replicas, silenced_native_output
from openvoice_tt.api.embeddings import (
    SE_CACHE_ENV,
    SE_CACHE_VERSION,
    EmbeddingCache,
    default_cache_dir,
    load_se,
    save_se,
)
from openvoice_tt.api.mix import MAX_MIX_VOICES, MixPart, VoiceMix, load_mix, mix_embeddings, parse_mix, split_mix
from openvoice_tt.api.pool import TTSPool
from openvoice_tt.api.pronunciation import load_lexicon, phonemes
from openvoice_tt.api.replicas import Replica, load_replicas, spread
from openvoice_tt.api.speech import PathLike, Progress, Speech
from openvoice_tt.api.tt_placement import Placement, placement
from openvoice_tt.api.tts import TTS
from openvoice_tt.api.validation import (
    CONVERSION,
    DEFAULT_SEED,
    MAX_SEED,
    SEGMENTATION_METHODS,
    SPEED_RANGE,
    SYNTHESIS,
    base_speakers,
    check_request,
    check_text,
    synthesis_params,
)
from openvoice_tt.api.voices import (
    BaseSpeaker,
    detect_language,
    find_base_speaker,
    find_speaker,
    installed_languages,
    installed_speakers,
    require_speakers,
)
from openvoice_tt.layout import (
    BERT_DIR,
    CONVERTER_DIR,
    DEFAULT_CHECKPOINTS,
    HOME_ENV,
    MELO_DIR,
    SES_DIR,
    checkpoint_dir,
    existing_checkpoint_dir,
    require_files,
    speaker_key,
)
from openvoice_tt.word_timings import PhoneTiming, WordTiming

__all__ = [
    "BERT_DIR",
    "CONVERSION",
    "CONVERTER_DIR",
    "DEFAULT_CHECKPOINTS",
    "DEFAULT_SEED",
    "HOME_ENV",
    "MAX_MIX_VOICES",
    "MAX_SEED",
    "MELO_DIR",
    "SEGMENTATION_METHODS",
    "SES_DIR",
    "SE_CACHE_ENV",
    "SE_CACHE_VERSION",
    "SPEED_RANGE",
    "SYNTHESIS",
    "TTS",
    "BaseSpeaker",
    "EmbeddingCache",
    "MixPart",
    "PathLike",
    "PhoneTiming",
    "Placement",
    "Progress",
    "Replica",
    "Speech",
    "TTSPool",
    "ToneColorConverter",
    "VoiceCloner",
    "VoiceMix",
    "WordTiming",
    "base_speakers",
    "check_request",
    "check_text",
    "checkpoint_dir",
    "clone_phases",
    "default_cache_dir",
    "detect_language",
    "existing_checkpoint_dir",
    "find_base_speaker",
    "find_speaker",
    "installed_languages",
    "installed_speakers",
    "load_lexicon",
    "load_mix",
    "load_replicas",
    "load_se",
    "mix_embeddings",
    "parse_mix",
    "phonemes",
    "placement",
    "require_files",
    "require_speakers",
    "resolve_device",
    "resolve_precision",
    "resolve_replicas",
    "save_se",
    "silenced_native_output",
    "speaker_key",
    "split_mix",
    "spread",
    "synthesis_params",
]
