from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvoice_tt.bert import WordPieceTokenizer
from openvoice_tt.bert.tokenizer import DEFAULT_VOCAB
from openvoice_tt.errors import CheckpointError

REALISTIC = [
    "Hello world, this is OpenVoice cloning tortellini.",
    "hello world, this is open voice cloning tortellini.",
    "I can't believe it's not butter; don't you agree?",
    "Café naïve résumé façade — “quoted” ‘text’…",
    "tokens like 中文 and 日本語 and 한국어 mix in",
    "emoji 😀 👍🏽 and symbols © ® ™ ½ ² € £ ¥ $ % & # @ ^ ~ ` | \\ / < > { } [ ] ( ) = + * _",
    "supercalifragilisticexpialidocious " + "x" * 120,
    "straße ørsted ﬁnance ǅ İstanbul",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2009thin",
    "",
    "   ",
]


def test_vendored_vocab_is_bert_base_uncased():
    assert hashlib.sha256(DEFAULT_VOCAB.read_bytes()).hexdigest() == (
        "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
    )
    tok = WordPieceTokenizer()
    assert len(tok) == 30522
    assert (tok.vocab["[PAD]"], tok.unk_id, tok.cls_id, tok.sep_id, tok.vocab["[MASK]"]) == (0, 100, 101, 102, 103)


def test_known_tokenization():
    tok = WordPieceTokenizer()
    text = "Hello world, this is OpenVoice cloning tortellini."
    assert " ".join(tok.tokenize(text)) == "hello world , this is open ##vo ##ice cl ##oning tor ##tell ##ini ."
    assert tok.encode("Hello world.") == [101, 7592, 2088, 1012, 102]


@pytest.mark.parametrize("text", REALISTIC)
def test_matches_reference_tokenizers(text, reference_tokenizer, minilm_dir):
    from transformers import BertTokenizerLegacy  # the pure-Python implementation

    legacy = BertTokenizerLegacy(str(minilm_dir / "vocab.txt"), do_lower_case=True)
    tok = WordPieceTokenizer()
    assert tok.tokenize(text) == reference_tokenizer.tokenize(text) == legacy.tokenize(text)
    assert tok.encode(text) == reference_tokenizer.encode(text) == legacy.encode(text)


TOKENIZER = WordPieceTokenizer()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_matches_upstream_tokenizer_on_any_unicode(reference_tokenizer, text):
    assert TOKENIZER.encode(text) == reference_tokenizer.encode(text)


def test_lone_surrogates_are_dropped():
    # the reference tokenizer raises TypeError on them; normalize_text drops them before we get here anyway
    tok = WordPieceTokenizer()
    assert tok.tokenize("a\ud800b \udfffc") == tok.tokenize("ab c") == ["ab", "c"]


def test_vocab_file_from_a_folder(minilm_dir):
    assert WordPieceTokenizer(minilm_dir / "vocab.txt").tokenize("Open voice") == ["open", "voice"]


def test_bad_vocab_files(tmp_path):
    with pytest.raises(CheckpointError, match="cannot read the BERT vocabulary"):
        WordPieceTokenizer(tmp_path / "missing.txt")
    (tmp_path / "vocab.txt").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"not a BERT vocabulary \(no \[CLS\], \[SEP\], \[UNK\]\)"):
        WordPieceTokenizer(tmp_path / "vocab.txt")
