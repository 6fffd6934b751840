"""The host emulation implements exactly the ops the ttnn modules use, with ttnn's own semantics.

Values are checked against ttnn's golden functions (its torch reference implementations) where one
exists; conv1d/conv2d have none and are checked against torch in test_layers.py.
"""

from __future__ import annotations

import inspect
import itertools
import sys
import warnings
from pathlib import Path

import pytest
import torch

from openvoice_tt.bert.model import BertConfig, BertEncoder
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.converter import load_converter_model
from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer
from openvoice_tt.text import EnglishFrontEnd
from openvoice_tt.tt import host_ttnn, numerics
from openvoice_tt.tt.bert import BertFeatures
from openvoice_tt.tt.converter import ToneColorConverter
from openvoice_tt.tt.device import MOCK_ENV, mock_descriptor, open_emulated_device
from openvoice_tt.tt.layers import dtype_of
from openvoice_tt.tt.settings import ConverterPrecision, MeloPrecision, TraceSettings
from openvoice_tt.tt.synthesizer import MeloSynthesizer
from openvoice_tt.tt.trace import OP_NAMESPACES, UNTRACED
from scripts.tt_harness import clone_on_device

from .mock import REPO, requires_ttnn, run_json

# Emulated functions that are not device ops: host transfers, device handles, configuration.
INFRASTRUCTURE = UNTRACED


@pytest.fixture(scope="module")
def ops_used(tiny_checkpoints: Path) -> set[str]:
    # traces on: their copies of outputs and staged takes (`clone`, `copy`) are ops of that path
    device = open_emulated_device(trace=TraceSettings(enabled=True))
    trace = device.ttnn
    trace.recording = True
    melo = load_melo_synthesizer(
        tiny_checkpoints / "melotts-english" / "config.json", tiny_checkpoints / "melotts-english" / "checkpoint.pth"
    )
    conv = load_converter_model(
        tiny_checkpoints / "converter" / "config.json", tiny_checkpoints / "converter" / "checkpoint.pth"
    )
    synthesizer = MeloSynthesizer(device, melo, MeloPrecision())
    converter = ToneColorConverter(device, conv, ConverterPrecision())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = EnglishFrontEnd(melo.config.symbols)("Which ops does a whole clone use?")
    for _ in range(2):  # the second clone stages its take into the first one's slot (`copy`)
        clone_on_device(
            synthesizer,
            converter,
            [inputs],
            0,
            SynthesisParams(),
            NoiseSource(0),
            2205,
            torch.randn(1, 256, 1),
            torch.randn(1, 256, 1),
            0.3,
        )
    converter.tone_color([torch.randn(22050).numpy() * 0.3])
    # the parity harness (scripts/tt_parity.py) runs the vocoder unpadded, without a valid count: its
    # leaky ReLUs run on their own there
    z = torch.randn(1, 1, 8, conv.dec.conv_pre.in_channels)
    converter.dec(device.upload(z, dtype_of(device, ConverterPrecision().vocoder.activations), "z"), 8, None)
    # the prosody BERT on the device (tt/bert.py), a tiny one: its ops are the project's too
    bert = BertFeatures(device, BertEncoder(BertConfig(50, 64, 2, 2, 128)), "bert")
    bert(*bert.upload([2, 7, 9], [1, 2, 1], 64))
    return {name for name, _ in trace.calls}


def _emulated_ops() -> set[str]:
    return {
        name
        for name, value in vars(host_ttnn).items()
        if inspect.isfunction(value)
        and not name.startswith("_")
        and value.__module__ == host_ttnn.__name__
        and name not in INFRASTRUCTURE
    } | {f"{space}.{name}" for space in OP_NAMESPACES for name in vars(getattr(host_ttnn, space))}


def test_emulation_covers_exactly_the_ops_the_pipeline_uses(ops_used: set[str]) -> None:
    assert ops_used <= _emulated_ops(), ops_used - _emulated_ops()
    assert _emulated_ops() <= ops_used, f"emulated but unused (dead code): {_emulated_ops() - ops_used}"


@requires_ttnn
def test_emulated_ops_match_ttnn_golden_functions(ops_used: set[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from openvoice_tt.tt.device import MOCK_ENV, mock_descriptor

    monkeypatch.setenv(MOCK_ENV, str(mock_descriptor("wormhole_n150")))  # (restored afterwards) no chip lookup
    import ttnn

    torch.manual_seed(0)
    a, b = torch.randn(1, 1, 40, 64), torch.randn(1, 1, 40, 64)
    t = lambda x: host_ttnn.from_torch(x, dtype=host_ttnn.float32)  # noqa: E731
    cases = {
        "add": ((a, b), {}),
        "subtract": ((a, b), {}),
        "multiply": ((a, b), {}),
        "div": ((a, b.abs() + 0.5), {}),
        "exp": ((a,), {}),
        "sqrt": ((a.abs(),), {}),
        "tanh": ((a,), {}),
        "sigmoid": ((a,), {}),
        "relu": ((a,), {}),
        "neg": ((a,), {}),
        "ceil": ((a * 3,), {}),
        "gelu": ((a,), {"fast_and_approximate_mode": False}),
        "leaky_relu": ((a,), {"negative_slope": 0.1}),
        "softplus": ((a * 10,), {"beta": 1.0, "threshold": 20.0}),
        "clamp": ((a,), {"min": -0.5, "max": 0.5}),
        "ge": ((a, b), {}),
        "le": ((a, b), {}),
        "lt": ((a, b), {}),
        "eq": ((a.round(), b.round()), {}),
        "softmax": ((a,), {"dim": -1}),
        "cumsum": ((a,), {"dim": 3}),
        "sum": ((a,), {"dim": -1, "keepdim": True}),
        "transpose": ((a, -2, -1), {}),
        "matmul": ((a, b.transpose(-2, -1)), {}),
        "linear": ((a, torch.randn(64, 32)), {}),
    }
    compared = []
    for name, (args, kwargs) in cases.items():
        if name not in ops_used:
            continue
        golden = ttnn.get_golden_function(getattr(ttnn, name))(*args, **kwargs)
        emulated = getattr(host_ttnn, name)(*[t(x) if isinstance(x, torch.Tensor) else x for x in args], **kwargs)
        torch.testing.assert_close(emulated.value, golden.float(), rtol=1e-5, atol=1e-5, msg=name)
        compared.append(name)
    where = ttnn.get_golden_function(ttnn.where)(a > 0, a, b)
    torch.testing.assert_close(host_ttnn.where(t((a > 0).float()), t(a), t(b)).value, where)
    norm = ttnn.get_golden_function(ttnn.layer_norm)(a, epsilon=1e-5, weight=b[0, 0, 0], bias=a[0, 0, 0])
    torch.testing.assert_close(
        host_ttnn.layer_norm(t(a), epsilon=1e-5, weight=t(b[0, 0, 0]), bias=t(a[0, 0, 0])).value,
        norm,
        rtol=1e-5,
        atol=1e-5,
    )
    assert len(compared) >= 20, compared
    gate = ttnn.get_golden_function(ttnn.multiply)(
        a,
        b,
        input_tensor_a_activations=[ttnn.UnaryWithParam(ttnn.UnaryOpType.TANH)],
        input_tensor_b_activations=[ttnn.UnaryWithParam(ttnn.UnaryOpType.SIGMOID)],
    )
    emulated_gate = host_ttnn.multiply(
        t(a),
        t(b),
        input_tensor_a_activations=[host_ttnn.UnaryWithParam(host_ttnn.UnaryOpType.TANH)],
        input_tensor_b_activations=[host_ttnn.UnaryWithParam(host_ttnn.UnaryOpType.SIGMOID)],
    )
    torch.testing.assert_close(emulated_gate.value, gate.float(), rtol=1e-5, atol=1e-5)
    # the spectrogram's magnitude: squared operands, a fused output sqrt (ttnn's golden has no ADD_UNARY_SFPU)
    square, root = (ttnn.UnaryWithParam(getattr(ttnn.UnaryOpType, op)) for op in ("SQUARE", "SQRT"))
    magnitude = ttnn.get_golden_function(ttnn.add)(
        a, b, input_tensor_a_activations=[square], input_tensor_b_activations=[square], activations=[root]
    )
    emulated_square, emulated_root = (host_ttnn.UnaryWithParam(host_ttnn.UnaryOpType[op]) for op in ("SQUARE", "SQRT"))
    emulated_magnitude = host_ttnn.add(
        t(a),
        t(b),
        input_tensor_a_activations=[emulated_square],
        input_tensor_b_activations=[emulated_square],
        activations=[emulated_root],
    )
    torch.testing.assert_close(emulated_magnitude.value, magnitude.float(), rtol=1e-6, atol=0)
    mask = (torch.arange(40) < 29).float().reshape(1, 1, 40, 1)
    addcmul = ttnn.get_golden_function(ttnn.addcmul)(a, b, mask, value=-1.0)
    torch.testing.assert_close(host_ttnn.addcmul(t(a), t(b), t(mask), value=-1.0).value, addcmul.float())
    # data movement (split) and the ReLU fused onto a multiply's operand
    for golden_part, part in zip(
        ttnn.get_golden_function(ttnn.split)(a, 32, 3), host_ttnn.split(t(a), 32, dim=3), strict=True
    ):
        assert torch.equal(part.value, golden_part.float())
    relu = [ttnn.UnaryWithParam(ttnn.UnaryOpType.RELU)]
    relu_mask = ttnn.get_golden_function(ttnn.multiply)(a, mask, input_tensor_a_activations=relu)
    emulated_relu = [host_ttnn.UnaryWithParam(host_ttnn.UnaryOpType.RELU)]
    emulated = host_ttnn.multiply(t(a), t(mask), input_tensor_a_activations=emulated_relu)
    assert torch.equal(emulated.value, relu_mask.float()) and emulated.value.min() == 0.0


def test_fused_activations_and_addcmul_round_as_the_separate_ops() -> None:
    """bf16: a fused input activation is packed to bf16 before the binary step, so the gate equals
    tanh, sigmoid and multiply as three ops bit for bit; addcmul rounds its sum once (x + r * 1 = add)."""
    device = host_ttnn.open_device()
    torch.manual_seed(1)
    a, b = (host_ttnn.from_torch(torch.randn(1, 1, 64, 96) * 3, dtype=host_ttnn.bfloat16, device=device) for _ in "ab")
    unary = host_ttnn.UnaryWithParam
    fused = host_ttnn.multiply(
        a,
        b,
        input_tensor_a_activations=[unary(host_ttnn.UnaryOpType.TANH)],
        input_tensor_b_activations=[unary(host_ttnn.UnaryOpType.SIGMOID)],
    )
    sigmoid = host_ttnn.Tensor(torch.sigmoid(b.value.float()), host_ttnn.bfloat16, device=device, packer=True)
    separate = host_ttnn.multiply(host_ttnn.tanh(a), sigmoid)
    assert torch.equal(fused.value, separate.value)
    assert not torch.equal(fused.value, host_ttnn.multiply(a, b).value)
    mask = host_ttnn.from_torch((torch.arange(64) < 40).float().reshape(1, 1, 64, 1), dtype=host_ttnn.bfloat16)
    shifted = host_ttnn.addcmul(a, b, mask, value=1.0)
    assert torch.equal(shifted.value[..., :40, :], host_ttnn.add(a, b).value[..., :40, :])
    assert torch.equal(shifted.value[..., 40:, :], a.value[..., 40:, :])


def test_emulated_binary_output_activations_follow_the_op_in_float32() -> None:
    """The spectrogram's magnitude as one add: each operand squared (input activations), then the sum's
    output activations (+eps, sqrt) in order, every step rounded to float32 (the SFPU's arithmetic)."""
    device = host_ttnn.open_device()
    torch.manual_seed(2)
    re, im = (torch.randn(1, 1, 64, 96) * 1e-3 for _ in "ri")  # powers near eps: eps shows
    a, b = (host_ttnn.from_torch(x, dtype=host_ttnn.float32, device=device) for x in (re, im))
    unary, kind = host_ttnn.UnaryWithParam, host_ttnn.UnaryOpType
    eps = torch.tensor(1e-6, dtype=torch.float32)
    fused = host_ttnn.add(
        a,
        b,
        input_tensor_a_activations=[unary(kind.SQUARE)],
        input_tensor_b_activations=[unary(kind.SQUARE)],
        activations=[unary(kind.ADD_UNARY_SFPU, 1e-6), unary(kind.SQRT)],
    )
    assert torch.equal(fused.value, torch.sqrt((re * re + im * im) + eps))
    assert not torch.equal(fused.value, torch.sqrt(re * re + im * im))


def test_emulation_refuses_a_float32_mask_in_a_bfloat16_block() -> None:
    """ttnn's addcmul, concat and `where` with a scalar branch refuse mixed dtypes (TT_FATAL on a mock
    device); a mixed multiply is accepted and takes the first operand's dtype."""
    device = host_ttnn.open_device()
    x = host_ttnn.from_torch(torch.randn(1, 1, 64, 32), dtype=host_ttnn.bfloat16, device=device)
    mask = host_ttnn.from_torch((torch.arange(64) < 40).float().reshape(1, 1, 64, 1), dtype=host_ttnn.float32)
    with pytest.raises(RuntimeError, match="addcmul needs operands of one dtype, got bfloat16, bfloat16, float32"):
        host_ttnn.addcmul(x, x, mask, value=1.0)
    with pytest.raises(RuntimeError, match="where with a scalar branch"):
        host_ttnn.where(mask, x, -1e4)
    with pytest.raises(RuntimeError, match="concat"):
        host_ttnn.concat([x, host_ttnn.typecast(x, host_ttnn.float32)], dim=3)
    assert host_ttnn.multiply(x, mask).dtype is host_ttnn.bfloat16
    assert host_ttnn.where(mask, x, host_ttnn.typecast(x, host_ttnn.float32)).dtype is host_ttnn.bfloat16


@requires_ttnn
@pytest.mark.tt_mock
@pytest.mark.parametrize("arch", ["wormhole_n150", "blackhole_p150"])
def test_emulation_accepts_and_refuses_the_dtype_mixes_a_mock_device_does(arch: str) -> None:
    """Every float32 / bfloat16 / bfloat8_b mix of the ops that may see one (`scripts/tt_dtype_mixes.py`):
    the same output dtype or the same refusal on the mock device and on the emulation."""

    def run(device: str) -> dict[str, str]:
        return run_json([sys.executable, str(REPO / "scripts" / "tt_dtype_mixes.py"), "--device", device], 300)

    mock, emulated = run(f"mock:{arch}"), run("emulation")
    assert mock == emulated, {
        case: (mock[case], emulated.get(case)) for case in mock if mock[case] != emulated.get(case)
    }
    refused = {case for case, dtype in mock.items() if dtype == "refused"}
    assert "addcmul bfloat16 bfloat16 float32" in refused and "where(c, t, scalar) float32 bfloat16" in refused
    assert "addcmul bfloat16 bfloat16 bfloat16" not in refused and "multiply bfloat16 float32" not in refused


def test_bfloat16_storage_rounds_and_float32_does_not() -> None:
    x = torch.tensor([1.0 + 2**-10, 3.14159265])
    assert torch.equal(host_ttnn.from_torch(x, dtype=host_ttnn.bfloat16).value, x.to(torch.bfloat16).float())
    assert torch.equal(host_ttnn.from_torch(x, dtype=host_ttnn.float32).value, x)
    y = host_ttnn.add(host_ttnn.from_torch(x, dtype=host_ttnn.bfloat16), 1e-3)
    assert torch.equal(y.value, (x.to(torch.bfloat16).float() + 1e-3).to(torch.bfloat16).float())


def test_conv_weights_prepared_once_are_never_served_stale() -> None:
    """conv1d/conv2d keep their rounded weights on the weight tensor: a later call gives the bits of a
    conv with freshly uploaded weights, and a weight written in place, replaced
    (`copy_host_to_device_tensor`) or asked for in another dtype is rounded afresh."""
    device = host_ttnn.open_device()
    torch.manual_seed(2)
    x = host_ttnn.from_torch(torch.randn(1, 1, 40, 8), dtype=host_ttnn.bfloat16, device=device)
    weight = host_ttnn.from_torch(torch.randn(6, 8, 3), dtype=host_ttnn.float32)
    bias = host_ttnn.from_torch(torch.randn(1, 1, 1, 6), dtype=host_ttnn.float32)
    config = host_ttnn.init_device_compute_kernel_config(math_fidelity=host_ttnn.MathFidelity.HiFi2)

    def conv(w: host_ttnn.Tensor, dtype: host_ttnn.DataType = host_ttnn.bfloat8_b) -> torch.Tensor:
        conv_config = host_ttnn.Conv1dConfig(weights_dtype=dtype)
        shape = dict(in_channels=8, out_channels=6, batch_size=1, input_length=40, kernel_size=3, padding=1)
        out = host_ttnn.conv1d(x, w, device, bias_tensor=bias, conv_config=conv_config, compute_config=config, **shape)
        return out.value

    def fresh(dtype: host_ttnn.DataType = host_ttnn.bfloat8_b) -> torch.Tensor:
        return conv(host_ttnn.from_torch(weight.value.clone(), dtype=host_ttnn.float32), dtype)

    first = conv(weight)
    assert torch.equal(conv(weight), first) and torch.equal(first, fresh())
    assert torch.equal(conv(weight, host_ttnn.bfloat16), fresh(host_ttnn.bfloat16))
    assert not torch.equal(fresh(host_ttnn.bfloat16), first)
    weight.value.mul_(-1)  # in place: the same storage at a new version
    assert torch.equal(conv(weight), fresh()) and not torch.equal(conv(weight), first)
    host_ttnn.copy_host_to_device_tensor(host_ttnn.from_torch(torch.zeros(6, 8, 3), dtype=host_ttnn.float32), weight)
    assert torch.equal(conv(weight), fresh()) and torch.equal(fresh(), conv(weight)[..., :1, :].expand_as(first))


def _prepared_matrix(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """The matrix ttnn's prepare_conv_weights builds from a conv weight [out, in/groups, *kernel], written out
    element by element: row (kernel position, input channel), column output channel; a grouped conv's
    weight expanded block-diagonal (zeros outside its group)."""
    out, per_group, *kernel = weight.shape
    positions = [list(p) for p in itertools.product(*[range(k) for k in kernel])]
    matrix = torch.zeros(len(positions) * per_group * groups, out)
    for p, position in enumerate(positions):
        for o in range(out):
            g = o // (out // groups)
            for i in range(per_group):
                matrix[(p * groups + g) * per_group + i, o] = weight[(o, i, *position)]
    return matrix


@requires_ttnn
@pytest.mark.parametrize(
    "shape, groups",
    [((48, 32, 3), 1), ((32, 16, 11), 1), ((24, 1, 3), 24), ((32, 8, 5), 4), ((40, 16, 3, 3), 1)],
    ids=["conv", "kernel-11", "depthwise", "grouped", "conv2d"],
)
def test_a_bfloat8_b_conv_weight_holds_ttnns_packing_of_its_prepared_matrix(
    shape: tuple[int, ...], groups: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulated conv weight, in bfloat8_b, is bit for bit ttnn's own bfloat8_b packing (from_torch, a
    tile per 32 x 32) of the matrix its conv prepares: one exponent per 16 output channels of a tap and
    input channel. The matrix's layout is written here from ttnn's source (prepare_conv2d_weights; the
    mock device cannot read a prepared weight back), so this holds the emulation to that reading and to
    ttnn's packing; the conv run through `host_ttnn.conv1d` must use it too. Heavy-tailed values, so that
    rounding along the taps (the emulation's old grouping) gives other values."""
    monkeypatch.setenv(MOCK_ENV, str(mock_descriptor("wormhole_n150")))  # no chip lookup
    import ttnn

    torch.manual_seed(4)
    weight = torch.randn(shape) * torch.exp(torch.randn(shape) * 2)
    matrix = _prepared_matrix(weight, groups)
    packed = ttnn.to_torch(ttnn.from_torch(matrix, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT)).float()
    where = _prepared_matrix(torch.arange(1, weight.numel() + 1, dtype=torch.float32).reshape(shape), groups)
    held = where > 0  # each weight's place in the matrix (its flat index + 1; the block-diagonal zeros 0)
    expected = torch.empty(weight.numel())
    expected[where[held].long() - 1] = packed[held]
    expected = expected.reshape(shape)
    emulated = host_ttnn._prepared_weight(
        host_ttnn.from_torch(weight, dtype=host_ttnn.float32), shape, host_ttnn.bfloat8_b, groups=groups
    )
    assert torch.equal(emulated.view(torch.int32), expected.view(torch.int32))
    if len(shape) == 3:  # the conv itself computes with those weights (exact mode: float32 products)
        out, per_group, taps = shape
        x = torch.randn(1, per_group * groups, 20)
        device = host_ttnn.open_device(mode="exact")
        y = host_ttnn.conv1d(
            host_ttnn.from_torch(x.transpose(1, 2)[None], dtype=host_ttnn.float32, device=device),
            host_ttnn.from_torch(weight, dtype=host_ttnn.float32),
            device,
            in_channels=per_group * groups,
            out_channels=out,
            batch_size=1,
            input_length=20,
            kernel_size=taps,
            padding=taps // 2,
            groups=groups,
            dtype=host_ttnn.float32,
            conv_config=host_ttnn.Conv1dConfig(weights_dtype=host_ttnn.bfloat8_b),
        )
        conv = torch.nn.functional.conv1d(x, expected, padding=taps // 2, groups=groups)
        assert torch.allclose(y.value.reshape(20, out).T[None], conv, rtol=1e-5, atol=1e-5 * float(conv.abs().max()))
    along_taps = numerics.round_bfp8(weight)  # the grouping the emulation used before: not the chip's
    assert not torch.equal(along_taps, expected)


def test_trace_counts_matrix_flops() -> None:
    from openvoice_tt.tt.trace import OpTrace

    trace = OpTrace(host_ttnn, recording=True)
    a = host_ttnn.from_torch(torch.randn(1, 1, 10, 8), dtype=host_ttnn.float32)
    trace.matmul(a, host_ttnn.from_torch(torch.randn(8, 6), dtype=host_ttnn.float32))
    assert trace.flops == 2 * 10 * 8 * 6
    trace.conv1d(
        input_tensor=a,
        weight_tensor=host_ttnn.from_torch(torch.randn(4, 8, 3)),
        device=None,
        in_channels=8,
        out_channels=4,
        batch_size=1,
        input_length=10,
        kernel_size=3,
        padding=1,
    )
    assert trace.flops == 2 * 10 * 8 * 6 + 2 * 10 * 4 * 8 * 3
    assert [name for name, _ in trace.calls] == ["matmul", "conv1d"]


def test_a_counting_tape_holds_no_tensor_and_still_refuses_host_transfers() -> None:
    """The traceability harness tapes forwards to count ops: a tape that kept every output alive to the
    forward's end filled L1 on a mock device (the L1 conv chains' activations were never freed)."""
    import weakref

    from openvoice_tt.tt.trace import OpTrace

    trace = OpTrace(host_ttnn)
    a = host_ttnn.from_torch(torch.randn(1, 1, 4, 8), dtype=host_ttnn.float32)
    for keep in (True, False):
        trace.start_tape(keep=keep)
        held = weakref.ref(trace.exp(a))
        with pytest.raises(RuntimeError, match="inside a trace capture"):
            trace.to_torch(a)
        tape = trace.stop_tape()
        assert len(tape) == 1 and tape[0][0] is host_ttnn.exp
        assert (held() is not None) == keep, keep
        del tape


def test_a_kept_op_wrapper_follows_recording_and_taping_turned_on_later() -> None:
    """OpTrace keeps the wrapper of an op after its first lookup: what the wrapper does (record, tape) is
    decided per call, so turning recording or a tape on after that first lookup still sees every call; a
    host transfer used freely outside a tape is still refused inside one."""
    from openvoice_tt.tt.trace import OpTrace

    trace = OpTrace(host_ttnn)
    a = host_ttnn.from_torch(torch.randn(1, 1, 4, 8), dtype=host_ttnn.float32)
    exp = trace.exp
    exp(a)
    trace.to_torch(a)
    assert trace.exp is exp and trace.calls == []  # kept; not recording yet
    trace.recording = True
    trace.exp(a)
    assert [name for name, _ in trace.calls] == ["exp"]
    trace.start_tape(keep=False)
    trace.exp(a)
    with pytest.raises(RuntimeError, match="inside a trace capture"):
        trace.to_torch(a)
    assert [op for op, _, _, _ in trace.stop_tape()] == [host_ttnn.exp]


@requires_ttnn
def test_emulated_attention_layout_ops_match_ttnn_golden_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data movement of tt/attention.py: heads split and joined, permutes, broadcast where and eq."""
    from openvoice_tt.tt.device import MOCK_ENV, mock_descriptor

    monkeypatch.setenv(MOCK_ENV, str(mock_descriptor("wormhole_n150")))  # (restored afterwards) no chip lookup
    import ttnn

    torch.manual_seed(0)
    t = lambda x: host_ttnn.from_torch(x, dtype=host_ttnn.float32)  # noqa: E731
    qkv = torch.randn(1, 64, 3 * 2 * 32)
    golden = ttnn.get_golden_function(ttnn.transformer.split_query_key_value_and_split_heads)(
        qkv, num_heads=2, transpose_key=True
    )
    emulated = host_ttnn.transformer.split_query_key_value_and_split_heads(t(qkv), num_heads=2, transpose_key=True)
    for g, e in zip(golden, emulated, strict=True):
        assert torch.equal(e.value, g)
    heads = torch.randn(1, 2, 64, 32)
    concatenated = ttnn.get_golden_function(ttnn.transformer.concatenate_heads)(heads)
    assert torch.equal(host_ttnn.transformer.concatenate_heads(t(heads)).value, concatenated)
    relative = torch.randn(1, 2, 64, 9)
    permuted = ttnn.get_golden_function(ttnn.permute)(relative, (1, 3, 2, 0))
    assert torch.equal(host_ttnn.permute(t(relative), (1, 3, 2, 0)).value, permuted)
    scores, pairs = torch.randn(1, 2, 64, 64), (torch.rand(1, 1, 64, 64) > 0.5).float()
    where = ttnn.get_golden_function(ttnn.where)(pairs > 0, scores, -1e4)
    assert torch.equal(host_ttnn.where(t(pairs), t(scores), -1e4).value, where)
    offsets, wanted = torch.randint(-6, 6, (1, 1, 64, 64)).float(), torch.arange(-4, 5).float().reshape(1, 9, 1, 1)
    eq = ttnn.get_golden_function(ttnn.eq)(offsets, wanted)
    assert torch.equal(host_ttnn.eq(t(offsets), t(wanted)).value, eq.float())
