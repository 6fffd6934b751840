"""Language detection (`openvoice_tt.detection`): script counts for Chinese, Japanese and Korean, marks and
word lists for Spanish and French over English, and the choice among installed languages."""

from __future__ import annotations

import pytest

from openvoice_tt.detection import choose, detect, is_auto
from openvoice_tt.errors import CheckpointError, InputError
from openvoice_tt.languages import EN, EN_NEWEST, EN_V2, ES, FR, JP, KR, LANGUAGES, ZH


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("今天天气很好，我们去公园散步吧。", "ZH"),
        ("我用iPhone给他打了电话。", "ZH"),  # English words inside Chinese: ZH_MIX_EN reads them
        ("東京", "ZH"),  # Han alone: nothing says Japanese
        ("今日はいい天気ですね。", "JP"),
        ("カタカナだけ", "JP"),
        ("ｶﾀｶﾅ", "JP"),  # half-width katakana
        ("オリンピックは2020年に東京で開かれました。", "JP"),
        ("오늘 날씨가 좋네요.", "KR"),
        ("大韓民國 헌법 제1조", "KR"),  # hanja inside Korean: Hangul outnumber
        ("ㅋㅋㅋ", "KR"),  # compatibility jamo
        ("Hello there.", "EN"),
        ("I love 寿司 and ramen restaurants in Tokyo.", "EN"),  # a CJK word in English prose
        ("¿Dónde está la estación?", "ES"),
        ("Hola, me llamo Juan y vivo en Madrid.", "ES"),
        ("Gracias", "ES"),
        ("Bonjour.", "FR"),
        ("Je suis très content de vous voir.", "FR"),
        ("C'est la vie.", "FR"),
        ("The café in Paris is nice.", "EN"),  # é alone is not French enough
        ("Das ist gut.", "EN"),  # no language of its own: English, the default
        ("12345 !!!", "EN"),
        ("😀😀", "EN"),
        ("", "EN"),
    ],
)
def test_detect(text: str, code: str) -> None:
    assert detect(text).language.code == code


def test_reasons_say_what_decided() -> None:
    assert detect("今日はいい天気ですね。").reason == "kana in the text (6 kana, 4 Han characters)"
    assert detect("오늘 날씨가 좋네요.").reason == "Hangul script (8 Hangul of 8 CJK characters)"
    assert detect("你好").reason == "Han characters without kana or Hangul (2 Han characters)"
    assert detect("¿Dónde está?").reason == "Latin script with Spanish marks and words (¿, á, ó, dónde, está)"
    assert detect("Hello.").reason == "Latin script, not clearly Spanish or French (5 letters)"
    assert detect("I like 寿司 a lot, really.").reason == (
        "Latin script, not clearly Spanish or French (15 letters); 2 CJK characters are too few to outweigh "
        "15 Latin letters"
    )
    assert detect("你好").to_json() == {"language": "zh", "code": "ZH", "reason": detect("你好").reason}


def test_a_long_text_is_detected_quickly_and_whole() -> None:
    text = "我们今天去公园散步" * 10_000 + "ですね"
    assert detect(text).language is JP  # any kana with Han is Japanese


@pytest.mark.parametrize("value", ["auto", "AUTO", " Auto "])
def test_is_auto(value: str) -> None:
    assert is_auto(value) and not is_auto("en") and not is_auto(None) and not is_auto(EN)


def test_only_installed_languages_are_chosen() -> None:
    assert choose("你好。", LANGUAGES).language is ZH
    assert choose("Hello.", [EN_NEWEST, ES]).language is EN_NEWEST  # English v3 when v1 is missing
    fallback = choose("¿Dónde está?", [EN, EN_V2])
    assert fallback.language is EN and fallback.reason.endswith("; Spanish is not installed, so English")
    assert choose("Bonjour.", [ES]).language is ES  # another Latin-script language, as before detection
    assert choose("Hello there.", [ZH, JP]).language is ZH  # Chinese reads English words (ZH_MIX_EN)
    for text, language in (("你好。", ZH), ("こんにちは", JP), ("안녕", KR)):
        others = [other for other in LANGUAGES if other is not language]
        with pytest.raises(CheckpointError, match=f"download --languages {language.key}' fetches it") as caught:
            choose(text, others)
        assert caught.value.exit_code == 4
    with pytest.raises(CheckpointError, match=r"no installed language reads it \(installed: jp, kr;"):
        choose("Hello.", [JP, KR])
    with pytest.raises(CheckpointError, match="which is not installed"):
        choose("Hello.", [])


def test_not_text() -> None:
    with pytest.raises(InputError, match="text must be a str"):
        detect(b"bytes")  # type: ignore[arg-type]


def test_french_and_spanish_are_told_apart_from_english_by_more_than_one_sign() -> None:
    assert detect("I said hola to him.").language is EN  # one Spanish word among English ones
    assert detect("Merci beaucoup, mais je ne sais pas.").language is FR
    assert detect("Le Monde and El País are newspapers.").language is EN  # 2 English words, 1 each
