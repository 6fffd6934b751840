#!/usr/bin/env python3
"""Derive tests/text/data/golden_jp.json (and, with --write-vocab, vocab_jp.txt) by running upstream
MeloTTS's own Japanese front-end code (no openvoice_tt code) over the corpus below.

What runs is upstream's: `melo/text/japanese.py` (`text_normalize`: NFKC, `japanese_convert_numbers_to_words`
through num2words, the Japanese-characters filter, `replace_punctuation`, pykakasi J->K / H->K;
`g2p`: BERT word groups -> `kata2phoneme`, `distribute_phone`, pads, its symbol assertion and length
checks), `melo/text/__init__.py` `cleaned_text_to_sequence` (JP: tone start 6, language id 1) and
`melo/commons.py` `intersperse` (blank 0), then the word2ph doubling of `melo/utils.py`
`get_text_for_tts_infer`. The stand-ins:
  * upstream's module-level `AutoTokenizer.from_pretrained('tohoku-nlp/bert-base-japanese-v3')` (a hub
    download) is answered with transformers' `BertJapaneseTokenizer` over the synthetic vocabulary
    tests/text/data/vocab_jp.txt with the real model's settings from tests/text/data/tokenizer_config_jp.json
    (the hub file's values: BertJapaneseTokenizer, do_lower_case false, word_tokenizer_type mecab with
    mecab_kwargs {"mecab_dic": "unidic_lite"}, subword_tokenizer_type wordpiece, model_max_length 512), so
    MeCab runs with the unidic-lite dictionary (fugashi, as transformers does);
  * pykakasi 2.2.1 (upstream's pin, in /work/upstream-venv) imports `pkg_resources` only to find its data
    folder; where setuptools is not installed, a stand-in module answers `resource_filename` with the
    package's own folder (nothing else of pkg_resources is used).
Upstream's own BERT length check (tokens + 2 == len(word2ph)) must hold, or the script stops. A sentence on
which upstream raises (its symbol assertion: `いすゞ`) is recorded with `upstream_error` and no ids.

Each case records: text, normalized (upstream text_normalize: katakana), tokens (MeCab + WordPiece),
phones / tones (space separated, with the "_" pads), word2ph (per token incl. [CLS]/[SEP], before blanks),
phone_ids, tone_ids, language_ids (after add_blank), word2ph_blank (doubled, [0] += 1),
upstream_reads_right and, when false, reason (why upstream's reading is wrong, judged by reading its
phones against the sentence; the codes are explained in REASONS).

Re-run (from the repository root; /work/upstream-venv has pykakasi 2.2.1, num2words, mecab-python3,
fugashi, unidic-lite 1.0.8 and transformers 4.46.3):
  mkdir -p /tmp/melotts && for f in $(git --git-dir=<MeloTTS mirror> ls-tree -r --name-only 2091453 \
      melo/text melo/commons.py); do mkdir -p /tmp/melotts/$(dirname $f); \
      git --git-dir=<MeloTTS mirror> show 2091453:$f > /tmp/melotts/$f; done   # or a plain checkout
  /work/upstream-venv/bin/python scripts/derive_frontend_golden_jp.py /tmp/melotts [--write-vocab]
--write-vocab first rebuilds vocab_jp.txt from the corpus (deterministic). Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import sys
import types
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "text" / "data"
SYMBOLS = DATA / "melo_symbols.json"
MODEL_ID = "tohoku-nlp/bert-base-japanese-v3"
LEFT_OUT_OF_VOCAB = {"𠮷"}  # so that one case exercises [UNK] -> phone "_"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # bert-base-japanese-v3's ids 0-4

REASONS = {
    "LONG_VOWEL": "the long-vowel mark ー gives no phone (kata2phoneme's rule 'ー/:' yields nothing): "
    "コーヒー is read 'k o h i'",
    "LATIN": "Latin letters are dropped by text_normalize's Japanese-characters filter (not read at all)",
    "ITERATION": "the iteration mark ゞ reaches kata2phoneme unread and fails upstream's symbol assertion",
    "NUMBER": "pykakasi misreads num2words' kanji numeral or its counter (four as 'shi', 'ニジュウシ', "
    "'ハチブ' for 8 minutes, 'ツクモ' for 99, 'シマ' for 40,000)",
    "SYMBOL": "'%' or '$' after the number is dropped (not read パーセント / ドル) or read wrongly",
    "DECIMAL": "the decimal point is read テン and the digits after it by pykakasi's kanji readings (四 as 'shi')",
    "PYKAKASI": "pykakasi misreads a common word (dictionary entry without context): 今日は as コンニチハ, "
    "今年 as コンネン, 行方 as ナメガタ, 何人 / 一日 as listed in the case",
    "UNKNOWN": "a kanji pykakasi cannot read stays as it is; not in the vocabulary, its word is [UNK] "
    "(phone '_', silence)",
}

CORPUS = [
    ("こんにちは、世界！", None),
    ("ええ、僕はおきなと申します。", None),
    ("あの、お前以外のみんなは、全員生きてること？", None),
    ("おはようございます。", None),
    ("ありがとうございました。", None),
    ("すみません、駅はどこですか？", None),
    ("私は学生です。", None),
    ("彼女は毎朝早く起きます。", None),
    ("猫が窓のそばで寝ています。", None),
    ("明日は雨が降るでしょう。", None),
    ("昨日、友達と映画を見ました。", None),
    ("この本はとても面白いです。", None),
    ("日本の夏は暑くて湿気が多い。", None),
    ("母は台所で料理をしています。", None),
    ("電車が遅れて、会社に遅刻しました。", None),
    ("週末は家でゆっくり休みたい。", None),
    ("子供たちが公園で遊んでいます。", None),
    ("桜の花がきれいに咲きました。", None),
    ("静かな夜に月が輝いている。", "PYKAKASI"),
    ("この道をまっすぐ行ってください。", None),
    ("お茶を一杯いかがですか？", None),
    ("先生の話をよく聞きなさい。", None),
    ("山の上から海が見えます。", None),
    ("彼は医者になりたいと言った。", None),
    ("新しい靴を買いに行きましょう。", None),
    ("部屋の掃除を手伝ってくれませんか？", None),
    ("京都には古いお寺がたくさんあります。", None),
    ("雪が降って、町が真っ白になった。", None),
    ("兄は大学で経済を勉強している。", None),
    ("あなたの名前を教えてください。", None),
    ("お腹が空いたので、何か食べたい。", "PYKAKASI"),
    ("彼の声はとても優しかった。", None),
    ("窓を開けてもいいですか？", "PYKAKASI"),
    ("春になると、鳥が歌い始める。", None),
    ("この問題は難しすぎる。", "PYKAKASI"),
    ("駅の前で待っています。", None),
    ("父は新聞を読みながら朝ご飯を食べる。", "PYKAKASI"),
    ("川の水はとても冷たかった。", None),
    ("夢を諦めないでください。", None),
    ("東京から大阪まで新幹線で行きます。", None),
    ("図書館で静かに本を読む。", None),
    ("犬が庭を走り回っている。", None),
    ("今夜は星がよく見える。", None),
    ("私たちは同じ町で育ちました。", None),
    ("彼女の笑顔が忘れられない。", None),
    ("会議は午後に始まります。", None),
    ("手紙を書くのは久しぶりだ。", None),
    ("森の中を歩くのが好きです。", None),
    ("この料理はとても美味しい。", None),
    ("祖母は田舎に住んでいます。", None),
    ("電話が鳴っているよ。", None),
    ("みんなで歌を歌いましょう。", None),
    ("海辺で貝殻を拾った。", None),
    ("病院はこの近くにありますか？", None),
    ("風が強くて、傘が壊れた。", None),
    ("どうして泣いているの？", None),
    ("やっと宿題が終わった。", None),
    ("ねえ、ちょっと待って！", None),
    ("うん、わかった。", None),
    ("それは本当ですか？", None),
    ("よろしくお願いします。", None),
    ("いただきます。", None),
    ("ごちそうさまでした。", None),
    ("おやすみなさい。", None),
    ("気をつけて帰ってね。", None),
    ("人々が広場に集まった。", "ITERATION"),
    ("時々、昔のことを思い出す。", "ITERATION"),
    ("いすゞの車に乗っています。", "ITERATION"),
    ("ここは静かで落ち着く場所だ。", None),
    ("赤い花と白い花が咲いている。", None),
    ("私は緑色が好きです。", "PYKAKASI"),
    ("空には雲ひとつない。", None),
    ("彼らは黙って歩き続けた。", None),
    ("夏休みに北海道へ旅行した。", None),
    ("富士山は日本で一番高い山です。", None),
    ("郵便局は九時に開きます。", None),
    ("駅まで歩いて十分かかります。", "PYKAKASI"),
    ("コーヒーを飲みませんか？", "LONG_VOWEL"),
    ("パソコンが動かなくなった。", None),
    ("スーパーで牛乳とパンを買った。", "LONG_VOWEL"),
    ("コンピューターの調子が悪い。", "LONG_VOWEL"),
    ("新しいゲームを買いました。", "LONG_VOWEL"),
    ("ホテルのロビーで待ち合わせよう。", "LONG_VOWEL"),
    ("テレビのニュースを見た。", "LONG_VOWEL"),
    ("アイスクリームが食べたい。", "LONG_VOWEL"),
    ("サッカーの試合は雨で中止になった。", "LONG_VOWEL"),
    ("ピアノを習っています。", None),
    ("エレベーターが故障している。", "LONG_VOWEL"),
    ("インターネットで調べてみます。", "LONG_VOWEL"),
    ("メールを送りました。", "LONG_VOWEL"),
    ("カメラを持ってきてください。", None),
    ("チョコレートケーキを作った。", "LONG_VOWEL"),
    ("タクシーを呼んでください。", "LONG_VOWEL"),
    ("レストランを予約しました。", None),
    ("バスは五分ごとに来ます。", "PYKAKASI"),
    ("シャワーを浴びてから寝る。", "LONG_VOWEL"),
    ("ギターを弾くのが趣味です。", "LONG_VOWEL"),
    ("プレゼントをありがとう。", None),
    ("デパートは十時に開店する。", "LONG_VOWEL+PYKAKASI"),
    ("ワインとチーズが好きだ。", "LONG_VOWEL"),
    ("今日は天気がいいですね。", "PYKAKASI"),
    ("今日は晴れです。", "PYKAKASI"),
    ("今年の冬は寒い。", "PYKAKASI"),
    ("犯人の行方がわからない。", "PYKAKASI"),
    ("日本語を勉強しています。", None),
    ("大人になったら何になりたい？", None),
    ("上手に話せるようになりたい。", None),
    ("市場で魚を買った。", None),
    ("一人で旅行するのが好きです。", None),
    ("二人で映画を見に行った。", None),
    ("何時に会いましょうか？", None),
    ("何人来ますか？", None),
    ("私は3人兄弟です。", None),
    ("りんごを5個ください。", None),
    ("2時に会いましょう。", None),
    ("6時に起きます。", "NUMBER"),
    ("これは1000円です。", None),
    ("この本は1,500円でした。", None),
    ("1年は365日です。", "NUMBER"),
    ("彼は20歳になった。", None),
    ("4月から新学期が始まる。", None),
    ("7月7日は七夕です。", None),
    ("2024年にオリンピックがあった。", "NUMBER"),
    ("人口は約1億2千万人です。", "NUMBER"),
    ("温度は25度まで上がった。", None),
    ("4人で食事をしました。", None),
    ("99回目の挑戦だった。", "NUMBER"),
    ("4時に来てください。", None),
    ("この町には400年の歴史がある。", "NUMBER"),
    ("3.5キロ走った。", None),
    ("50%割引です。", "SYMBOL"),
    ("シャツを3枚買った。", None),
    ("ペンを8本ください。", "NUMBER"),
    ("この猫は10歳です。", "NUMBER"),
    ("電車は6分遅れた。", "NUMBER"),
    ("会議は1時間で終わった。", None),
    ("問題の答えは42です。", "NUMBER"),
    ("毎日7時間寝ます。", None),
    ("値段は$20です。", None),
    ("１２３番のバスに乗る。", None),
    ("ＮＨＫのニュースを見た。", "LONG_VOWEL+LATIN"),
    ("Tシャツを着ている。", "LATIN"),
    ("USBメモリーを忘れた。", "LONG_VOWEL+LATIN"),
    ("AIの研究をしています。", "LATIN"),
    ("CDを聞いています。", "LATIN"),
    ("私のiPhoneが壊れた。", "LATIN"),
    ("OKです。", "LATIN"),
    ("Wi-Fiのパスワードを教えて。", "LONG_VOWEL+LATIN"),
    ("DVDを借りた。", "LATIN"),
    ("ＪＲの駅で会おう。", "LATIN"),
    ("ｶﾀｶﾅの文字です。", None),
    ("「ありがとう」と彼は言った。", None),
    ("『吾輩は猫である』を読んだ。", None),
    ("えっ、本当？", None),
    ("あっ、危ない！", None),
    ("すごーい！", "LONG_VOWEL"),
    ("やったー！", "LONG_VOWEL"),
    ("ちょっと、待ってよ……", None),
    ("まあ、いいか。", None),
    ("はい、そうです。", None),
    ("いいえ、違います。", None),
    ("さようなら、また明日。", None),
    ("へえ、そうなんだ。", None),
    ("ふふふ、秘密です。", None),
    ("ゔぁいおりん", None),
    ("歌舞伎を見に行った。", None),
    ("侍の映画が好きだ。", None),
    ("寿司と天ぷらを食べた。", None),
    ("お正月には神社へ行く。", None),
    ("着物を着て写真を撮った。", None),
    ("緑茶は体にいい。", None),
    ("彼は東京大学の教授だ。", None),
    ("この薬は一日三回飲んでください。", "PYKAKASI"),
    ("図書館は月曜日が休みです。", None),
    ("火曜日と水曜日は忙しい。", None),
    ("木曜日の夜に電話します。", None),
    ("金曜日は早く帰ります。", None),
    ("土曜日に引っ越しをする。", None),
    ("日曜日は教会に行く。", None),
    ("𠮷野家で牛丼を食べた。", "PYKAKASI"),
    ("夏目漱石の小説を読んだ。", None),
    ("宮崎駿の映画はすばらしい。", None),
    ("東京都渋谷区に住んでいる。", None),
]


def pkg_resources_stand_in() -> None:
    """pykakasi 2.2.1's only use of pkg_resources: `resource_filename(__name__, "data")`."""
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        module = types.ModuleType("pkg_resources")

        def resource_filename(name: str, resource: str) -> str:
            return os.path.join(os.path.dirname(importlib.import_module(name).__file__), resource)

        module.resource_filename = resource_filename  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = module


def upstream_definitions(source: Path, names: set[str]) -> ast.Module:
    """The top-level functions called `names` in an upstream file, unexecuted (to skip its imports)."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    keep = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
    return ast.Module(body=keep, type_ignores=[])


def tokenizer_settings() -> dict:
    config = json.loads((DATA / "tokenizer_config_jp.json").read_text(encoding="utf-8"))
    return {
        "do_lower_case": config["do_lower_case"],
        "word_tokenizer_type": config["word_tokenizer_type"],
        "subword_tokenizer_type": config["subword_tokenizer_type"],
        "mecab_kwargs": config["mecab_kwargs"],
    }


def make_tokenizer(vocab: Path):
    from transformers import BertJapaneseTokenizer

    return BertJapaneseTokenizer(vocab_file=str(vocab), **tokenizer_settings())


def build_vocab(words: list[str]) -> list[str]:
    """Special tokens at the real model's ids, single characters and their ## continuations, then each corpus
    word whole, in two pieces or in three (chosen by a hash of the word), so that word2ph is spread over
    one, two and three tokens. Characters in LEFT_OUT_OF_VOCAB stay out: their words become [UNK]. Every
    katakana (U+30A1-U+30FA, and ー) is a token too, as in the real vocabulary, so that words the corpus's
    upstream normalization never produced (our readings of numbers and letters) still have pieces."""
    chars: dict[str, None] = {chr(c): None for c in range(0x30A1, 0x30FB)}
    chars["ー"] = None
    for word in words:
        for ch in word:
            if ch not in LEFT_OUT_OF_VOCAB:
                chars.setdefault(ch, None)
    vocab = list(SPECIAL) + sorted(chars) + sorted("##" + c for c in chars)
    pieces: dict[str, None] = {}
    for word in words:
        if len(word) < 2 or set(word) & LEFT_OUT_OF_VOCAB:
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

    pkg_resources_stand_in()
    vocab_path = DATA / "vocab_jp.txt"
    holder: dict = {}

    def from_pretrained(model_id, *args, **kwargs):
        if model_id != MODEL_ID:
            raise SystemExit(f"upstream asked for {model_id!r}, expected {MODEL_ID!r}")
        return holder["tokenizer"]

    transformers.AutoTokenizer.from_pretrained = from_pretrained
    if write_vocab:  # a vocabulary of the special tokens only, to import upstream and normalize
        tmp = Path("/tmp/openvoice_tt_vocab_jp_bootstrap.txt")
        tmp.write_text("\n".join(SPECIAL) + "\n", encoding="utf-8")
        holder["tokenizer"] = make_tokenizer(tmp)
    else:
        holder["tokenizer"] = make_tokenizer(vocab_path)
    module = importlib.import_module("melo.text.japanese")
    if write_vocab:
        words: dict[str, None] = {}
        mecab = holder["tokenizer"].word_tokenizer
        for text, _ in CORPUS:
            for word in mecab.tokenize(module.text_normalize(text)):
                words.setdefault(word, None)
        vocab = build_vocab(list(words))
        vocab_path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        print(f"vocab_jp.txt: {len(vocab)} tokens")
        holder["tokenizer"] = make_tokenizer(vocab_path)
        module.tokenizer = holder["tokenizer"]
    tokenizer = holder["tokenizer"]
    text_pkg = importlib.import_module("melo.text")
    if list(text_pkg.symbols) != symbols:
        raise SystemExit("tests/text/data/melo_symbols.json differs from upstream's melo/text/symbols.py")
    ns: dict = {}
    exec(compile(upstream_definitions(melotts / "melo" / "commons.py", {"intersperse"}), "commons.py", "exec"), ns)
    symbol_to_id = {s: i for i, s in enumerate(symbols)}  # melo/api.py: from the checkpoint's symbols

    cases = []
    for text, reason_code in CORPUS:
        normalized = module.text_normalize(text)
        tokens = tokenizer.tokenize(normalized)
        case: dict = {"text": text, "normalized": normalized, "tokens": tokens}
        try:
            phones, tones, word2ph = module.g2p(normalized)
        except AssertionError as e:
            case["upstream_error"] = f"AssertionError: {e}"
            case["upstream_reads_right"] = False
            case["reason"] = REASONS[reason_code or "ITERATION"]
            cases.append(case)
            continue
        if len(tokenizer(normalized)["input_ids"]) != len(word2ph):  # upstream's assert in japanese_bert
            raise SystemExit(f"upstream's BERT length check fails on {text!r}")
        phone_ids, tone_ids, language_ids = text_pkg.cleaned_text_to_sequence(phones, tones, "JP", symbol_to_id)
        word2ph_blank = [2 * w for w in word2ph]
        word2ph_blank[0] += 1
        case.update(
            {
                "phones": " ".join(phones),
                "tones": " ".join(map(str, tones)),
                "word2ph": word2ph,
                "phone_ids": ns["intersperse"](phone_ids, 0),
                "tone_ids": ns["intersperse"](tone_ids, 0),
                "language_ids": ns["intersperse"](language_ids, 0),
                "word2ph_blank": word2ph_blank,
                "upstream_reads_right": reason_code is None,
            }
        )
        if reason_code is not None:
            case["reason"] = "; ".join(REASONS[code] for code in reason_code.split("+"))
        if sum(word2ph_blank) != len(case["phone_ids"]):
            raise SystemExit(f"word2ph does not cover the phones of {text!r}")
        cases.append(case)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("melotts", type=Path, help="a MeloTTS checkout (commit 2091453) holding melo/text")
    parser.add_argument("--write-vocab", action="store_true", help="rebuild vocab_jp.txt from the corpus first")
    args = parser.parse_args()
    sys.path.insert(0, str(args.melotts))
    symbols = json.loads(SYMBOLS.read_text(encoding="utf-8"))
    cases = derive(args.melotts, symbols, args.write_vocab)
    out = DATA / "golden_jp.json"
    out.write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    right = sum(c["upstream_reads_right"] for c in cases)
    print(f"{out}: {len(cases)} cases, upstream reads {right} right, {len(cases) - right} wrong")


if __name__ == "__main__":
    main()
