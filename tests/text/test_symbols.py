"""The symbol list the package ships (for `phonemes` without a checkpoint) is upstream's, as the goldens."""

from openvoice_tt.text.symbols import upstream_symbols


def test_the_bundled_symbol_list_is_upstreams(symbols: list[str]) -> None:
    assert len(symbols) == 219
    assert upstream_symbols() == tuple(symbols)
