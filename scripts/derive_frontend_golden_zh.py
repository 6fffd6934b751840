#!/usr/bin/env python3
"""Derive tests/text/data/golden_zh.json by running upstream MeloTTS's own Chinese (ZH_MIX_EN) front-end
code (no openvoice_tt code) over the corpus below.

What runs is upstream's: `melo/text/chinese_mix.py` (`text_normalize`: cn2an numbers, `replace_punctuation`;
`g2p` impl v2: sentences split after punctuation, English runs through `english.g2p` on the BERT tokenizer's
tokens with tones + 7, the rest through `chinese.py` `_g2p`: jieba posseg, `tone_sandhi.ToneSandhi`, pypinyin,
`opencpop-strict.txt`), `melo/text/__init__.py` `cleaned_text_to_sequence` (ZH_MIX_EN: tone start 0, language
id 3) and `melo/commons.py` `intersperse` (blank 0), then the word2ph doubling of `melo/utils.py`. Before the
front end, what upstream's `TTS.tts_to_file` does to the text: `split_utils.split_sentences_zh`'s replacements
(`。！？；` to `.`, `，` to `,`, whitespace runs to one space, a space after every `,.!?;`; the pieces it
would cut the sentence into are joined again with one space, so each golden is one chunk) and the
camel-case split `([a-z])([A-Z])` -> `\\1 \\2`.

Stand-ins (upstream's module-level downloads and g2p_en, which cannot run offline):
  * `AutoTokenizer.from_pretrained('bert-base-multilingual-uncased')` is answered with a Hugging Face
    `BertTokenizerFast` over the synthetic vocabulary tests/text/data/vocab_zh.txt with the real model's
    settings from tests/text/data/tokenizer_config_zh.json (the slow BertTokenizer must agree). Those settings:
    `do_lower_case: true` is the model's own (the hub's tokenizer_config.json; transformers' former
    PRETRAINED_INIT_CONFIGURATION entry for bert-base-multilingual-uncased says the same),
    `tokenize_chinese_chars: true` and `strip_accents: null` (strip with lower-casing) are BertTokenizer's
    defaults in transformers 4.46.3, which the model's config does not override; the rest are BERT's
    special tokens and its 512 positions;
  * `melo.text.english` is upstream's own `g2p`, `refine_ph`, `refine_syllables`, `post_replace_ph`,
    `read_dict` and `arpa` (loaded from english.py with ast, `distribute_phone` from japanese.py) over
    upstream's cmudict.rep; g2p_en is never needed: every English word of the corpus is in cmudict.rep
    (the script stops if one is not).
A case where upstream raises records `upstream_error` (the exception) instead of model inputs.

Re-run (/work/upstream-venv has jieba 0.42.1, pypinyin 0.50.0, cn2an 0.5.22, transformers 4.46.3):
  mkdir -p /tmp/melotts && for f in $(git --git-dir=<MeloTTS mirror> ls-tree -r --name-only 2091453 \\
      melo/text melo/commons.py melo/split_utils.py); do mkdir -p /tmp/melotts/$(dirname $f); \\
      git --git-dir=<MeloTTS mirror> show 2091453:$f > /tmp/melotts/$f; done; touch /tmp/melotts/melo/__init__.py
  /work/upstream-venv/bin/python scripts/derive_frontend_golden_zh.py /tmp/melotts [--write-vocab]
--write-vocab first rebuilds vocab_zh.txt from the corpus (deterministic). Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import re
import sys
import types
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "text" / "data"
SYMBOLS = DATA / "melo_symbols.json"
MODEL_ID = "bert-base-multilingual-uncased"
LEFT_OUT_OF_VOCAB = {"鑫"}  # a Chinese character the vocabulary lacks: its token is [UNK], its phones stay
SPECIAL = ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

REASONS = {
    "YEAR": "a year is read as a quantity: '2024年' -> 'èr qiān líng èr shí sì nián' (two thousand and "
    "twenty-four) instead of digit by digit 'èr líng èr sì nián'",
    "PHONE": "a phone number is read as one quantity ('13812345678' -> 'yī bǎi sān shí bā yì ...') instead of "
    "digit by digit",
    "PERCENT": "'%' is deleted by replace_punctuation: '50%' is read 'wǔ shí' (fifty), not 'bǎi fēn zhī wǔ shí'",
    "DECIMAL": "decimal point: upstream's splitter puts a space after the '.', so '3.5' is read 'sān. wǔ' "
    "(three, pause, five) without 'diǎn'",
    "TIME": "clock time: ':' is deleted, so '8:30' is read 'bā sān shí' (eight thirty as one run), not "
    "'bā diǎn sān shí fēn'",
    "THOUSANDS": "thousands separator: the splitter puts a space after ',', so '1,000' is read 'yī, líng' "
    "(one, pause, zero)",
    "DOLLAR": "'$' is replaced by '.': '$100' is read as a pause and 'yī bǎi', with no 'dollars'",
    "LEADING_ZERO": "digits with leading zeros (a code, a room number) are read as a quantity: '007' -> 'qī'",
    "DATE": "a date with dashes is read as three quantities with pauses ('2024-01-15' -> 'èr qiān líng èr shí sì"
    " - yī - shí wǔ')",
    "FULLWIDTH_PERCENT": "'％' (full-width) is deleted like '%': the percentage is read as a bare number",
    "UNDERSCORE": "'_' survives replace_punctuation and pypinyin returns it unchanged: AssertionError",
    "LONG_NUMBER": "a number of more than 16 digits: cn2an raises ValueError (upstream crashes)",
    "TEMPERATURE": "'°C' is deleted (not letters of the English regex once '°' splits them... read as the "
    "letter 'c'), so '25°C' is read 'èr shí wǔ c', not 'èr shí wǔ shè shì dù'",
}

CORPUS: list[tuple[str, str | None]] = [
    # everyday Chinese
    ("你好，欢迎使用语音合成系统。", None),
    ("今天天气很好，我们去公园散步吧。", None),
    ("我想喝一杯热咖啡。", None),
    ("请问火车站怎么走？", None),
    ("这本书非常有意思，你一定要看看。", None),
    ("他每天早上六点起床。", None),
    ("我们明天下午三点开会。", None),
    ("妈妈在厨房里做饭。", None),
    ("孩子们在操场上踢足球。", None),
    ("这个问题我们需要仔细讨论一下。", None),
    ("北京是中国的首都。", None),
    ("长江是中国最长的河流。", None),
    ("他长大以后想当一名医生。", None),
    ("银行的工作人员非常热情。", None),
    ("我们一起去看电影好不好？", None),
    ("你吃饭了吗？", None),
    ("谢谢你的帮助！", None),
    ("对不起，我来晚了。", None),
    ("没关系，下次注意就好。", None),
    ("这件衣服多少钱？", None),
    ("太贵了，能便宜一点吗？", None),
    ("我不知道他在哪里。", None),
    ("你觉得这个主意怎么样？", None),
    ("昨天晚上我睡得很好。", None),
    ("音乐让人感到快乐。", None),
    ("学习外语需要耐心和坚持。", None),
    ("春天来了，花儿都开了。", None),
    ("小明的爸爸是一位老师。", None),
    ("我的朋友住在上海。", None),
    ("请把门关上。", None),
    ("外面下雨了，记得带伞。", None),
    ("这道菜又香又辣。", None),
    ("他说话的声音很好听。", None),
    ("我们应该保护环境。", None),
    ("时间过得真快啊！", None),
    ("你能帮我一个忙吗？", None),
    ("周末你有什么打算？", None),
    ("我打算去爬山。", None),
    ("图书馆里非常安静。", None),
    ("他们正在讨论新的计划。", None),
    ("这个城市的交通很方便。", None),
    ("我喜欢听古典音乐。", None),
    ("请你再说一遍。", None),
    ("奶奶给我讲了一个故事。", None),
    ("弟弟正在写作业。", None),
    ("电脑突然坏了，怎么办？", None),
    ("医生建议他多休息。", None),
    ("我们学校有很多学生。", None),
    ("这里的风景美极了。", None),
    ("祝你生日快乐！", None),
    ("新年快乐，万事如意。", None),
    ("一路平安，早点回来。", None),
    ("他的中文说得很流利。", None),
    ("我在等公共汽车。", None),
    ("飞机马上就要起飞了。", None),
    ("这次考试比上次难多了。", None),
    ("你的手机号码是多少？", None),
    ("我们要重新开始。", None),
    ("这很重要，请认真听。", None),
    ("他们住在同一个小区。", None),
    # tone sandhi: 不, 一, third tones, neutral tones, 儿, reduplication
    ("我不去，你去吧。", None),
    ("他不是不想来，是不能来。", None),
    ("不要着急，慢慢来。", None),
    ("你看一看这个。", None),
    ("我们一起努力。", None),
    ("一天一个苹果。", None),
    ("第一名是我的同学。", None),
    ("你好好想想。", None),
    ("我很好，你呢？", None),
    ("老虎在山上跑。", None),
    ("我想买点水果。", None),
    ("小老鼠偷油吃。", None),
    ("展览馆今天开门。", None),
    ("你有几个孩子？", None),
    ("这是我的东西。", None),
    ("他们都是好朋友。", None),
    ("桌子上有一本书。", None),
    ("我们回去吧。", None),
    ("他走进来了。", None),
    ("这孩子真聪明。", None),
    ("我在公园里玩儿。", None),
    ("哥哥和姐姐都在家里。", None),
    ("听一听这首歌。", None),
    ("天天向上，好好学习。", None),
    ("看不懂也没关系。", None),
    ("差不多就行了。", None),
    ("一心一意，一模一样。", None),
    ("马马虎虎，还可以吧。", None),
    ("嗯，我知道了。", None),
    ("哎呀，下雪了！", None),
    # punctuation of every kind
    ("他说：“我明天来。”", None),
    ("《红楼梦》是一部伟大的小说。", None),
    ("苹果、香蕉、橘子，我都喜欢。", None),
    ("请注意（这很重要）安全。", None),
    ("等一下……我马上来。", None),
    ("真的吗？！太好了！", None),
    ("这是——我的家。", None),
    ("他问：你去哪儿？", None),
    ("好的；没问题。", None),
    ("「你好」，她说。", None),
    ("今天,明天,后天.", None),
    ("什么?真的!", None),
    ("我们...再见.", None),
    ("你好 世界", None),
    # numbers upstream reads right
    ("我有3个苹果。", None),
    ("他今年25岁。", None),
    ("一共100块钱。", None),
    ("我们班有42个学生。", None),
    ("这座楼有18层。", None),
    ("第1名得到了奖励。", None),
    ("他跑了10公里。", None),
    ("这本书有365页。", None),
    ("我等了2个小时。", None),
    ("这个月工资是8000元。", None),
    ("一共有101个人。", None),
    ("他考了100分。", None),
    ("我住在1号楼。", None),
    ("一百一十一个人排队。", None),
    ("今天走了11公里。", None),
    # mixed Chinese and English
    ("我最近在学习machine learning，希望能够在未来有所建树。", None),
    ("今天下午，我们准备去shopping mall购物。", None),
    ("然后晚上去看一场movie。", None),
    ("我们现在 also 能够 help 很多公司 use some machine learning 的 algorithms 啊!", None),
    ("这个project的deadline是明天。", None),
    ("我用computer写email。", None),
    ("他是一个very good的student。", None),
    ("请给我一杯coffee。", None),
    ("这首song非常好听。", None),
    ("我们开个meeting讨论一下。", None),
    ("OK，没问题。", None),
    ("你的iPhone在哪里？", None),
    ("我喜欢看YouTube上的video。", None),
    ("他在Microsoft工作。", None),
    ("这个app很好用。", None),
    ("Hello，你好吗？", None),
    ("Thank you，谢谢你。", None),
    ("我们去New York旅游。", None),
    ("这是一个new idea。", None),
    ("她的English说得很好。", None),
    ("周末我要去party。", None),
    ("我的boss今天不在。", None),
    ("这个problem很难解决。", None),
    ("我们需要更多的data。", None),
    ("你有没有Amazon账号？", None),
    ("AI技术发展得很快。", None),
    ("他买了一台TV。", None),
    ("这个robot会说话。", None),
    ("我们用Python写程序。", None),
    ("这个model的performance很好。", None),
    ("I love you，我爱你。", None),
    ("Good morning，早上好！", None),
    ("我在看一本English book。", None),
    ("下班以后去gym锻炼。", None),
    ("这家restaurant的food很好吃。", None),
    ("今天的weather真不错。", None),
    ("我的password忘记了。", None),
    ("他是我的best friend。", None),
    ("这次的test我考得不错。", None),
    ("Hi，好久不见！", None),
    ("我们来玩game吧。", None),
    ("这是我的homework。", None),
    ("在office里不要大声说话。", None),
    ("鑫鑫是我的好朋友。", None),
    ("I'm fine，谢谢。", None),
    ("我don't know怎么办。", None),
    ("这是一个well-known的问题。", None),
    ("HELLO，世界！", None),
    ("我们的TEAM明天来。", None),
    ("他说：OK吗？", None),
    ("Machine Learning很有用。", None),
    ("这个老板很好。", None),
    ("我们一块儿去吧。", None),
    ("小朋友们都很可爱。", None),
    ("你想不想去？", None),
    ("这是一本好书。", None),
    ("他们说说笑笑地走了。", None),
    ("他一边儿走一边儿唱。", None),
    ("月亮儿出来了。", None),
    ("我只说一。", None),
    ("从一数到十，再数到一。", None),
    ("我发了朋友圈。", None),
    ("他是个聪明人。", None),
    # numbers, symbols and dates upstream misreads
    ("2024年是龙年。", "YEAR"),
    ("他1998年出生在北京。", "YEAR"),
    ("我的电话是13812345678。", "PHONE"),
    ("请拨打13900001111联系我。", "PHONE"),
    ("今年的增长率是50%。", "PERCENT"),
    ("大约有30%的人同意。", "PERCENT"),
    ("他的身高是1.75米。", "DECIMAL"),
    ("圆周率约等于3.14。", "DECIMAL"),
    ("我们8:30出发。", "TIME"),
    ("会议在14:00开始。", "TIME"),
    ("这辆车价值1,000,000元。", "THOUSANDS"),
    ("门票是$100。", "DOLLAR"),
    ("我的房间号是007。", "LEADING_ZERO"),
    ("今天是2024-01-15。", "DATE"),
    ("成功率达到９９％。", "FULLWIDTH_PERCENT"),
    ("今天气温25°C。", "TEMPERATURE"),
    ("文件名是my_file。", "UNDERSCORE"),
    ("这个数字是123456789012345678。", "LONG_NUMBER"),
]


def upstream_definitions(source: Path, names: set[str]) -> ast.Module:
    """The top-level functions and assignments called `names` in an upstream file, unexecuted."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    keep = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name in names)
        or (isinstance(node, ast.Assign) and any(getattr(t, "id", None) in names for t in node.targets))
    ]
    return ast.Module(body=keep, type_ignores=[])


def tokenizer_settings() -> dict:
    config = json.loads((DATA / "tokenizer_config_zh.json").read_text(encoding="utf-8"))
    return {
        "do_lower_case": config["do_lower_case"],
        "strip_accents": config["strip_accents"],
        "tokenize_chinese_chars": config["tokenize_chinese_chars"],
    }


def make_tokenizers():
    from transformers import BertTokenizer, BertTokenizerFast

    vocab = str(DATA / "vocab_zh.txt")
    return BertTokenizerFast(vocab_file=vocab, **tokenizer_settings()), BertTokenizer(
        vocab_file=vocab, **tokenizer_settings()
    )


def build_vocab(words: list[str]) -> list[str]:
    """Special tokens at bert-base's ids, single characters and their ## continuations, the punctuation
    marks, then each multi-letter corpus word whole, in two pieces or in three (by a hash of the word), so
    that an English word's phones are spread over one, two and three tokens."""
    chars: dict[str, None] = {}
    for word in words:
        for ch in word:
            if ch not in LEFT_OUT_OF_VOCAB:
                chars.setdefault(ch, None)
    for ch in "!?…,.'-":
        chars.setdefault(ch, None)
    vocab = list(SPECIAL) + sorted(chars) + sorted("##" + c for c in chars if c.isascii() and c.isalnum())
    pieces: dict[str, None] = {}
    for word in words:
        if len(word) < 3 or not (word.isascii() and word.isalpha()):
            continue
        choice = zlib.crc32(word.encode("utf-8")) % 20
        if choice < 9:
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


class G2pEnMissing:
    def __call__(self, word: str):
        raise SystemExit(f"{word!r} is not in cmudict.rep: upstream would need g2p_en; pick another word")


def english_module(text_dir: Path, symbols: list[str]) -> types.ModuleType:
    """`melo.text.english` as upstream's own functions over cmudict.rep, without g2p_en or a download."""
    module = types.ModuleType("melo.text.english")
    ns = module.__dict__
    ns.update(re=re, os=os, symbols=symbols, CMU_DICT_PATH=str(text_dir / "cmudict.rep"))
    names = {"read_dict", "refine_ph", "refine_syllables", "post_replace_ph", "arpa", "g2p"}
    exec(compile(upstream_definitions(text_dir / "english.py", names), "english.py", "exec"), ns)
    exec(compile(upstream_definitions(text_dir / "japanese.py", {"distribute_phone"}), "japanese.py", "exec"), ns)
    ns["eng_dict"], ns["_g2p"] = ns["read_dict"](), G2pEnMissing()
    return module


def splitter_text(ns: dict, text: str) -> str:
    """What `TTS.tts_to_file` hands the front end, as one chunk: split_sentences_zh's pieces joined by one
    space (they are its own stripped pieces, so this is its replacements with the cut points kept as spaces),
    then the camel-case split."""
    pieces = ns["split_sentences_zh"](text)
    return re.sub(r"([a-z])([A-Z])", r"\1 \2", " ".join(pieces))


def corpus_words(normalize) -> list[str]:
    from transformers.models.bert.tokenization_bert import BasicTokenizer

    settings = tokenizer_settings()
    basic = BasicTokenizer(
        do_lower_case=settings["do_lower_case"],
        strip_accents=settings["strip_accents"],
        tokenize_chinese_chars=settings["tokenize_chinese_chars"],
    )
    seen: dict[str, None] = {}
    for text, _ in CORPUS:
        try:
            normalized = normalize(text)
        except Exception:
            normalized = text
        for word in basic.tokenize(normalized):
            seen.setdefault(word, None)
    return list(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("melotts", type=Path, help="a MeloTTS checkout (commit 2091453) holding melo/text")
    parser.add_argument("--write-vocab", action="store_true", help="rebuild vocab_zh.txt from the corpus first")
    args = parser.parse_args()
    sys.path.insert(0, str(args.melotts))
    import transformers

    symbols = json.loads(SYMBOLS.read_text(encoding="utf-8"))
    text_dir = args.melotts / "melo" / "text"
    sys.modules["melo.text.english"] = english_module(text_dir, symbols)
    split_ns: dict = {"re": re}
    names = {"split_sentences_zh", "merge_short_sentences_zh"}
    exec(
        compile(upstream_definitions(args.melotts / "melo" / "split_utils.py", names), "split_utils.py", "exec"),
        split_ns,
    )
    commons: dict = {}
    exec(
        compile(upstream_definitions(args.melotts / "melo" / "commons.py", {"intersperse"}), "commons.py", "exec"),
        commons,
    )

    holder: dict = {}

    def from_pretrained(model_id, *a, **k):
        if model_id != MODEL_ID:
            raise SystemExit(f"upstream asked for {model_id!r}, expected {MODEL_ID!r}")
        return holder["fast"]

    transformers.AutoTokenizer.from_pretrained = from_pretrained
    if args.write_vocab:
        (DATA / "vocab_zh.txt").write_text("\n".join(SPECIAL) + "\n", encoding="utf-8")
    holder["fast"], _ = make_tokenizers()
    module = importlib.import_module("melo.text.chinese_mix")
    text_pkg = importlib.import_module("melo.text")
    if list(text_pkg.symbols) != symbols:
        raise SystemExit("tests/text/data/melo_symbols.json differs from upstream's melo/text/symbols.py")
    if args.write_vocab:
        vocab = build_vocab(corpus_words(lambda t: module.text_normalize(splitter_text(split_ns, t))))
        (DATA / "vocab_zh.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        print(f"vocab_zh.txt: {len(vocab)} tokens")
    fast, slow = make_tokenizers()
    holder["fast"] = fast
    module.tokenizer = fast
    symbol_to_id = {s: i for i, s in enumerate(symbols)}

    cases = []
    for text, reason_code in CORPUS:
        case: dict = {"text": text}
        chunk = splitter_text(split_ns, text)
        try:
            normalized = module.text_normalize(chunk)
            phones, tones, word2ph = module.g2p(normalized)
            phone_ids, tone_ids, language_ids = text_pkg.cleaned_text_to_sequence(
                phones, tones, "ZH_MIX_EN", symbol_to_id
            )
        except (AssertionError, ValueError, KeyError, IndexError) as e:
            case.update(chunk=chunk, upstream_error=f"{type(e).__name__}: {e}"[:200], upstream_reads_right=False)
            case["reason"] = REASONS[reason_code] if reason_code else "upstream raises"
            cases.append(case)
            continue
        tokens = fast.tokenize(normalized)
        if slow.tokenize(normalized) != tokens:
            raise SystemExit(f"fast and slow BertTokenizer disagree on {normalized!r}")
        word2ph_blank = [2 * w for w in word2ph]
        word2ph_blank[0] += 1
        case.update(
            chunk=chunk,
            normalized=normalized,
            tokens=tokens,
            phones=" ".join(phones),
            tones=" ".join(map(str, tones)),
            word2ph=word2ph,
            phone_ids=commons["intersperse"](phone_ids, 0),
            tone_ids=commons["intersperse"](tone_ids, 0),
            language_ids=commons["intersperse"](language_ids, 0),
            word2ph_blank=word2ph_blank,
            bert_aligned=len(tokens) + 2 == len(word2ph),
            upstream_reads_right=reason_code is None,
        )
        if reason_code is not None:
            case["reason"] = REASONS[reason_code]
        if sum(word2ph_blank) != len(case["phone_ids"]):
            raise SystemExit(f"word2ph does not cover the phones of {text!r}")
        cases.append(case)
    out = DATA / "golden_zh.json"
    out.write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    right = sum(c["upstream_reads_right"] for c in cases)
    unaligned = [c["text"] for c in cases if "tokens" in c and not c["bert_aligned"]]
    print(
        f"{out}: {len(cases)} cases, upstream reads {right} right, {len(cases) - right} wrong; "
        f"BERT-unaligned: {unaligned}"
    )


if __name__ == "__main__":
    main()
