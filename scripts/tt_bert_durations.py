#!/usr/bin/env python3
"""How the device BERT's precision moves MeloTTS's durations (README "BERT on the device").

On full-size checkpoints with a random full-size bert-base-uncased (both written here unless DIR has
them), the ttnn synthesizer on the faithful emulation predicts each sentence's durations twice per BERT
precision: from the host BERT's features (uploaded) and from the device BERT's (`use_bert`). Prints one
JSON line per sentence and precision: the tokens, how many durations differ and by how many frames at
most, and the device features' PCC against the host's.

Usage: python scripts/tt_bert_durations.py [DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "With prosody features, a sentence reads better when it is longer than a few words.",
)


def main() -> None:
    import tempfile

    from openvoice_tt.bert.features import BertFeatureExtractor
    from openvoice_tt.layout import BERT_DIR
    from openvoice_tt.noise import NoiseSource
    from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer
    from openvoice_tt.text import EnglishFrontEnd
    from openvoice_tt.tt.device import open_emulated_device
    from openvoice_tt.tt.settings import FP32, HIFI2_BFP8, BertPrecision, MeloPrecision
    from openvoice_tt.tt.synthesizer import MeloSynthesizer
    from scripts.make_test_checkpoints import write_all, write_bert
    from scripts.tt_parity import compare

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="bert-durations-"))
    if not (root / "melotts-english").is_dir():
        write_all(root, "full", seed=0)
    if not (root / BERT_DIR).is_dir():
        write_bert(root / BERT_DIR)
    extractor = BertFeatureExtractor.from_folder(root / BERT_DIR)
    ref = load_melo_synthesizer(root / "melotts-english" / "config.json", root / "melotts-english" / "checkpoint.pth")
    front_end = EnglishFrontEnd(ref.config.symbols, bert=extractor)
    device = open_emulated_device("faithful")
    model = MeloSynthesizer(device, ref, MeloPrecision())

    def durations(inputs):
        chunk = model.encode_chunk(inputs, 0, SynthesisParams(), NoiseSource(3))
        return device.download(chunk.state.durations, "durations").reshape(-1)[: chunk.tokens]

    candidates = {"shipped": BertPrecision(), "bfp8 / HiFi2 layers": BertPrecision(FP32, HIFI2_BFP8, FP32)}
    for text in SENTENCES:
        inputs = front_end(text)
        model.bert = None  # the host BERT's features, uploaded
        host = durations(inputs)
        for name, precision in candidates.items():
            model.use_bert(extractor, precision)
            moved = durations(inputs)
            ids = extractor.token_ids(inputs.normalized, inputs.word2ph)
            uploaded = model.bert.upload(ids, inputs.word2ph, model.buckets.tokens(len(inputs.phone_ids)))
            features = device.download(model.bert(*uploaded), "ja_bert")[0, 0, : len(inputs.phone_ids)]
            agreement = compare(inputs.ja_bert.t(), features)
            report = {
                "text": text,
                "precision": name,
                "tokens": len(host),
                "durations_differing": int((moved != host).sum()),
                "largest_difference_frames": float((moved - host).abs().max()),
                "features_pcc": agreement.pcc,
                "features_max_abs": agreement.max_abs,
            }
            print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
