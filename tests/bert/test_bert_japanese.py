"""The Japanese BERT tokenizer (bert-base-japanese-v3: MeCab with unidic-lite, then WordPiece) against
Hugging Face's BertJapaneseTokenizer on the goldens' synthetic vocabulary with the hub's settings
(tests/text/data/tokenizer_config_jp.json), its choice by BertFeatureExtractor.from_folder, and the
Japanese front end's ja_bert from such a folder."""

from __future__ import annotations

import importlib.util
import json
import warnings

import pytest
import torch

from openvoice_tt.bert import BertFeatureExtractor
from openvoice_tt.bert.mecab import MecabWordPieceTokenizer, MecabWordTokenizer
from openvoice_tt.bert.tokenizer import WordPieceTokenizer
from openvoice_tt.bert.tokenizer_config import load_tokenizer
from openvoice_tt.errors import CheckpointError
from tests.require import require
from tests.text.text_testdata import DATA, load_json

VOCAB = DATA / "vocab_jp.txt"
CONFIG = DATA / "tokenizer_config_jp.json"

EXTRA = [
    "Ｈｅｌｌｏ　ｗｏｒｌｄ！ 123 ＡＢＣ",
    "😀テスト🐱ネコ",
    "a\u0301 e\u0301",
    "コーヒー" * 40,
    "ア" * 150,
    "東京都渋谷区 に 住んで いる",
    "[CLS] テスト [SEP]",
    "\u3099\u309a",
    "ｶﾞｷﾞｸﾞ・ヷヸ",
    " \t\n ",
    "",
]


@pytest.fixture(scope="module")
def hugging_face():
    require(
        importlib.util.find_spec("fugashi") is not None,
        "fugashi is not installed (transformers' MeCab word splitter, the reference here): pip install fugashi",
    )
    from transformers import BertJapaneseTokenizer

    settings = json.loads(CONFIG.read_text(encoding="utf-8"))
    return BertJapaneseTokenizer(
        vocab_file=str(VOCAB),
        do_lower_case=settings["do_lower_case"],
        word_tokenizer_type=settings["word_tokenizer_type"],
        subword_tokenizer_type=settings["subword_tokenizer_type"],
        mecab_kwargs=settings["mecab_kwargs"],
    )


def texts() -> list[str]:
    golden = load_json("golden_jp.json")
    return [c["normalized"] for c in golden] + [c["text"] for c in golden] + EXTRA


def test_config_picks_mecab_wordpiece():
    tok = load_tokenizer(VOCAB, CONFIG)
    assert isinstance(tok, MecabWordPieceTokenizer)
    assert tok.lowercase is False and len(tok) == len(VOCAB.read_text(encoding="utf-8").splitlines())


def test_matches_hugging_face_token_for_token(hugging_face):
    ours = load_tokenizer(VOCAB, CONFIG)
    differ = [t for t in texts() if ours.tokenize(t) != hugging_face.tokenize(t)]
    assert differ == []
    assert [ours.encode(t) for t in texts()] == [hugging_face(t)["input_ids"] for t in texts()]


def test_pieces_cover_their_text():
    tok = load_tokenizer(VOCAB, CONFIG)
    pieces = tok.pieces("アリガトウゴザイマシタ")
    assert pieces == [("アリガトウ", "アリガトウ"), ("##ゴザイマシタ", "ゴザイマシタ")]
    assert tok.pieces("😀ネコ")[0] == ("[UNK]", "😀")


def test_lower_casing_when_configured(tmp_path, hugging_face):
    config = json.loads(CONFIG.read_text(encoding="utf-8")) | {"do_lower_case": True}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    tok = load_tokenizer(VOCAB, tmp_path / "tokenizer_config.json")
    assert tok.lowercase is True
    assert tok.tokenize("ABC") == load_tokenizer(VOCAB, CONFIG).tokenize("abc")


def test_word_tokenizer_gives_mecabs_words(hugging_face):
    words = MecabWordTokenizer()
    for text in texts():
        assert words.tokenize(text) == [
            "[UNK]" if len(w) > 100 else w for w in hugging_face.word_tokenizer.tokenize(text)
        ], text


def test_other_configs_keep_plain_wordpiece():
    assert isinstance(load_tokenizer(DATA / "vocab_es.txt", DATA / "tokenizer_config_es.json"), WordPieceTokenizer)
    assert isinstance(load_tokenizer(None, DATA / "no_such_config.json"), WordPieceTokenizer)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"word_tokenizer_type": "mecab", "subword_tokenizer_type": "character"}, "not supported"),
        ({"word_tokenizer_type": "sudachi"}, "not supported"),
        ({"word_tokenizer_type": "mecab", "mecab_kwargs": {"mecab_dic": "ipadic"}}, "only unidic_lite"),
        ({"word_tokenizer_type": "mecab", "mecab_kwargs": {"mecab_option": "-d /x"}}, "mecab_dic only"),
        ({"word_tokenizer_type": "mecab", "do_lower_case": "no"}, "do_lower_case"),
    ],
)
def test_unsupported_settings_are_checkpoint_errors(tmp_path, config, message):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(CheckpointError, match=message):
        load_tokenizer(VOCAB, tmp_path / "tokenizer_config.json")


def test_mecab_needs_its_own_vocabulary():
    with pytest.raises(CheckpointError, match=r"vocab\.txt not found"):
        load_tokenizer(None, CONFIG)


def test_japanese_folder_feeds_ja_bert(tmp_path):
    """A tiny random BERT with the goldens' vocabulary and bert-base-japanese-v3's tokenizer_config.json:
    from_folder picks MeCab + WordPiece, and the front end's ja_bert is hidden_states[-3] of the katakana
    text repeated by word2ph."""
    import transformers

    from openvoice_tt.text.japanese import JapaneseFrontEnd

    vocab = VOCAB.read_text(encoding="utf-8")
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
    torch.save(reference.state_dict(), tmp_path / "pytorch_model.bin")
    (tmp_path / "vocab.txt").write_text(vocab, encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    extractor = BertFeatureExtractor.from_folder(tmp_path)
    assert isinstance(extractor.tokenizer, MecabWordPieceTokenizer)
    symbols = load_json("melo_symbols.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no no-BERT warning
        fe = JapaneseFrontEnd(symbols, bert=extractor, ja_bert_dim=32)
    out = fe("こんにちは、世界！")
    assert out.normalized == "コンニチハセカイ"
    ids = extractor.tokenizer.encode(out.normalized)
    assert len(ids) == len(out.word2ph)
    with torch.no_grad():
        states = reference(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[-3][0]
    expected = torch.cat([states[i].expand(n, -1) for i, n in enumerate(out.word2ph)]).T
    assert out.ja_bert.shape == (32, len(out.phones))
    assert (out.ja_bert - expected).abs().max() < 1e-5
    with pytest.raises(CheckpointError, match="32-wide features but ja_bert takes 768"):
        JapaneseFrontEnd(symbols, bert=extractor)
