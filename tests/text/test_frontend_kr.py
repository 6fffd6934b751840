"""The Korean front end: upstream MeloTTS's exact model inputs where upstream reads right (goldens derived
from its code, tests/text/data/golden_kr.json), each listed deviation where it misreads or crashes, and no
traceback on hostile text."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from openvoice_tt.bert.tokenizer import Casing
from openvoice_tt.errors import LexiconError, MissingPackagesError, TextError
from openvoice_tt.text.frontend import NoBertWarning, SkippedTextWarning
from openvoice_tt.text.korean import CASING, KOREAN_SYMBOLS, KoreanFrontEnd, normalize_korean
from tests.text.latin_helpers import front_end, golden_inputs, mismatches, model_inputs, run, spoken
from tests.text.text_testdata import DATA, load_json

GOLDEN = load_json("golden_kr.json")


@pytest.fixture(scope="module")
def fe():
    return front_end(KoreanFrontEnd, "kr")


def test_tokenizer_settings_are_kykims():
    # kykim/bert-kor-base's hub tokenizer_config.json: lower-case, keep accents (no NFD: Hangul stays whole)
    assert Casing.from_config(DATA / "tokenizer_config_kr.json") == CASING == Casing(True, False)


def test_goldens_where_upstream_reads_right_are_exact(fe):
    right = [case for case in GOLDEN if case["upstream_reads_right"]]
    assert len(GOLDEN) >= 150 and len(right) >= 130
    assert mismatches(fe, right) == []  # 100 %: every model input, word2ph included


def test_a_golden_in_full(fe):
    case = next(c for c in GOLDEN if c["text"] == "사과 3개를 샀어요.")
    out = run(fe, case["text"])
    assert model_inputs(out) == golden_inputs(case)
    assert spoken(out) == "사과세개를사써요."  # 사과 세개를 사써요.
    assert set(out.tone_ids.tolist()) == {0, 11} and set(out.language_ids.tolist()) == {0, 4}
    assert out.bert.shape == (1024, len(out.phones)) and not out.bert.any()
    assert out.ja_bert.shape == (768, len(out.phones)) and not out.ja_bert.any()


def test_hangul_syllables_are_whole_pieces(fe):
    # an accent-stripping tokenizer would NFD-split 안 into ᄋ ᅡ ᆫ (and the vocabulary has no such pieces)
    assert next(t for t, _ in fe.tokenizer.pieces("안녕하세요")).startswith("안")


@pytest.mark.parametrize(
    ("written", "spelled"),
    [
        ("100까지 세어 보세요.", "백까지 세어 보세요."),
        ("2024에 큰 변화가 있었다.", "이천이십사에 큰 변화가 있었다."),
        ("정답은 42입니다.", "정답은 사십이입니다."),
        ("인구는 약 5000만 명이다.", "인구는 약 오천만 명이다."),
        ("가격이 15000 이상이에요.", "가격이 만오천 이상이에요."),
        ("50% 할인합니다.", "오십 퍼센트 할인합니다."),
        ("100미터 달리기를 했다.", "백미터 달리기를 했다."),
        ("버스 번호는 472입니다.", "버스 번호는 사백칠십이입니다."),
        ("1,000원입니다.", "천원입니다."),
        ("인구가 1,500,000명이다.", "인구가 백오십만명이다."),
        ("원주율은 3.14입니다.", "원주율은 삼점일사입니다."),
        ("키가 1.5배 컸다.", "키가 일점오배 컸다."),
        ("학생 3명이 왔어요.", "학생 세명이 왔어요."),
        ("1시간 기다렸어요.", "한시간 기다렸어요."),
        ("커피 2잔 주세요.", "커피 두잔 주세요."),
        ("종이 2장만 주세요.", "종이 두장만 주세요."),
        ("방법이 3가지 있어요.", "방법이 세가지 있어요."),
        ("회의는 10:30에 시작해요.", "회의는 열시 삼십분에 시작해요."),
        ("막차는 23:05에 떠나요.", "막차는 스물세시 오분에 떠나요."),
        ("12:00", "열두시"),
        ("9:05:07", "아홉시 오분 칠초"),
        ("무게는 5kg입니다.", "무게는 오킬로그램입니다."),
        ("10km를 달렸다.", "십킬로미터를 달렸다."),
        ('그는 "좋아"라고 말했다.', "그는 좋아라고 말했다."),
        ("ㅋㅋㅋ 정말 웃겨요.", "크크크 정말 웃겨요."),
        ("ㅎㅎ 고마워.", "흐흐 고마워."),
        ("ㅠㅠ 슬퍼요.", "유유 슬퍼요."),
        ("$100을 냈어요.", "백달러를 냈어요."),
        ("$5가 필요해요.", "오달러가 필요해요."),
        ("₩1000이 있다", "천원이 있다"),
        ("₩1000는 적다", "천원은 적다"),
        ("100$", "백달러"),
        ("가격은 €50입니다.", "가격은 오십유로입니다."),
        ("１２３ 번지", "백이십삼 번지"),
        ("첫 번째 줄;  두 번째 줄", "첫 번째 줄, 두 번째 줄"),
        ("A&B 회사", "에이 앤 비 회사"),
        ("1 + 2", "일 플러스 이"),
        ("#태그 달기", "태그 달기"),
        ("6·25 전쟁", "육 이십오 전쟁"),
        ("2024-03-15", "이영이사-영삼-일오"),  # a date with dashes: digit by digit, as upstream
        ("007 요원", "영영칠 요원"),  # a leading zero: a code, digit by digit, as upstream
        ("제2장", "제이장"),  # an ordinal: Sino-Korean, as upstream
        ("12345678901234567", "일이삼사오육칠팔구영일이삼사오육칠"),  # over 16 digits: digit by digit
        ("12345678901234567개", "일이삼사오육칠팔구영일이삼사오육칠개"),  # upstream: UnboundLocalError in g2pkk
        ("٣٤ 개", "34 개"),  # another script's digits (upstream: KeyError)
    ],
)
def test_deviations_read_what_is_written(fe, written, spelled):
    # upstream: digits one by one (100 -> 일영영), '1,000' and '3.14' split at the mark, 3명 -> 삼명,
    # Latin letters as phones, '"' as a phone, KeyError on ㅋ $ € １ ; & + and IndexError on a leading #
    assert spoken(run(fe, written)) == spoken(run(fe, spelled))


def test_deviations_are_golden_cases_upstream_misreads(fe):
    wrong = [case for case in GOLDEN if not case["upstream_reads_right"]]
    crashes = {case["upstream_error"].split(":")[0] for case in wrong if "upstream_error" in case}
    assert crashes == {"KeyError", "IndexError"}
    for case in wrong:
        out = run(fe, case["text"])
        if "upstream_error" in case:  # upstream crashed; we read it
            assert any(p in KOREAN_SYMBOLS for p in out.phones), case["text"]
        else:
            assert model_inputs(out) != golden_inputs(case), case["text"]


def test_english_words_cmudict_lacks_are_read_in_hangul(fe):
    out = run(fe, "zoomable 화면이에요.")  # upstream: the phones z o o m a b l e (other languages' phones)
    assert set(out.phones) <= KOREAN_SYMBOLS | {"_", "."}
    assert spoken(out).startswith("주")  # z -> ᄌ, oo -> ᅮ (g2pkk's ARPAbet rules on the predicted phones)


def test_a_syllable_the_vocabulary_lacks_is_read(fe):
    out = run(fe, "뷁 소리가 났다.")  # 뷁 is not in the vocabulary: [UNK]; upstream speaks "_" for it
    assert spoken(out).startswith("붹")


def test_emoji_are_left_out_with_a_warning(fe):
    with pytest.warns(SkippedTextWarning, match="😀"):
        out = fe("😀 좋아요")
    assert spoken(out) == "_" + spoken(run(fe, "좋아요"))  # [UNK] -> the silent pad phone, as upstream
    case = next(c for c in GOLDEN if c["text"] == "사랑해 ♥ 정말로.")  # [UNK] -> "_" as upstream
    with pytest.warns(SkippedTextWarning, match="♥"):
        assert model_inputs(fe(case["text"])) == golden_inputs(case)


def test_numbers_that_are_codes_stay_digit_by_digit():
    assert normalize_korean("010-1234-5678") == "010-1234-5678"
    assert normalize_korean("1,2,3") == "1,2,3"  # not thousands
    assert normalize_korean("1.2.3") == "1.2.3"  # a version, not a decimal
    assert normalize_korean("1,000.5") == "천점오"


def test_nothing_to_speak(fe):
    with pytest.raises(TextError, match="nothing to speak"):
        run(fe, "?!")
    with pytest.raises(TextError, match=r"left out: '😀'"):
        run(fe, "😀")


def test_lexicon_is_refused():
    from openvoice_tt.text.lexicon import Lexicon

    with pytest.raises(LexiconError, match="English-only"):
        KoreanFrontEnd(load_json("melo_symbols.json"), lexicon=Lexicon({}))


def test_missing_packages_name_the_extra(monkeypatch):
    import dataclasses

    language = dataclasses.replace(KoreanFrontEnd.language, packages=("g2pkk", "mecab_not_installed"))
    monkeypatch.setattr(KoreanFrontEnd, "language", language)
    with pytest.raises(MissingPackagesError, match=r"mecab_not_installed: .*openvoice-tt\[kr\]") as e:
        KoreanFrontEnd(load_json("melo_symbols.json"))
    assert e.value.exit_code == 7


def test_without_bert_whole_words_give_the_same_phones(fe):
    with pytest.warns(NoBertWarning, match="Korean"):
        plain = KoreanFrontEnd(load_json("melo_symbols.json"))
    for case in [c for c in GOLDEN if c["upstream_reads_right"]][:60]:
        ours, golden = model_inputs(run(plain, case["text"])), golden_inputs(case)
        if "[UNK]" not in case["tokens"]:
            assert ours["phone_ids"] == golden["phone_ids"] and ours["tone_ids"] == golden["tone_ids"]
        assert sum(ours["word2ph"]) == len(ours["phone_ids"])
        assert len(ours["word2ph"]) == len(plain.tokenizer.pieces(ours["normalized"])) + 2


def test_symbol_list_must_hold_korean_phones():
    from openvoice_tt.errors import ConfigError

    symbols = [s for s in load_json("melo_symbols.json") if s != "ᆼ"]
    with pytest.raises(ConfigError, match="Korean front end needs: ᆼ"):
        KoreanFrontEnd(symbols)


def test_offline_no_nltk_no_writes_and_english_never_imports_g2pkk(tmp_path):
    # g2pkk's __init__ imports nltk and calls nltk.download('cmudict') when the corpus is missing; ours
    # never runs it, never imports nltk, writes nothing where it runs, and English imports none of it
    code = (
        "import sys, json, warnings, socket; warnings.simplefilter('ignore');"
        "socket.socket.connect = lambda *a: (_ for _ in ()).throw(OSError('network used'));"
        f"sys.path.insert(0, {str(DATA.parents[2])!r});"
        f"symbols = json.load(open({str(DATA / 'melo_symbols.json')!r}));"
        "import openvoice_tt.text, openvoice_tt.text.korean;"
        "from openvoice_tt.text import EnglishFrontEnd;"
        "EnglishFrontEnd(symbols)('Hello there.');"
        "heavy = {'g2pkk', 'mecab', 'jamo', 'nltk'};"
        "assert not heavy & set(sys.modules), heavy & set(sys.modules);"
        "fe = openvoice_tt.text.korean.KoreanFrontEnd(symbols);"
        "assert not heavy & set(sys.modules), 'imported by the constructor';"
        "fe('hello 컴퓨터 3개를 샀어요.');"
        "assert 'nltk' not in sys.modules, 'nltk imported';"
        "assert 'g2pkk' not in sys.modules, 'a stand-in g2pkk package left behind';"
        "assert 'g2pkk.utils' in sys.modules and 'mecab' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert list(tmp_path.iterdir()) == []


def test_concurrent_chunks_match_sequential_ones(fe):
    from concurrent.futures import ThreadPoolExecutor

    texts = [case["text"] for case in GOLDEN[:24]]
    sequential = [model_inputs(run(fe, t)) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda t: model_inputs(run(fe, t)), texts)) == sequential


HOSTILE = [
    "😀😀😀",
    "안녕 😀 하세요 👍🏽",
    "Привет 안녕 こんにちは 你好 مرحبا",
    "１２３４５ ＡＢＣ （괄호） ！？",
    "\u0301",
    "가\u0301나",
    "ㅋㅋㅋ",
    "ㅋ",
    "ㄳ ㄺ ㆍ",
    "$100",
    "$",
    "₩",
    "1e308",
    "99999999999999999999개",
    "1,000,000,000,000,000,000원",
    "٣.٥ ३४",
    "9" * 60,
    "#",
    "##",
    "[UNK] [SEP] [CLS]",
    "\x00\x07 제어문자",
    "\ud800 깨진",
    "ᄀᄀᄀ ᅡᅡ ᆨᆨ",
    "…………",
    "A B C D",
    "http://example.com/a?b=c&d=e",
    "3.14.15 1,2,3 1,000,0000 -5 +3 10^6 ½ ⅓ Ⅻ ①",
    "뷁뷁뷁 똠얌꿍",
    "漢字漢字",
    "\t\n  \n",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_never_raises_a_traceback(fe, text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fe(text)
        except TextError:
            return  # one line, exit code 3: "nothing to speak"
    assert sum(out.word2ph) == len(out.phone_ids) == len(out.phones)
    assert len(out.word2ph) == len(fe.tokenizer.pieces(out.normalized)) + 2


def test_ten_thousand_characters_without_punctuation_in_256_character_pieces(fe):
    words = ["오늘은", "날씨가", "정말", "좋아서", "우리는", "공원에", "갔다", "3개", "100", "hello", "ㅋㅋ"]
    text = " ".join(words[i % len(words)] for i in range(4000))[:10_000]
    assert len(text) == 10_000
    spoken_pieces = 0
    for start in range(0, len(text), 256):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fe(text[start : start + 256])
        assert sum(out.word2ph) == len(out.phone_ids)
        spoken_pieces += 1
    assert spoken_pieces == 40
    glued = "가나다라마바사" * 40  # 280 characters, no space: over BERT's 100-character word limit ([UNK])
    assert spoken(run(fe, glued)).startswith("가나다")  # read, not dropped


def test_match_rate_script_reports_korean():
    done = subprocess.run(
        [sys.executable, "scripts/frontend_match_rate.py", "--language", "KR", "--fail-under", "97"],
        cwd=DATA.parents[2],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(DATA.parents[2]), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "where upstream reads right: 140/140 exact (100.0 %)" in done.stdout


def test_offline_rules_equal_g2pkk_on_its_own_examples():
    # g2pkk 0.1.2's G2p() on each example word of its rules.txt (derived by running g2pkk itself)
    from openvoice_tt.text.korean_g2p import g2p

    pairs = load_json("g2pkk_words_kr.json")
    assert len(pairs) >= 300
    assert [word for word, upstream in pairs if g2p()(word) != upstream] == []


@pytest.mark.parametrize(
    ("word", "spelled"),
    [
        ("3명의", "세명의"),
        ("1시간만에", "한시간만에"),
        ("2사람이", "두사람이"),
        ("20명", "스무명"),
        ("2장관", "이장관"),  # not a counter: another noun, Sino-Korean as upstream
        ("3명령", "삼명령"),
        ("1달러", "일달러"),  # 달러 is not 달
        ("2병원", "이병원"),
    ],
)
def test_native_counters_only_when_they_are_the_counter(word, spelled):
    from openvoice_tt.text.korean_g2p import g2p

    assert g2p()(word) == g2p()(spelled)


def test_kykim_folder_reads_its_config_and_feeds_ja_bert(tmp_path):
    """A tiny random BERT with the goldens' vocabulary and kykim's tokenizer_config.json: cased as configured
    (Hangul kept whole), and ja_bert is hidden_states[-3] repeated by word2ph, as upstream's japanese_bert."""
    import torch
    import transformers

    from openvoice_tt.bert.features import BertFeatureExtractor

    vocab = (DATA / "vocab_kr.txt").read_text(encoding="utf-8")
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
    (tmp_path / "tokenizer_config.json").write_bytes((DATA / "tokenizer_config_kr.json").read_bytes())
    extractor = BertFeatureExtractor.from_folder(tmp_path)
    assert extractor.tokenizer.casing == CASING
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no no-BERT warning
        fe = KoreanFrontEnd(load_json("melo_symbols.json"), bert=extractor, ja_bert_dim=32)
    case = next(c for c in GOLDEN if c["text"] == "나의 친구가 mp3 파일 3개를 다운받고 있다.")
    out = fe(case["text"])
    assert model_inputs(out) == golden_inputs(case)
    ids = extractor.tokenizer.encode(out.normalized)
    assert len(ids) == len(out.word2ph) == len(case["tokens"]) + 2
    with torch.no_grad():
        states = reference(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[-3][0]
    expected = torch.cat([states[i].expand(n, -1) for i, n in enumerate(out.word2ph)]).T
    assert out.ja_bert.shape == (32, len(out.phones))
    assert (out.ja_bert - expected).abs().max() < 1e-5
