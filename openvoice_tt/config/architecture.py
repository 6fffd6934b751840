"""The fixed numbers of upstream's networks that no `config.json` carries (spec §3.1, §4.3).

Upstream writes these into its code (layer counts, kernel sizes, the English front end's tone and language
ids); they are the same for every official checkpoint, so they are constants here rather than config fields,
shared by `reference/` and `tt/` so that the two backends cannot disagree. The checkpoint shapes that follow
from them are checked at load time (`checkpoints.py`).
"""

from __future__ import annotations

# The English MeloTTS front end (spec §4.3).
ENGLISH_TONE_START = 7
ENGLISH_LANGUAGE_ID = 2

# Structure fixed in upstream's model code, the same for every official checkpoint (spec §3.1, §3.3-§3.5).
RELATIVE_ATTENTION_WINDOW = 4
ENCODER_COND_LAYER_INDEX = 2
SDP_FLOWS = 4
SDP_NUM_BINS = 10
SDP_TAIL_BOUND = 5.0
DP_FILTER_CHANNELS = 256
FLOW_KERNEL_SIZE = 5
FLOW_COUPLING_LAYERS = 4
CONVERTER_FLOW_WN_LAYERS = 4
POSTERIOR_WN_LAYERS = 16
POSTERIOR_KERNEL_SIZE = 5
REFERENCE_ENCODER_FILTERS = (32, 32, 64, 64, 128, 128)
REFERENCE_ENCODER_GRU_SIZE = 128
TONE_COLOR_EMBEDDING_SHAPE = (1, 256, 1)
