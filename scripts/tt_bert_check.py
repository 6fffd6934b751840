#!/usr/bin/env python3
"""Run the ttnn prosody BERT (`openvoice_tt/tt/bert.py`) on a device and print one JSON report.

A BERT-base of the given vocabulary with random weights (the host `BertEncoder`, seeded), holding the
layers MeloTTS reads (`--layers`, default 10 of 12: hidden_states[-3]), runs a random token sequence with
a random word2ph through `BertFeatures` (ids, valid count and phone index uploaded; the encoder and the
expansion on the device). The report holds the op graph of the forward ((op, output shape) in order), the
compute configs and the transfers; on the emulation (or a chip) also the PCC and max abs error against the
host BERT's last hidden state expanded by word2ph. A mock device validates every op and computes nothing,
so tests compare its op graph with the emulation's (tests/tt/test_bert.py).

Usage: python scripts/tt_bert_check.py --device emulation|emulation:exact|mock:wormhole_n150|mock:blackhole_p150
           [--vocab 30522] [--layers 10] [--tokens 24] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openvoice_tt.languages import find_language
from scripts.make_test_checkpoints import BERT_FILES

# The six BERTs MeloTTS takes prosody features from, by the language that reads with each (their published
# configs: all BERT-base, hidden 768, 12 heads, 12 layers, intermediate 3072, 512 positions, 2 token types;
# only the vocabulary differs): the sizes `make_test_checkpoints.py --bert` writes.
VOCAB_SIZES = {
    code: BERT_FILES[find_language(code).model.bert.folder].vocab_size for code in ("EN", "ES", "FR", "ZH", "JP", "KR")
}
LAYERS = 10  # hidden_states[-3] of 12 layers: the host extractor loads the first 10 (bert/features.py)


def random_bert(vocab: int, layers: int = LAYERS, seed: int = 0):
    """A BERT-base of this vocabulary holding its first `layers` layers, random weights (torch's init), seeded."""
    import torch

    from openvoice_tt.bert.model import BertConfig, BertEncoder

    torch.manual_seed(seed)
    return BertEncoder(BertConfig(vocab, 768, 12, 12, 3072), num_layers=layers).eval()


def random_text(vocab: int, tokens: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """(token ids, word2ph): random ids, 1 to 4 phones per token."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (tokens,), generator=generator).tolist()
    return ids, torch.randint(1, 5, (tokens,), generator=generator).tolist()


def check(device, ref, ids: list[int], word2ph: list[int], compare_values: bool = True) -> dict:
    """Run `BertFeatures` on `device` and report its op graph, compute configs and transfers; with
    `compare_values`, the PCC and max abs error against the host BERT (and the largest padded row value)."""
    import torch

    from openvoice_tt.tt.bert import BertFeatures
    from openvoice_tt.tt.settings import TtBuckets
    from scripts.tt_parity import compare

    phones = sum(word2ph)
    features = BertFeatures(device, ref, "bert")
    inputs = features.upload(ids, word2ph, TtBuckets().tokens(phones))
    trace = device.ttnn
    trace.calls.clear()
    trace.compute_configs.clear()
    trace.recording = True
    out = features(*inputs)
    trace.recording = False
    report = {
        "ops": list(trace.calls),
        "compute_configs": list(trace.compute_configs),
        "transfers": device.transfers.summary(),
        "padded_tokens": inputs[3],
    }
    if compare_values:
        with torch.inference_mode():
            states = ref(torch.tensor([ids]))
        expected = states[-1][0].repeat_interleave(torch.tensor(word2ph), dim=0)
        got = device.download(out, "ja_bert")[0, 0]
        agreement = compare(expected, got[:phones])
        padding = float(got[phones:].abs().max()) if got.shape[0] > phones else 0.0
        report |= {"pcc": agreement.pcc, "max_abs": agreement.max_abs, "padding_max": padding}
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="emulation")
    parser.add_argument("--vocab", type=int, default=VOCAB_SIZES["EN"])
    parser.add_argument("--layers", type=int, default=LAYERS)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from openvoice_tt.tt.device_choice import parse_device_choice

    choice = parse_device_choice(args.device)
    if choice.kind == "mock":  # before ttnn is imported
        from openvoice_tt.tt.device import configure_mock

        configure_mock(choice.variant or "")

    from openvoice_tt.tt.device import open_device

    ref = random_bert(args.vocab, args.layers, args.seed)
    ids, word2ph = random_text(args.vocab, args.tokens, args.seed)
    device = open_device(choice)
    try:  # a mock device computes nothing: its graph only
        report = {"device": str(choice), **check(device, ref, ids, word2ph, compare_values=choice.kind != "mock")}
    finally:
        device.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
