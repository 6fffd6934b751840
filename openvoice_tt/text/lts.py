"""Letter-to-sound for out-of-vocabulary words: g2p_en's GRU seq2seq model, run in plain numpy.

MeloTTS sends words missing from CMUdict to `g2p_en.G2p`, which predicts them with a small GRU
encoder-decoder (`checkpoint20.npz`, vendored from the g2p_en 2.1.0 wheel, Apache-2.0; see
data/NOTICE). Importing g2p_en would pull in nltk and try to download corpora, so this module loads
the same weights and does the same greedy decoding itself, in float32 like the original, so the
argmax at every step (and hence the phones) is the same.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

CHECKPOINT = Path(__file__).with_name("data") / "g2p_en_checkpoint20.npz"

GRAPHEMES = ("<pad>", "<unk>", "</s>", *"abcdefghijklmnopqrstuvwxyz")
PHONEMES = (
    "<pad>", "<unk>", "<s>", "</s>",
    "AA0", "AA1", "AA2", "AE0", "AE1", "AE2", "AH0", "AH1", "AH2", "AO0", "AO1", "AO2",
    "AW0", "AW1", "AW2", "AY0", "AY1", "AY2", "B", "CH", "D", "DH",
    "EH0", "EH1", "EH2", "ER0", "ER1", "ER2", "EY0", "EY1", "EY2", "F", "G", "HH",
    "IH0", "IH1", "IH2", "IY0", "IY1", "IY2", "JH", "K", "L", "M", "N", "NG",
    "OW0", "OW1", "OW2", "OY0", "OY1", "OY2", "P", "R", "S", "SH", "T", "TH",
    "UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
"""Output classes of the model, in g2p_en's order (note the unstressed-less "UW")."""

_GRAPHEME_IDS = {g: i for i, g in enumerate(GRAPHEMES)}
_UNK_GRAPHEME, _EOS_GRAPHEME = _GRAPHEME_IDS["<unk>"], _GRAPHEME_IDS["</s>"]
_START, _END = PHONEMES.index("<s>"), PHONEMES.index("</s>")
_MAX_STEPS = 20
"""g2p_en decodes at most 20 phones; longer predictions are cut there, as upstream."""


class _Weights:
    def __init__(self, path: Path) -> None:
        import numpy as np

        with np.load(path) as z:
            w = {k: z[k] for k in z.files}
        self.enc_emb, self.dec_emb = w["enc_emb"], w["dec_emb"]
        self.enc = (w["enc_w_ih"].T, w["enc_w_hh"].T, w["enc_b_ih"], w["enc_b_hh"])
        self.dec = (w["dec_w_ih"].T, w["dec_w_hh"].T, w["dec_b_ih"], w["dec_b_hh"])
        self.fc_w, self.fc_b = w["fc_w"].T, w["fc_b"]
        self.hidden = w["enc_w_hh"].shape[1]


@cache
def _weights() -> _Weights:
    return _Weights(CHECKPOINT)


def _gru_step(x: np.ndarray, h: np.ndarray, w_ih_t, w_hh_t, b_ih, b_hh) -> np.ndarray:
    """One PyTorch-convention GRU cell step (gates ordered r, z, n)."""
    import numpy as np

    gi = x @ w_ih_t + b_ih
    gh = h @ w_hh_t + b_hh
    n_rz = 2 * h.shape[-1]
    rz = 1 / (1 + np.exp(-(gi[:, :n_rz] + gh[:, :n_rz])))
    r, z = rz[:, : h.shape[-1]], rz[:, h.shape[-1] :]
    n = np.tanh(gi[:, n_rz:] + r * gh[:, n_rz:])
    return (1 - z) * n + z * h


@lru_cache(maxsize=65536)
def predict(word: str) -> tuple[str, ...]:
    """ARPAbet phones (with stress digits) that g2p_en's model predicts for a lower-case word.

    Characters outside a-z are fed as `<unk>`, as g2p_en does (its callers strip them first).
    """
    import numpy as np

    w = _weights()
    ids = [_GRAPHEME_IDS.get(c, _UNK_GRAPHEME) for c in word] + [_EOS_GRAPHEME]
    h = np.zeros((1, w.hidden), np.float32)
    for i in ids:
        h = _gru_step(w.enc_emb[i : i + 1], h, *w.enc)
    out: list[str] = []
    prev = _START
    for _ in range(_MAX_STEPS):
        h = _gru_step(w.dec_emb[prev : prev + 1], h, *w.dec)
        prev = int((h @ w.fc_w + w.fc_b).argmax())
        if prev == _END:
            break
        out.append(PHONEMES[prev])
    return tuple(out)
