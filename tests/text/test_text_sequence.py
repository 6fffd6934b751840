from __future__ import annotations

import pytest

from openvoice_tt.errors import ConfigError
from openvoice_tt.text.sequence import assemble, intersperse
from openvoice_tt.text.symbols import SymbolTable


def test_punctuation_ids_follow_the_given_list(symbols, older_symbols):
    current, older = SymbolTable(symbols), SymbolTable(older_symbols)
    assert len(current) == len(older) == 219
    assert [current.id(p) for p in "!?,.'-"] == [208, 209, 211, 212, 213, 214]
    assert [older.id(p) for p in "!?,.'-"] == [210, 211, 213, 214, 215, 216]
    assert (current.id("¡"), current.id("¿"), older.id("¡"), older.id("¿")) == (216, 215, 115, 116)
    # English phones have the same ids in both orders (spec §4.2)
    english = {"aa": 21, "ae": 22, "ah": 23, "V": 14, "hh": 49, "zh": 112, "uw": 103, "y": 110}
    assert {p: current.id(p) for p in english} == english
    assert {p: older.id(p) for p in english} == english
    assert current.id("_") == older.id("_") == 0 and current.id("UNK") == older.id("UNK") == 218


def test_unknown_symbols_map_to_unk(symbols):
    table = SymbolTable(symbols)
    assert table.id("UW") == table.id("not a phone") == 218


def test_repeated_symbol_takes_its_last_index_like_upstream(symbols):
    assert SymbolTable([*symbols, "aa"]).id("aa") == 219


def test_list_without_english_phones_is_a_config_error(symbols):
    with pytest.raises(ConfigError, match=r"lacks symbols the English front end needs: UNK aa"):
        SymbolTable([s for s in symbols if s not in ("aa", "UNK")])
    with pytest.raises(ConfigError, match="list of strings"):
        SymbolTable("_abc")


def test_intersperse():
    assert intersperse([5, 6, 7], 0) == [0, 5, 0, 6, 0, 7, 0]
    assert intersperse([], 0) == [0]


def test_assemble_with_blanks(symbols):
    # "hi ," : two tokens, phones hh ay | ,
    seq = assemble(["hh", "ay", ","], [0, 2, 0], [2, 1], SymbolTable(symbols), add_blank=True)
    assert seq.phones == ("_", "_", "_", "hh", "_", "ay", "_", ",", "_", "_", "_")
    assert seq.phone_ids == (0, 0, 0, 49, 0, 29, 0, 211, 0, 0, 0)
    # pads get tone 0 + 7 and language 2; the interspersed blanks get 0 and 0
    assert seq.tone_ids == (0, 7, 0, 7, 0, 9, 0, 7, 0, 7, 0)
    assert seq.language_ids == (0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0)
    assert seq.word2ph == (3, 4, 2, 2)
    assert sum(seq.word2ph) == len(seq.phone_ids)


def test_assemble_without_blanks(older_symbols):
    seq = assemble(["hh", "ay", ","], [0, 2, 0], [2, 1], SymbolTable(older_symbols), add_blank=False)
    assert seq.phone_ids == (0, 49, 29, 213, 0)
    assert seq.tone_ids == (7, 7, 9, 7, 7)
    assert seq.language_ids == (2, 2, 2, 2, 2)
    assert seq.word2ph == (1, 2, 1, 1)


def test_phones_the_table_lacks_become_unk(symbols):
    # g2p_en's model can emit a bare "UW", which upstream's arpa set does not refine
    seq = assemble(["f", "UW"], [0, 0], [2], SymbolTable(symbols), add_blank=False)
    assert seq.phones == ("_", "f", "UNK", "_")
    assert seq.phone_ids == (0, 45, 218, 0)


def test_inconsistent_lengths_are_rejected(symbols):
    with pytest.raises(ValueError, match="inconsistent"):
        assemble(["a"], [0], [2], SymbolTable(symbols))
