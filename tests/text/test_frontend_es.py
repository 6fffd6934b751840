"""The Spanish front end: upstream MeloTTS's exact model inputs where upstream reads right (goldens derived
from its code, tests/text/data/golden_es.json), and each listed deviation where it misreads."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from openvoice_tt.bert.tokenizer import UNCASED, WordPieceTokenizer
from openvoice_tt.errors import LexiconError, MissingPackagesError, TextError
from openvoice_tt.text.frontend import NoBertWarning, SkippedTextWarning
from openvoice_tt.text.latin import distribute_phone
from openvoice_tt.text.spanish import SpanishFrontEnd, normalize_spanish
from tests.text.latin_helpers import front_end, golden_inputs, mismatches, model_inputs, run, spoken
from tests.text.text_testdata import DATA, load_json

GOLDEN = load_json("golden_es.json")


@pytest.fixture(scope="module")
def fe():
    return front_end(SpanishFrontEnd, "es")


def test_goldens_where_upstream_reads_right_are_exact(fe):
    right = [case for case in GOLDEN if case["upstream_reads_right"]]
    assert len(right) >= 100
    assert mismatches(fe, right) == []  # 100 %: every model input, word2ph included


def test_a_golden_in_full(fe):
    case = next(c for c in GOLDEN if c["text"] == "¿Dónde está la estación?")
    out = run(fe, case["text"])
    assert model_inputs(out) == golden_inputs(case)
    assert spoken(out) == "¿dˈondeestˈalaˌestaθjˈon?"
    assert set(out.tone_ids.tolist()) == {0, 12} and set(out.language_ids.tolist()) == {0, 5}
    assert out.bert.shape == (1024, len(out.phones)) and not out.bert.any()
    assert out.ja_bert.shape == (768, len(out.phones)) and not out.ja_bert.any()


@pytest.mark.parametrize(
    ("written", "spelled"),
    [
        ("La ciudad tiene 1.000 habitantes.", "La ciudad tiene mil habitantes."),
        ("Más de 2.500.000 personas.", "Más de dos millones quinientos mil personas."),
        ("Son 10\u00a0000 libros.", "Son diez mil libros."),
        ("Cuesta 10 000 €.", "Cuesta diez mil euros."),
        ("Viven 2 500 000 personas.", "Viven dos millones quinientos mil personas."),
        ("Cuesta 100 000 €.", "Cuesta cien mil euros."),
        ("Tengo 5 000, y tú 6 000.", "Tengo cinco mil, y tú seis mil."),
        ("Pagué 3 500,50 €.", "Pagué tres mil quinientos coma cincuenta euros."),
        ("Pesa 1,5 kilos.", "Pesa uno coma cinco kilos."),
        ("El descuento es del 20%.", "El descuento es del veinte por ciento."),
        ("El 50 % aprobó.", "El cincuenta por ciento aprobó."),
        ("Cuesta 30 €.", "Cuesta treinta euros."),
        ("El precio es de 5€.", "El precio es de cinco euros."),
        ("Cuesta €1.", "Cuesta uno euro."),
        ("Pagué $20 por la entrada.", "Pagué veinte dólares por la entrada."),
        ("Llegó en 1º lugar.", "Llegó en primero lugar."),
        ("Es la 3.ª vez.", "Es la tercera vez."),
        ("Pérez&Hijos.", "Pérez y Hijos."),
        ("El Sr. García y la Dra. Pérez.", "El señor García y la doctora Pérez."),
        ("Vive en EE. UU. desde 2010.", "Vive en Estados Unidos desde dos mil diez."),
        ("Trae frutas, p. ej. manzanas.", "Trae frutas, por ejemplo manzanas."),
        ("Pan, leche, etc. Luego vuelve.", "Pan, leche, etcétera. Luego vuelve."),
    ],
)
def test_deviations_read_what_is_written(fe, written, spelled):
    # upstream: "uno. cero", "uno, cinco", "%" as "d", "€" silent or "bo", "$" a pause, "1º" "bo", "3.ª" a
    # date, "pérezyhijos" one word, "Sr." the letters "ese erre" and a pause; ours reads the words a reader
    # says
    assert spoken(run(fe, written)) == spoken(run(fe, spelled))


def test_deviations_are_golden_cases_upstream_misreads(fe):
    wrong = {case["text"]: case for case in GOLDEN if not case["upstream_reads_right"]}
    for text in ("La ciudad tiene 1.000 habitantes.", "Pesa 1,5 kilos.", "Cuesta 30 €.", "Llegó en 1º lugar."):
        assert model_inputs(run(fe, text)) != golden_inputs(wrong[text])


def test_phone_numbers_keep_their_spaces():
    assert normalize_spanish("Llama al 600 123 456.") == "llama al 600 123 456."
    assert normalize_spanish("En 2023 000 casos.") == "en 2023 000 casos."  # a year then a number, not 2023000
    assert normalize_spanish("3.5 y 1.0000") == "3.5 y 1.0000."  # not thousands: left as upstream reads them


def test_accents_decide_the_phones(fe):
    # BETO's tokenizer keeps accents (tokenizer_config.json), so niño is read with ɲ; an accent-stripping
    # tokenizer (bert-base-uncased's settings) would give gruut "nino"
    assert "ɲ" in spoken(run(fe, "El niño."))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stripping = SpanishFrontEnd(load_json("melo_symbols.json"), tokenizer=WordPieceTokenizer(DATA / "vocab_es.txt"))
        assert stripping.tokenizer.casing == UNCASED
        assert "ɲ" not in spoken(stripping("El niño."))


def test_unknown_words_are_left_out_with_a_warning(fe):
    with pytest.warns(SkippedTextWarning, match="♥"):
        out = fe("Te quiero ♥ mucho.")
    assert "UNK" not in out.phones  # upstream speaks an UNK phone
    assert spoken(out) == spoken(run(fe, "Te quiero mucho."))


def test_a_leading_hash_does_not_crash(fe):
    assert spoken(run(fe, "#hola")) == spoken(run(fe, "hola"))  # upstream: IndexError


def test_nothing_to_speak(fe):
    with pytest.raises(TextError, match="nothing to speak"):
        run(fe, "¿?")
    with pytest.raises(TextError, match=r"left out: '♥'"):
        run(fe, "♥")


def test_lexicon_is_refused():
    from openvoice_tt.text.lexicon import Lexicon

    with pytest.raises(LexiconError, match="English-only"):
        SpanishFrontEnd(load_json("melo_symbols.json"), lexicon=Lexicon({}))


def test_missing_gruut_data_names_the_extra(monkeypatch):
    import dataclasses

    language = dataclasses.replace(SpanishFrontEnd.language, packages=("gruut", "gruut_lang_es_not_installed"))
    monkeypatch.setattr(SpanishFrontEnd, "language", language)
    with pytest.raises(MissingPackagesError, match=r"gruut_lang_es_not_installed: .*openvoice-tt\[es\]") as e:
        SpanishFrontEnd(load_json("melo_symbols.json"))
    assert e.value.exit_code == 7


def test_without_bert_whole_words_give_the_same_phones(fe):
    with pytest.warns(NoBertWarning, match="Spanish"):
        plain = SpanishFrontEnd(load_json("melo_symbols.json"))
    for case in GOLDEN[:40]:
        ours, golden = model_inputs(run(plain, case["text"])), model_inputs(run(fe, case["text"]))
        assert ours["phone_ids"] == golden["phone_ids"] and ours["tone_ids"] == golden["tone_ids"]
        assert sum(ours["word2ph"]) == len(ours["phone_ids"])
        assert len(ours["word2ph"]) == len(plain.tokenizer.pieces(ours["normalized"])) + 2


def test_symbol_list_must_hold_spanish_phones():
    from openvoice_tt.errors import ConfigError

    symbols = [s for s in load_json("melo_symbols.json") if s != "θ"]
    with pytest.raises(ConfigError, match="Spanish front end needs: θ"):
        SpanishFrontEnd(symbols)


def test_distribute_phone_is_upstreams_round_robin():
    def upstream(n_phone, n_word):  # melo/text/spanish.py distribute_phone, restated
        counts = [0] * n_word
        for _ in range(n_phone):
            counts[counts.index(min(counts))] += 1
        return counts

    for n_phone in range(12):
        for n_word in range(1, 5):
            assert distribute_phone(n_phone, n_word) == upstream(n_phone, n_word)


def test_english_never_imports_gruut():
    code = (
        "import sys, json, warnings; warnings.simplefilter('ignore');"
        "import openvoice_tt.text, openvoice_tt.text.spanish, openvoice_tt.text.french, openvoice_tt.languages;"
        "from openvoice_tt.text import EnglishFrontEnd;"
        "EnglishFrontEnd(json.load(open('tests/text/data/melo_symbols.json')))('Hello there.');"
        "assert 'gruut' not in sys.modules, 'gruut imported';"
        "openvoice_tt.text.spanish.SpanishFrontEnd(json.load(open('tests/text/data/melo_symbols.json')));"
        "assert 'gruut' not in sys.modules, 'gruut imported by the constructor'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=DATA.parents[2])


def test_concurrent_chunks_match_sequential_ones(fe):
    from concurrent.futures import ThreadPoolExecutor

    texts = [case["text"] for case in GOLDEN[40:56]]
    sequential = [model_inputs(run(fe, t)) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda t: model_inputs(run(fe, t)), texts)) == sequential


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")  # what is tested
def test_lexicon_lookups_are_indexed_and_forks_get_their_own_gruut_thread(fe):
    import os
    import signal
    import time

    import gruut

    from openvoice_tt.text import latin

    run(fe, "Hola.")
    assert "es-es" in latin._INDEXED

    def indexes():  # on the gruut thread, where its connection lives
        settings = gruut._LOCAL.processors["espeak"].get_settings("es-es")
        connection = settings.lookup_phonemes.phonemizer.db_conn
        return connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()

    assert latin._gruut_thread().submit(indexes).result() == [("openvoice_tt_word",)]
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child phonemizes a new word on its own gruut thread (a stale one would hang)
        os.write(write, latin.gruut_ipa("mañana", "es-es").encode())
        os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 120
    while (done := os.waitpid(child, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:  # never hang the suite: a stale gruut thread in the child would wait forever
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        pytest.fail("the forked child did not phonemize within 120 s")
    assert os.waitstatus_to_exitcode(done[1]) == 0
    assert os.read(read, 100).decode() == latin.gruut_ipa("mañana", "es-es")


def test_upstream_splitter_marks_come_first():
    # TTS.tts_to_file runs split_sentences_latin before the front end: CJK sentence marks become ".", curly
    # quotes straight (then the Spanish cleaner removes them), brackets and guillemets go
    assert normalize_spanish("Sí；no，“ya” (él) ‘tú’ «y»") == "sí.no,ya él tú y."


def test_words_gruut_cannot_read_are_left_out_and_huge_numbers_read_digit_by_digit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = SpanishFrontEnd(load_json("melo_symbols.json"))  # no vocabulary: emoji reach gruut
    with pytest.warns(SkippedTextWarning, match="🙂"):
        out = plain("Hola 🙂 amigo.")  # gruut alone reads the emoji "bo"
    assert spoken(out) == spoken(run(plain, "Hola amigo."))
    with pytest.raises(TextError, match="left out: '١٢٣'"):
        run(plain, "١٢٣")  # gruut: "ɾɾˈuo"
    # gruut's number reading overflows past 27 digits and on 1e308 (upstream crashes): digit by digit
    assert spoken(run(plain, "1" * 40)) == "ˈuno" * 40 + "."
    assert spoken(run(plain, "1e308")) == spoken(run(plain, "1 e 3 0 8"))
