"""BERT tokenizer casing and accents from a folder's tokenizer_config.json (Hugging Face semantics), as the
Spanish (BETO uncased: lower-case, keep accents) and French (Europeana cased: keep both) BERTs need."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from openvoice_tt.bert import BertFeatureExtractor
from openvoice_tt.bert.tokenizer import UNCASED, Casing, WordPieceTokenizer, WordTokenizer
from openvoice_tt.errors import CheckpointError
from tests.text.text_testdata import DATA

TEXTS = [
    "¿Dónde ESTÁ el niño? Ça coûte 3,50 € à l'École.",
    "Café naïve résumé façade — “quoted” ‘text’…",
    "straße ørsted ﬁnance ǅ İstanbul ÀÉÎÕÜ ñÑ",
    "tokens like 中文 and emoji 😀 #tag $5 100% a&b",
]


def test_config_settings():
    assert Casing.from_config(DATA / "tokenizer_config_es.json") == Casing(lowercase=True, strip_accents=False)
    assert Casing.from_config(DATA / "tokenizer_config_fr.json") == Casing(lowercase=False, strip_accents=False)
    assert Casing.from_config(DATA / "no_such_config.json") == UNCASED
    assert UNCASED.strips_accents and not Casing(lowercase=False).strips_accents  # None: same as lower-casing
    assert Casing(lowercase=False, strip_accents=True).strips_accents


@pytest.mark.parametrize("content", ["{not json", "[]", '{"do_lower_case": "yes"}', '{"strip_accents": 1}'])
def test_bad_configs(tmp_path, content):
    (tmp_path / "tokenizer_config.json").write_text(content, encoding="utf-8")
    with pytest.raises(CheckpointError, match="tokenizer"):
        Casing.from_config(tmp_path / "tokenizer_config.json")


@pytest.mark.parametrize("lang", ["es", "fr"])
@pytest.mark.parametrize("strip", [None, False, True])
@pytest.mark.parametrize("text", TEXTS)
def test_matches_hugging_face(lang, strip, text):
    from transformers import BertTokenizer, BertTokenizerLegacy

    vocab = str(DATA / f"vocab_{lang}.txt")
    lowercase = lang == "es"
    ours = WordPieceTokenizer(vocab, Casing(lowercase, strip))
    fast = BertTokenizer(vocab, do_lower_case=lowercase, strip_accents=strip)
    slow = BertTokenizerLegacy(vocab, do_lower_case=lowercase, strip_accents=strip)
    assert ours.tokenize(text) == fast.tokenize(text) == slow.tokenize(text)
    assert ours.encode(text) == fast.encode(text)
    words = WordTokenizer(Casing(lowercase, strip)).tokenize(text)
    assert words == slow.basic_tokenizer.tokenize(text)


def test_default_is_unchanged_bert_base_uncased():
    assert WordPieceTokenizer().casing == UNCASED
    assert WordPieceTokenizer().tokenize("Niño ÉCOLE") == ["nino", "ecole"]


def test_spanish_folder_reads_its_config_and_feeds_ja_bert(tmp_path):
    """A tiny random BERT saved as pytorch_model.bin (as the Spanish and French hub folders ship) with the
    goldens' vocabulary and BETO's tokenizer_config.json: loaded, cased as configured, and the front end's
    ja_bert is hidden_states[-3] repeated by word2ph."""
    import transformers

    from openvoice_tt.text.spanish import SpanishFrontEnd

    vocab = (DATA / "vocab_es.txt").read_text(encoding="utf-8")
    config = transformers.BertConfig(
        vocab_size=len(vocab.splitlines()),
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    reference = transformers.BertForMaskedLM(config).eval()
    reference.config.to_json_file(tmp_path / "config.json")
    torch.save(reference.state_dict(), tmp_path / "pytorch_model.bin")  # keys "bert.…", plus the MLM head
    (tmp_path / "vocab.txt").write_text(vocab, encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text(
        (DATA / "tokenizer_config_es.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    extractor = BertFeatureExtractor.from_folder(tmp_path)
    assert extractor.tokenizer.casing == Casing(lowercase=True, strip_accents=False)
    symbols = json.loads((DATA / "melo_symbols.json").read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no no-BERT warning
        fe = SpanishFrontEnd(symbols, bert=extractor, ja_bert_dim=32)
    out = fe("El NIÑO come.")
    assert out.normalized == "el niño come."
    ids = extractor.tokenizer.encode(out.normalized)
    assert len(ids) == len(out.word2ph)
    with torch.no_grad():
        states = reference(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[-3][0]
    expected = torch.cat([states[i].expand(n, -1) for i, n in enumerate(out.word2ph)]).T
    assert out.ja_bert.shape == (32, len(out.phones))
    assert (out.ja_bert - expected).abs().max() < 1e-5
    with pytest.raises(CheckpointError, match="32-wide features but ja_bert takes 768"):
        SpanishFrontEnd(symbols, bert=extractor)
