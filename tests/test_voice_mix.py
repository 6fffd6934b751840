"""Voice mixes (`openvoice_tt.api.mix`): the weighted mean of tone-color embeddings, parsed and checked by
one parser for `clone`/`convert --se a.pth:0.7 --se b.pth:0.3`, `extract-se --mix`, a batch item's
`se: a.pth:0.7|b.pth:0.3` and the server's `voice: "alice*0.7+bob*0.3"`.

The arithmetic is exact where IEEE float32 makes it so: one voice is its tensor (the same object), 0.5/0.5
and 1/1 are (a + b) / 2 bit for bit (halving is exact, so round(a + b) / 2 = round((a + b) / 2)), and
0.7/0.3 is the float32 expression sum(w_i * se_i) / sum(w_i) evaluated independently in numpy, equal bit
for bit; against the float64 value it is within float32 rounding (three roundings of terms at most |se|).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from openvoice_tt import api
from openvoice_tt import batch as batching
from openvoice_tt.api.mix import MAX_MIX_VOICES, load_mix, mix_embeddings, parse_mix, split_mix
from openvoice_tt.cli import app
from openvoice_tt.errors import InputError
from openvoice_tt.server import Limits
from openvoice_tt.streaming import pcm16
from tests.test_batch_hostile import jsonl, statuses
from tests.test_cli_errors import fails
from tests.test_server import serving

pytestmark = pytest.mark.usefixtures("tool_environment")

WEIGHT = "must be a finite number above 0 (as a float32: 1.4e-45 to 3.4e38), got"


def embedding(seed: int) -> torch.Tensor:
    return torch.randn(1, 256, 1, generator=torch.Generator().manual_seed(seed))


@pytest.fixture
def voices(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Three embedding files, a.pth, b.pth and c.pth (random, seeded)."""
    paths = tuple(tmp_path / f"{name}.pth" for name in "abc")
    for seed, path in enumerate(paths, 1):
        api.save_se(embedding(seed), path)
    return paths  # type: ignore[return-value]


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def ok(*args: object) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------------------------- the mix


def test_one_voice_is_that_voice_bit_for_bit(voices) -> None:
    a = api.load_se(voices[0])
    assert mix_embeddings([a], [1.0]) is a
    assert mix_embeddings([a], [0.3]) is a  # normalized: one voice of any weight is that voice
    for spec in (str(voices[0]), f"{voices[0]}:1", f"{voices[0]}:0.3"):
        assert torch.equal(load_mix(parse_mix([spec])), a)


def test_equal_weights_are_the_mean_and_weights_are_normalized(voices) -> None:
    a, b = api.load_se(voices[0]), api.load_se(voices[1])
    mean = (a + b) / 2  # float32
    assert a.dtype == torch.float32
    for specs in ([f"{voices[0]}:0.5", f"{voices[1]}:0.5"], [str(voices[0]), str(voices[1])]):
        assert torch.equal(load_mix(parse_mix(specs)), mean)
    # 3 and 3: 3 * a rounds (it is no power of two), so the mean only to float32 rounding (two roundings of
    # terms at most 3 |se|, divided by 6, then one more of the result)
    thirds = load_mix(parse_mix([f"{voices[0]}:3", f"{voices[1]}:3"]))
    bound = 2 * np.finfo(np.float32).eps * float(torch.maximum(a.abs(), b.abs()).max())
    assert 0 < float((thirds - mean).abs().max()) <= bound


def test_weighted_mix_is_the_weighted_sum(voices) -> None:
    a, b, c = (api.load_se(path) for path in voices)
    mixed = load_mix(parse_mix([f"{voices[0]}:0.7", f"{voices[1]}:0.3"]))
    w = np.float32([0.7, 0.3])
    expected = (w[0] * a.numpy() + w[1] * b.numpy()) / (w[0] + w[1])  # numpy float32, the same expression
    assert mixed.dtype == torch.float32 and np.array_equal(mixed.numpy(), expected)
    exact = (0.7 * a.double() + 0.3 * b.double()) / 1.0
    bound = 4 * np.finfo(np.float32).eps * float(torch.maximum(a.abs(), b.abs()).max())  # float32 roundings
    assert float((mixed.double() - exact).abs().max()) <= bound
    three = load_mix(parse_mix([f"{voices[0]}:2", f"{voices[1]}:1", f"{voices[2]}:1"]))
    w3 = np.float32([2, 1, 1])
    expected3 = (w3[0] * a.numpy() + w3[1] * b.numpy() + w3[2] * c.numpy()) / np.float32(4)
    assert np.array_equal(three.numpy(), expected3)


def test_parsing_paths_and_weights() -> None:
    """The weight follows the LAST separator, and only when it reads as a number."""
    parts = parse_mix(["a.pth:0.7", "dir:x/b.pth", "c:2.pth", "d.pth:1:0.5", "e.pth"]).parts
    assert [(p.voice, p.weight) for p in parts] == [
        ("a.pth", 0.7),
        ("dir:x/b.pth", 1.0),
        ("c:2.pth", 1.0),
        ("d.pth:1", 0.5),
        ("e.pth", 1.0),
    ]
    assert split_mix("a.pth:0.7|b.pth:0.3").spec() == "a.pth:0.7|b.pth:0.3"
    server = split_mix("alice*0.7+bob", "+", "*")
    assert server.voices == ("alice", "bob") and server.weights == (0.7, 1.0)


BAD_MIXES = [
    (["a.pth:-1", "b.pth"], f"voice mix: the weight of 'a.pth' {WEIGHT} '-1'"),
    (["a.pth:0", "b.pth"], f"voice mix: the weight of 'a.pth' {WEIGHT} '0'"),
    (["a.pth:nan"], f"voice mix: the weight of 'a.pth' {WEIGHT} 'nan'"),
    (["a.pth:inf", "b.pth"], f"voice mix: the weight of 'a.pth' {WEIGHT} 'inf'"),
    (["a.pth:1e-50"], f"voice mix: the weight of 'a.pth' {WEIGHT} '1e-50'"),  # 0 as a float32
    (["a.pth:3e38", "b.pth:3e38"], "voice mix: the weights add up to more than a float32 holds (6e+38)"),
    ([f"{n}.pth" for n in range(MAX_MIX_VOICES + 1)], f"voice mix: 9 voices, at most {MAX_MIX_VOICES}"),
    (["a.pth:"], "voice mix: no weight after ':' in 'a.pth:'"),
    ([":0.5"], "voice mix: no voice before the weight in ':0.5'"),
    ([" "], "voice mix: an empty voice (write each as VOICE or VOICE:WEIGHT)"),
]


@pytest.mark.parametrize(("specs", "message"), BAD_MIXES)
def test_bad_mixes_are_refused(specs: list[str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_mix(specs)
    assert str(caught.value) == message


def test_split_mix_refuses_empty_parts() -> None:
    for text in ("a.pth|", "|a.pth", "a.pth||b.pth"):
        with pytest.raises(InputError, match=r"^voice mix: an empty voice in .* \(write VOICE\|VOICE\)$"):
            split_mix(text)


# -------------------------------------------------------------------------------------------------- CLI


def test_clone_and_convert_with_a_mix_use_the_mixed_embedding(tiny_checkpoints: Path, tmp_path: Path, voices) -> None:
    """`--se a:0.7 --se b:0.3` makes byte for byte the audio of `--se` with the file `extract-se --mix`
    saved (upstream's format: a bare float32 tensor equal to the mix), and other audio than `a` alone."""
    a, b, _ = voices
    mix = [f"{a}:0.7", f"{b}:0.3"]
    saved = ok("extract-se", "--mix", mix[0], "--mix", mix[1], "-o", tmp_path / "mixed.pth")
    assert saved["mix"] == [{"se": str(a), "weight": 0.7}, {"se": str(b), "weight": 0.3}]
    stored = torch.load(tmp_path / "mixed.pth", weights_only=True)
    assert type(stored) is torch.Tensor and torch.equal(stored, load_mix(parse_mix(mix)))

    common = ("-c", tiny_checkpoints, "-d", "cpu", "--seed", 2, "-q")
    text = "A voice made of two."
    result = ok("clone", text, "--se", mix[0], "--se", mix[1], "-o", tmp_path / "mix.wav", *common)
    assert result["se"] == f"{a}:0.7|{b}:0.3"
    ok("clone", text, "--se", tmp_path / "mixed.pth", "-o", tmp_path / "file.wav", *common)
    ok("clone", text, "--se", a, "-o", tmp_path / "a.wav", *common)
    assert (tmp_path / "mix.wav").read_bytes() == (tmp_path / "file.wav").read_bytes()
    assert (tmp_path / "mix.wav").read_bytes() != (tmp_path / "a.wav").read_bytes()
    ok("clone", text, "--se", f"{a}:1", "-o", tmp_path / "a1.wav", *common)
    assert (tmp_path / "a1.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()

    source = ("convert", tmp_path / "a.wav", "--source-speaker", "EN-US", "-c", tiny_checkpoints, "-d", "cpu")
    ok(*source, "--se", mix[0], "--se", mix[1], "-o", tmp_path / "conv-mix.wav")
    ok(*source, "--se", tmp_path / "mixed.pth", "-o", tmp_path / "conv-file.wav")
    assert (tmp_path / "conv-mix.wav").read_bytes() == (tmp_path / "conv-file.wav").read_bytes()


@pytest.fixture
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any model loading fails the test: a bad mix must be refused before."""

    def loads(*args, **kwargs):
        raise AssertionError("a model loaded before the mix was checked")

    monkeypatch.setattr(api, "VoiceCloner", loads)
    monkeypatch.setattr(api, "ToneColorConverter", loads)


@pytest.mark.usefixtures("no_models")
def test_cli_refuses_bad_mixes_before_any_model_loads(tiny_checkpoints: Path, tmp_path: Path, voices) -> None:
    a, b, _ = voices
    out = tmp_path / "out.wav"
    a_weight = f"voice mix: the weight of '{a}' {WEIGHT}"
    cases = [
        ([f"{a}:-1", str(b)], 3, f"{a_weight} '-1'"),
        ([f"{a}:0", str(b)], 3, f"{a_weight} '0'"),
        ([f"{a}:nan", str(b)], 3, f"{a_weight} 'nan'"),
        ([f"{a}:inf", str(b)], 3, f"{a_weight} 'inf'"),
        ([str(a)] * 9, 3, "voice mix: 9 voices, at most 8"),
        ([f"{a}:", str(b)], 3, f"voice mix: no weight after ':' in '{a}:'"),
        ([str(a), f"{tmp_path / 'missing.pth'}:0.5"], 4, f"{tmp_path / 'missing.pth'}: file not found"),
        (
            [str(a), str(tmp_path / "notes.txt")],
            4,
            f"{tmp_path / 'notes.txt'}: is not a tone-color embedding (a .pth saved by extract-se)",
        ),
    ]
    (tmp_path / "notes.txt").write_text("not an embedding\n")
    source = tmp_path / "source.wav"
    sf.write(source, 0.1 * np.sin(np.arange(22_050) / 10), 22_050)
    common = ("-c", tiny_checkpoints, "-d", "cpu")
    for specs, code, message in cases:
        se = [arg for spec in specs for arg in ("--se", spec)]
        exact = f"error: {message}"
        assert fails(["clone", "Hi.", *se, "-o", out, *common], code, message, out) == exact
        convert = ["convert", source, *se, "--source-speaker", "EN-US", "-o", out, *common]
        assert fails(convert, code, message, out) == exact
        mix = [arg for spec in specs for arg in ("--mix", spec)]
        assert fails(["extract-se", *mix, "-o", tmp_path / "m.pth"], code, message, tmp_path / "m.pth") == exact
    fails(["extract-se", a, "--mix", str(b), "-o", tmp_path / "m.pth"], 2, "not both")
    before = b.read_bytes()
    mixing_into_b = ["extract-se", "--mix", f"{a}:0.7", "--mix", f"{b}:0.3", "-o", b]
    fails(mixing_into_b, 5, f"{b}: is also an input ({b}); writing it would destroy it")
    assert b.read_bytes() == before  # a mix never overwrites one of its files
    fails(["extract-se", "-o", tmp_path / "m.pth"], 2, "give recordings of the voice, or --mix")


# ------------------------------------------------------------------------------------------------ batch


def test_batch_mix_item_and_resume(tiny_checkpoints: Path, tmp_path: Path, voices) -> None:
    """An item's `se` may be a mix (`|` between the files, as `reference`); it clones as the saved mix
    does, and --resume redoes it when any file of the mix or a weight changes (and nothing else)."""
    a, b, _ = voices
    assert invoke("extract-se", "--mix", f"{a}:0.7", "--mix", f"{b}:0.3", "-o", tmp_path / "mixed.pth").exit_code == 0
    rows = [
        {"text": "Two voices at once.", "se": "a.pth:0.7|b.pth:0.3", "output": "mix", "seed": 5},
        {"text": "Two voices at once.", "se": "mixed.pth", "output": "file", "seed": 5},
        {"text": "A bad mix.", "se": "a.pth:-1|b.pth", "output": "bad"},
        {"text": "A missing file.", "se": "a.pth|gone.pth", "output": "gone"},
    ]
    listing = jsonl(tmp_path / "list.jsonl", rows)
    (item, *_) = batching.read_items(listing)
    assert item.se_files == (a, b) and item.se.weights == (0.7, 0.3)
    out = tmp_path / "out"
    args = (listing, "-o", out, "-c", tiny_checkpoints, "-d", "cpu", "--json")

    def run(*extra: object) -> dict[str, tuple]:
        result = invoke("batch", *args, *extra)
        assert result.exit_code == 1, result.output  # the two bad items fail, alone
        return statuses(json.loads(result.stdout))

    first = run()
    assert first["mix.wav"] == first["file.wav"] == ("done", None)
    assert first["#3"] == ("failed", f"voice mix: the weight of 'a.pth' {WEIGHT} '-1'")  # as written
    assert first["gone.wav"] == ("failed", f"{tmp_path / 'gone.pth'}: file not found")
    assert (out / "mix.wav").read_bytes() == (out / "file.wav").read_bytes()
    skipped = ("skipped", None)
    resumed = run("--resume")
    assert resumed["mix.wav"] == resumed["file.wav"] == skipped

    api.save_se(embedding(9), b)  # a file of the mix changes
    changed = run("--resume")
    assert changed["mix.wav"] == ("done", "voice mix changed (an embedding file's content or a weight)")
    assert changed["file.wav"] == skipped

    rows[0]["se"] = "a.pth:0.6|b.pth:0.3"  # a weight changes
    jsonl(listing, rows)
    assert run("--resume")["mix.wav"] == ("done", "voice mix changed (an embedding file's content or a weight)")
    assert run("--resume")["mix.wav"] == skipped


def test_batch_se_option_gives_items_without_a_voice_a_mix(tiny_checkpoints: Path, tmp_path: Path, voices) -> None:
    """`batch --se a:0.7 --se b:0.3` clones every item that names no voice in the mix (as the saved mix
    file does, byte for byte); an item with its own `se` keeps it; a changed weight redoes only the former."""
    a, b, _ = voices
    assert invoke("extract-se", "--mix", f"{a}:0.7", "--mix", f"{b}:0.3", "-o", tmp_path / "mixed.pth").exit_code == 0
    rows = [{"text": "No voice named.", "output": "plain"}, {"text": "Its own voice.", "se": "c.pth", "output": "own"}]
    listing = jsonl(tmp_path / "list.jsonl", rows)
    common = ("-c", tiny_checkpoints, "-d", "cpu", "--seed", 3, "--json")

    def run(out: Path, *extra: object) -> dict[str, tuple]:
        result = invoke("batch", listing, "-o", out, *common, *extra)
        assert result.exit_code == 0, result.output
        return statuses(json.loads(result.stdout))

    mix = ("--se", f"{a}:0.7", "--se", f"{b}:0.3")
    assert run(tmp_path / "mix", *mix) == {"plain.wav": ("done", None), "own.wav": ("done", None)}
    run(tmp_path / "file", "--se", tmp_path / "mixed.pth")
    run(tmp_path / "none")
    for name in ("plain.wav", "own.wav"):
        assert (tmp_path / "mix" / name).read_bytes() == (tmp_path / "file" / name).read_bytes()
    assert (tmp_path / "mix" / "own.wav").read_bytes() == (tmp_path / "none" / "own.wav").read_bytes()
    assert (tmp_path / "mix" / "plain.wav").read_bytes() != (tmp_path / "none" / "plain.wav").read_bytes()
    assert run(tmp_path / "mix", *mix, "--resume") == {"plain.wav": ("skipped", None), "own.wav": ("skipped", None)}
    assert run(tmp_path / "mix", "--se", f"{a}:0.6", "--se", f"{b}:0.3", "--resume") == {
        "plain.wav": ("done", "voice mix changed (an embedding file's content or a weight)"),
        "own.wav": ("skipped", None),
    }
    out = tmp_path / "bad"
    fails(["batch", listing, "-o", out, "--se", f"{a}:-1", "--se", b, *common[:4]], 3, f"'{a}' {WEIGHT} '-1'")
    fails(["batch", listing, "-o", out, "--se", tmp_path / "gone.pth", *common[:4]], 4, "gone.pth: file not found")
    assert not out.exists() or not list(out.iterdir())


# ----------------------------------------------------------------------------------------------- server


@pytest.fixture(scope="module")
def mix_server(tiny_checkpoints: Path, tmp_path_factory: pytest.TempPathFactory):
    voices, cache = tmp_path_factory.mktemp("mix-voices"), tmp_path_factory.mktemp("se-cache")
    for seed, name in enumerate(("alice", "bob"), 1):
        api.save_se(embedding(seed), voices / f"{name}.pth")
    with serving(tiny_checkpoints, voices, cache, Limits()) as served:
        yield served


def _speech(url: str, voice: str, seed: int = 1) -> httpx.Response:
    request = {"model": "openvoice-tt", "voice": voice, "input": "Mixed.", "response_format": "pcm", "seed": seed}
    return httpx.post(f"{url}/v1/audio/speech", json=request, timeout=300)


def test_server_speaks_a_mix_of_stored_voices(mix_server) -> None:
    url, service = mix_server
    alice, bob = (api.load_se(service.voices / f"{name}.pth") for name in ("alice", "bob"))

    def expected(se: torch.Tensor) -> bytes:
        return pcm16(np.concatenate(list(service.cloner.stream("Mixed.", se=se, seed=1))))

    equal = _speech(url, "alice+bob")
    assert equal.status_code == 200, equal.text
    assert equal.content == expected((alice + bob) / 2)
    weighted = _speech(url, "alice*0.7+bob*0.3")
    assert weighted.status_code == 200 and weighted.content == expected(mix_embeddings([alice, bob], [0.7, 0.3]))
    assert weighted.content != equal.content
    assert _speech(url, "alice*2").content == _speech(url, "alice").content  # one voice is that voice


@pytest.mark.parametrize(
    ("voice", "message"),
    [
        ("alice*-1+bob", f"voice mix: the weight of 'alice' {WEIGHT} '-1'"),
        ("alice*0+bob", f"voice mix: the weight of 'alice' {WEIGHT} '0'"),
        ("alice*nan+bob", f"voice mix: the weight of 'alice' {WEIGHT} 'nan'"),
        ("alice*inf+bob", f"voice mix: the weight of 'alice' {WEIGHT} 'inf'"),
        ("+".join(["alice"] * 9), "voice mix: 9 voices, at most 8"),
        ("alice+", "voice mix: an empty voice in 'alice+' (write VOICE+VOICE)"),
        ("alice*", "voice mix: no weight after '*' in 'alice*'"),
        ("alice+nobody", "unknown voice 'nobody' in the mix 'alice+nobody' (a mix takes stored voices: alice, bob)"),
        ("alice+EN-US", "unknown voice 'EN-US' in the mix 'alice+EN-US' (a mix takes stored voices: alice, bob)"),
        ("alice+../x", "invalid voice name '../x' (letters, digits, - and _; at most 64)"),
    ],
)
def test_server_refuses_bad_mixes(mix_server, voice: str, message: str) -> None:
    url, _ = mix_server
    response = _speech(url, voice)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["message"] == message and error["param"] == "voice", error
