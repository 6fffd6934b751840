"""Typed, validated views of the two official `config.json` files, the fixed architecture constants and
the inference defaults: what the low layers (text, reference, checkpoints) need to know about a model.

One concern per module, re-exported here so `from openvoice_tt.config import X` names them all:
  architecture.py  numbers fixed in upstream's code (layer counts, kernel sizes, English tone/language ids)
  defaults.py      the values a user gets without asking (upstream's synthesis and conversion defaults)
  parsing.py       JSON object -> frozen dataclass, with the field path in every error
  sections.py      the sections both configs share (audio settings, HiFi-GAN generator)
  melo.py          the MeloTTS config (table sizes cross-checked with the checkpoint)
  converter.py     the tone-color converter config

Not here, because they belong to the layers that use them: the ttnn precision, length buckets and trace
settings (`openvoice_tt.tt.settings`; config sits below tt and must not import it) and the conversion and
streaming chunking policy (`openvoice_tt.chunking`).
"""

from openvoice_tt.config.architecture import (
    CONVERTER_FLOW_WN_LAYERS,
    DP_FILTER_CHANNELS,
    ENCODER_COND_LAYER_INDEX,
    ENGLISH_LANGUAGE_ID,
    ENGLISH_TONE_START,
    FLOW_COUPLING_LAYERS,
    FLOW_KERNEL_SIZE,
    POSTERIOR_KERNEL_SIZE,
    POSTERIOR_WN_LAYERS,
    REFERENCE_ENCODER_FILTERS,
    REFERENCE_ENCODER_GRU_SIZE,
    RELATIVE_ATTENTION_WINDOW,
    SDP_FLOWS,
    SDP_NUM_BINS,
    SDP_TAIL_BOUND,
    TONE_COLOR_EMBEDDING_SHAPE,
)
from openvoice_tt.config.converter import ConverterConfig, ConverterDataConfig, ConverterModelConfig
from openvoice_tt.config.defaults import ConversionDefaults, SynthesisDefaults
from openvoice_tt.config.melo import MeloConfig, MeloDataConfig, MeloModelConfig
from openvoice_tt.config.parsing import parse_dataclass, read_json
from openvoice_tt.config.sections import AudioConfig, GeneratorConfig

__all__ = [
    "CONVERTER_FLOW_WN_LAYERS",
    "DP_FILTER_CHANNELS",
    "ENCODER_COND_LAYER_INDEX",
    "ENGLISH_LANGUAGE_ID",
    "ENGLISH_TONE_START",
    "FLOW_COUPLING_LAYERS",
    "FLOW_KERNEL_SIZE",
    "POSTERIOR_KERNEL_SIZE",
    "POSTERIOR_WN_LAYERS",
    "REFERENCE_ENCODER_FILTERS",
    "REFERENCE_ENCODER_GRU_SIZE",
    "RELATIVE_ATTENTION_WINDOW",
    "SDP_FLOWS",
    "SDP_NUM_BINS",
    "SDP_TAIL_BOUND",
    "TONE_COLOR_EMBEDDING_SHAPE",
    "AudioConfig",
    "ConversionDefaults",
    "ConverterConfig",
    "ConverterDataConfig",
    "ConverterModelConfig",
    "GeneratorConfig",
    "MeloConfig",
    "MeloDataConfig",
    "MeloModelConfig",
    "SynthesisDefaults",
    "parse_dataclass",
    "read_json",
]
