"""Building blocks shared by the ttnn modules: linear, conv1d, polyphase conv-transpose, conv2d.

Activations are channels-last `[1, 1, T, C]` tensors in TILE layout, so VITS' channel LayerNorm is a
plain `layer_norm` over the last dim and 1x1 convs are `linear`s. Weights are prepared on the host once
(transposed, polyphase-rearranged, folded) and uploaded in `__init__`; conv weights go to `ttnn.conv1d`
as float32 host tensors on the first call, which returns them prepared on device, and are reused for
every later call of the same input length (prepared conv weights are specific to the input shape).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch

from openvoice_tt.errors import DeviceError
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.programs import capturing, operation_runs
from openvoice_tt.tt.settings import BlockPrecision as Precision
from openvoice_tt.tt.settings import MathConfig

DTYPES = {"bf16": "bfloat16", "fp32": "float32", "bfp8": "bfloat8_b"}
BYTES = {"bf16": 2, "fp32": 4, "bfp8": 1.0625}  # per element (bfloat8_b: 16 mantissas share an exponent)


def dtype_of(device: TtDevice, name: str) -> Any:
    return getattr(device.ttnn, DTYPES[name])


def placed(memory_config: Any | None) -> dict[str, Any]:
    """An op's `memory_config` keyword, or none (ttnn's default placement) for None."""
    return {"memory_config": memory_config} if memory_config is not None else {}


def masked(ttnn: Any, x: Any, mask: Any | None, memory_config: Any | None = None) -> Any:
    """x * mask, or x itself when there is no padding (mask None). `memory_config`: where the product goes
    (an L1 conv's input sharding, `l1_conv_input`), when not where x is."""
    if mask is None:
        return x
    return ttnn.multiply(x, mask, **placed(memory_config))


def halves(ttnn: Any, x: Any, length: int, width: int) -> tuple[Any, Any]:
    """[1, 1, length, 2 * width] -> its two [1, 1, length, width] halves along the channels.

    One program (ttnn's two-chunk tiled split) when `width` is a tile multiple; otherwise two slices
    (ttnn's split would itself fall back to slices there, at four programs)."""
    if width % 32 == 0:
        first, second = ttnn.split(x, width, dim=3)
        return first, second
    return (
        ttnn.slice(x, [0, 0, 0, 0], [1, 1, length, width]),
        ttnn.slice(x, [0, 0, 0, width], [1, 1, length, 2 * width]),
    )


def leaky_relu_activation(ttnn: Any, slope: float) -> Any:
    """Leaky ReLU as a fused activation (of a conv's output or a binary op's operand)."""
    return ttnn.UnaryWithParam(ttnn.UnaryOpType.LEAKY_RELU, slope)


def masked_relu(ttnn: Any, x: Any, mask: Any | None) -> Any:
    """relu(x) * mask as one op (the ReLU fused onto the multiply's first operand); exact, as the mask is
    0/1. Without padding (mask None), relu(x)."""
    if mask is None:
        return ttnn.relu(x)
    return ttnn.multiply(x, mask, input_tensor_a_activations=[ttnn.UnaryWithParam(ttnn.UnaryOpType.RELU)])


def masked_leaky_relu(
    ttnn: Any, x: Any, mask: Any | None, slope: float, dram: bool = False, memory_config: Any | None = None
) -> Any:
    """leaky_relu(x) * mask as one op (the activation fused onto the multiply's first operand); exact,
    as the mask is 0/1. Without padding (mask None), leaky_relu(x). `dram` puts the result in DRAM
    (for a conv that slices through DRAM, whatever memory x is in), `memory_config` where it says (an L1
    conv's input sharding, `l1_conv_input`)."""
    placement = placed(ttnn.DRAM_MEMORY_CONFIG if dram else memory_config)
    if mask is None:
        return ttnn.leaky_relu(x, negative_slope=slope, **placement)
    return ttnn.multiply(x, mask, input_tensor_a_activations=[leaky_relu_activation(ttnn, slope)], **placement)


def length_mask(
    device: TtDevice,
    valid: Any | None,
    length: int,
    dtype: Any,
    scale: int = 1,
    halvings: int = 0,
    positions: Any | None = None,
) -> Any | None:
    """[1, 1, length, 1]: 1 on the first ceil(valid / 2**halvings) * scale positions of a padded axis; None
    when nothing is padded (`valid` None). `positions`: the [1, 1, length, 1] positions compared, when not
    the resident 0, 1, ..., length - 1 (the reference encoder's also mask its tile-padding columns).

    `valid` is a count uploaded as the forward's input (`TtDevice.upload_count`), never a Python number: a
    new count changes the data, not the op graph, so one trace per bucket replays at every length in it.
    The count is scaled (samples per frame, columns per row) and halved (stride-2 convs) as the comparison
    reads it (fused activations on its second operand: no program of its own, exact in float32).

    Made in `dtype`, the activations' dtype of the block that uses it (one `lt` either way): ttnn's
    addcmul, concat and `where` with a scalar refuse operands of mixed dtypes (`host_ttnn._one_dtype`)."""
    if valid is None:
        return None
    ttnn = device.ttnn
    positions = device.resident.positions(length) if positions is None else positions
    return ttnn.lt(positions, valid, dtype=dtype, **count_activations(ttnn, scale, halvings))


def count_activations(ttnn: Any, scale: int = 1, halvings: int = 0) -> dict[str, Any]:
    """The fused activations that turn an uploaded count into ceil(count / 2**halvings) * scale as a
    comparison's second operand reads it (no program of their own; exact in float32)."""
    count = [ttnn.UnaryWithParam(ttnn.UnaryOpType.MUL_UNARY_SFPU, 0.5**halvings)] if halvings else []
    count += [ttnn.UnaryWithParam(ttnn.UnaryOpType.CEIL)] if halvings else []
    count += [ttnn.UnaryWithParam(ttnn.UnaryOpType.MUL_UNARY_SFPU, float(scale))] if scale != 1 else []
    return {"input_tensor_b_activations": count} if count else {}


def in_dtype(ttnn: Any, x: Any | None, dtype: Any) -> Any | None:
    """`x` stored as `dtype`, for a block whose activations take another type than its input's (one
    typecast; none when it already is, or when x is None)."""
    return x if x is None or x.dtype == dtype else ttnn.typecast(x, dtype)


def compute_config(device: TtDevice, precision: Precision | MathConfig) -> Any:
    """The compute kernel config of a block's ops, from its `tt.settings.MathConfig` (one place for fidelity and
    accumulation). Refuses HiFi4 with fp32 accumulation on Wormhole (tt-metal #38306)."""
    math = precision.math if isinstance(precision, Precision) else precision
    if device.arch.startswith("wormhole") and not math.wormhole_safe:
        raise DeviceError("HiFi4 with fp32 accumulation gives wrong results on Wormhole (tt-metal #38306)")
    ttnn = device.ttnn
    return ttnn.init_device_compute_kernel_config(
        device.handle.arch(),
        math_fidelity=getattr(ttnn.MathFidelity, math.fidelity),
        math_approx_mode=False,
        fp32_dest_acc_en=math.fp32_accumulation,
        packer_l1_acc=True,
    )


class Linear:
    """y = x @ W^T + b on [..., T, in] -> [..., T, out] (a 1x1 Conv1d or an nn.Linear)."""

    def __init__(
        self,
        device: TtDevice,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        precision: Precision,
        output: str | None = None,
    ) -> None:
        """`output` names the dtype of y when it is not the block's activations' (a conv bias: the weights')."""
        weight = weight.reshape(weight.shape[0], -1)  # [out, in] from [out, in, 1] too
        self.ttnn = device.ttnn
        self.dtype = dtype_of(device, output or precision.activations)
        self.weight = device.constant(weight.t(), dtype_of(device, precision.weights))
        self.bias = (
            device.constant(bias.reshape(1, -1), dtype_of(device, precision.weights)) if bias is not None else None
        )
        self.compute = compute_config(device, precision)

    @classmethod
    def of(cls, device: TtDevice, module: torch.nn.Module, name: str, precision: Precision) -> Linear:
        """From a reference nn.Linear or 1x1 nn.Conv1d whose state-dict prefix is `name`."""
        w = device.weights
        bias = w.get(f"{name}.bias", lambda: module.bias) if module.bias is not None else None
        return cls(device, w.get(f"{name}.weight", lambda: module.weight), bias, precision)

    def __call__(self, x: Any) -> Any:
        return self.ttnn.linear(x, self.weight, bias=self.bias, dtype=self.dtype, compute_kernel_config=self.compute)


def layer_norm_params(
    device: TtDevice,
    module: torch.nn.Module,
    name: str,
    precision: Precision,
    fields: tuple[str, str] = ("gamma", "beta"),
) -> tuple[Any, Any]:
    """(gamma, beta) of a reference layer norm as [1, C] device tensors: a ChannelLayerNorm's `gamma` and
    `beta`, or with `fields=("weight", "bias")` a torch LayerNorm's (the BERT's)."""
    w, dtype = device.weights, dtype_of(device, precision.weights)
    gamma, beta = (w.get(f"{name}.{field}", lambda f=field: getattr(module, f)).reshape(1, -1) for field in fields)
    return device.constant(gamma, dtype), device.constant(beta, dtype)


class Embedding:
    """Table lookup as one-hot x table: ids [1, 1, T, 1] (float32) -> [1, 1, T, dim].

    ttnn.embedding only takes bfloat16 tables; the one-hot matmul keeps float32 tables exact (and
    equals the bf16 lookup bit for bit when the table is bf16). The tables here are tiny (<= 256 rows).
    """

    def __init__(self, device: TtDevice, table: torch.Tensor, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.table = device.constant(table, dtype_of(device, precision.weights))
        self.ids = device.constant(
            torch.arange(table.shape[0], dtype=torch.float32).reshape(1, 1, 1, -1), device.ttnn.float32
        )
        self.dtype = dtype_of(device, precision.activations)
        self.compute = compute_config(device, precision)

    def __call__(self, ids: Any) -> Any:
        ttnn = self.ttnn
        one_hot = ttnn.eq(ids, self.ids)
        return ttnn.matmul(one_hot, self.table, dtype=self.dtype, compute_kernel_config=self.compute)


# A conv's activation block is one tile row high. Its circular buffers are then small: ttnn's DRAM
# slicing fits a vocoder conv in one slice where the default block needed eight (5 programs, not 40, for
# 16,384 x 128 float32, kernel 11, on the mock N150), and an L1 chain's activations fit beside them (the
# default block clashes with them for kernels 7 and 11 at 128 channels).
ACT_BLOCK_H = 32


def l1_shard_layout(ttnn: Any, channels: int) -> Any:
    """One sharding for every conv of an L1 chain (a mix fragments L1): height-sharded over every core up
    to 64 channels, block-sharded from 128 (where a whole kernel x C_in x C_out weight per core would not
    fit beside the activations), as ttnn itself picks for most of these convs."""
    return ttnn.TensorMemoryLayout.BLOCK_SHARDED if channels >= 128 else ttnn.TensorMemoryLayout.HEIGHT_SHARDED


def _cores_along(tiles: int, cores: int, multiple: int = 1) -> int:
    """The most cores (from `cores` down) over which `tiles` split into equal parts of whole `multiple`s
    leave less than one core's part as padding: how ttnn 0.81.1 sizes a conv's grid along one axis."""

    def padding(n: int) -> tuple[int, int]:
        padded = -(-tiles // (n * multiple)) * n * multiple
        return padded - tiles, padded // n

    while cores > 1 and padding(cores)[0] >= padding(cores)[1]:
        cores -= 1
    return cores


def l1_conv_input(device: TtDevice, rows: int, channels: int) -> Any:
    """The L1 memory config ttnn.conv1d shards an interleaved [rows, channels] tile-layout input into, for an
    L1 chain conv (`l1_shard_layout`, `ACT_BLOCK_H`). An op that writes its output in exactly this config
    hands the conv an input it reads as it is: no interleaved-to-sharded copy (ttnn keeps a sharded input's
    own sharding unless told to reshard). As ttnn 0.81.1's conv chooses it on the device's worker grid:
    block sharding splits the rows over the grid's rows and the channels (tiles) over its columns, row-major;
    height sharding splits the rows over the cores in row-major order; each axis takes the most cores that
    leave less than one core's share as padding (checked against ttnn's own choice on both mocks,
    tests/tt/test_mock_device.py)."""
    ttnn = device.ttnn
    columns, grid_rows = device.compute_grid
    row_tiles, channel_tiles = -(-rows // 32), -(-channels // 32)
    layout = l1_shard_layout(ttnn, channels)
    if layout == ttnn.TensorMemoryLayout.BLOCK_SHARDED:
        row_cores = _cores_along(row_tiles, grid_rows, ACT_BLOCK_H // 32)
        channel_cores = _cores_along(channel_tiles, columns)
        ranges = [ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(channel_cores - 1, row_cores - 1))]
    else:
        row_cores, channel_cores = _cores_along(row_tiles, columns * grid_rows, ACT_BLOCK_H // 32), 1
        full, rest = divmod(row_cores, columns)
        ranges = [ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(columns - 1, full - 1))] if full else []
        ranges += [ttnn.CoreRange(ttnn.CoreCoord(0, full), ttnn.CoreCoord(rest - 1, full))] if rest else []
    shard = (-(-row_tiles // row_cores) * 32, -(-channel_tiles // channel_cores) * 32)
    spec = ttnn.ShardSpec(ttnn.CoreRangeSet(ranges), shard, ttnn.ShardOrientation.ROW_MAJOR)
    return ttnn.MemoryConfig(layout, ttnn.BufferType.L1, spec)


def fits_l1(device: TtDevice, rows: int, channels: int, activations: str, chain: str) -> bool:
    """The length-bucket rule: whether a conv chain over [rows, channels] activations runs in L1 (else
    DRAM), from the bytes per core one activation takes in the chain's sharding (`l1_shard_layout`: block
    sharding spreads over one core per 32 channels in each grid row) against the budget of its kind of
    chain ("resblocks", "wavenet", "convs": `device.L1_ACTIVATION_BYTES`). Callers ask a conv of the chain
    (`Conv1d.runs_in_l1`)."""
    columns, grid_rows = device.l1_grid
    padded = -(-channels // 32) * 32
    cores = grid_rows * min(columns, padded // 32) if channels >= 128 else columns * grid_rows
    return rows * padded * BYTES[activations] / cores <= device.l1_activation_bytes(chain)


BATCH = 1  # every conv runs one utterance at a time; prepared weights are keyed by (batch, input shape)
DRAM_SLICE_OPERATION = "Conv2dDeviceOperation"  # a DRAM-sliced conv runs one per slice (each after its halo)


class PreparedConvWeights:
    """A conv's weights: on the host until ttnn prepares them on the first call of a (batch, shape), then
    the prepared device tensors for that key only (ttnn's prepared conv weights are specific to the batch
    and padded length: reused at another length they silently give garbage), dropped when the device
    clears its program cache. The first call's upload is counted as a weight transfer."""

    def __init__(self, device: TtDevice, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        self.device = device
        self.host = (
            device.host_weight(weight),
            device.host_weight(bias.reshape(1, 1, 1, -1)) if bias is not None else None,
        )
        self.prepared: dict[Any, tuple[Any, Any]] = {}
        self.generation = device.generation

    def get(self, shape: Any) -> tuple[Any, Any]:
        if self.generation != self.device.generation:  # the program cache was cleared: re-prepare
            self.prepared, self.generation = {}, self.device.generation
        if (BATCH, shape) in self.prepared:
            return self.prepared[(BATCH, shape)]
        self.device.count_prepared_weight("conv_weight")
        return self.host

    def keep(self, shape: Any, weight: Any, bias: Any) -> None:
        self.prepared[(BATCH, shape)] = (weight, bias)


class Conv1d:
    """A same-length (or strided) Conv1d on [1, 1, L, C_in] -> [1, 1, L_out, C_out].

    `activation` (a ttnn.UnaryWithParam: leaky ReLU, tanh) is fused into the conv: the chip applies it to
    the float32 sum, after the bias, before the output is packed (tt-metal's conv compute kernel runs the
    SFPU activation on Dst), so it costs no program of its own.

    A call with `l1=True` keeps the activations in L1: the input is read as it is (a sharded L1 tensor
    from the previous conv, or converted once from DRAM), the conv runs whole (no DRAM slicing), and its
    output stays sharded in L1 for the next op; the input is freed by the conv (callers pass a tensor
    they do not read again; `keep_input` keeps it, for a caller that reads it again), and the halo
    output is not moved (one program fewer). Without it, ttnn
    slices a DRAM input through L1 as memory requires and returns a DRAM tensor (an input already in L1
    runs whole in L1: ttnn routes by the input's memory). Both run the same op, so the emulation, which
    has no memory, computes either.

    Left to itself, ttnn 0.81.1 searches the number of DRAM slices on the host at every call of a DRAM
    input (1-2 ms of a 229,376-row vocoder conv's ~3 ms host time on the mock P150). So the first call of a
    DRAM input at each length lets ttnn choose and counts the slices it ran (graph capture of that call:
    one conv device operation per slice); later calls at that length pass the same width slicing
    explicitly (the same programs, without the search). Per length, not a fixed number: longer buckets
    slice more. Not on the emulation (no memory: nothing to slice, so nothing learned).
    """

    def __init__(
        self,
        device: TtDevice,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        precision: Precision,
        padding: tuple[int, int] | None = None,
        dilation: int = 1,
        groups: int = 1,
        stride: int = 1,
        activation: Any | None = None,
    ) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.out_channels, in_per_group, self.kernel_size = weight.shape
        self.in_channels = in_per_group * groups
        self.dilation, self.groups, self.stride = dilation, groups, stride
        same = (self.kernel_size * dilation - dilation) // 2
        self.padding = padding if padding is not None else (same, same)
        self.activations = precision.activations
        self.dtype = dtype_of(device, precision.activations)
        ttnn = device.ttnn
        weights_dtype = dtype_of(device, precision.weights)
        l1 = {"shard_layout": l1_shard_layout(ttnn, self.in_channels), "reallocate_halo_output": False}

        def config(**placement: Any) -> Any:
            return ttnn.Conv1dConfig(
                weights_dtype=weights_dtype, activation=activation, act_block_h_override=ACT_BLOCK_H, **placement
            )

        self.configs = {  # by (l1, the conv frees its input)
            (False, False): config(),
            (True, True): config(deallocate_activation=True, **l1),
            (True, False): config(**l1),
        }
        self.compute = compute_config(device, precision)
        self.weights = PreparedConvWeights(device, weight, bias)
        self.dram_slicing: dict[int, Any] = {}  # length -> the width slicing ttnn chose for a DRAM input

    @classmethod
    def of(
        cls,
        device: TtDevice,
        module: torch.nn.Conv1d,
        name: str,
        precision: Precision,
        padding: tuple[int, int] | None = None,
        activation: Any | None = None,
    ) -> Conv1d:
        """From a reference nn.Conv1d (its dilation, groups and symmetric padding unless given)."""
        w = device.weights
        bias = w.get(f"{name}.bias", lambda: module.bias) if module.bias is not None else None
        return cls(
            device,
            w.get(f"{name}.weight", lambda: module.weight),
            bias,
            precision,
            padding=padding if padding is not None else (module.padding[0], module.padding[0]),
            dilation=module.dilation[0],
            groups=module.groups,
            stride=module.stride[0],
            activation=activation,
        )

    def runs_in_l1(self, rows: int, chain: str) -> bool:
        """The length-bucket rule, the one place it is said: whether a chain of kind `chain` through this conv
        runs in L1 (`l1=True`) at `rows` rows of this conv's input channels, in its activations' type
        (`fits_l1`). The caller picks the conv and the rows that count its chain's activation (its docstring
        says which)."""
        return fits_l1(self.device, rows, self.in_channels, self.activations, chain)

    def __call__(self, x: Any, length: int, l1: bool = False, keep_input: bool = False) -> Any:
        key = (length, "l1") if l1 else length  # prepared weights depend on the sharding too
        weight, bias = self.weights.get(key)
        placement, learn = self._placement(x, length, l1)
        with capturing() if learn else nullcontext([]) as nodes:
            out, (weight, prepared) = self.ttnn.conv1d(
                input_tensor=x,
                weight_tensor=weight,
                bias_tensor=bias,
                device=self.device.handle,
                in_channels=self.in_channels,
                out_channels=self.out_channels,
                batch_size=BATCH,
                input_length=length,
                kernel_size=self.kernel_size,
                stride=self.stride,
                padding=self.padding,
                dilation=self.dilation,
                groups=self.groups,
                dtype=self.dtype,
                conv_config=self.configs[(l1, l1 and not keep_input)],
                compute_config=self.compute,
                return_weights_and_bias=True,
                **placement,
            )
        if learn:
            slices = operation_runs(nodes, DRAM_SLICE_OPERATION)
            self.dram_slicing[length] = self.ttnn.Op2DSliceConfig(
                slice_type=self.ttnn.Op2DDRAMSliceWidth, num_slices=slices
            )
        self.weights.keep(key, weight, prepared)
        return out

    def _placement(self, x: Any, length: int, l1: bool) -> tuple[dict[str, Any], bool]:
        """(this call's slice_config keyword, whether to learn ttnn's own DRAM slicing from it): L1 whole for
        an L1 chain; for a DRAM input, the slicing learned at this length (class docstring), or none yet."""
        ttnn = self.ttnn
        if l1:
            return {"slice_config": ttnn.Op2DL1FullSliceConfig}, False
        if self.device.is_emulation or x.memory_config().buffer_type != ttnn.BufferType.DRAM:
            return {}, False
        learned = self.dram_slicing.get(length)
        return ({"slice_config": learned}, False) if learned is not None else ({}, True)


def polyphase_weight(weight: torch.Tensor, stride: int, padding: int) -> tuple[torch.Tensor, int, int]:
    """ConvTranspose1d weight [in, out, k] -> an equivalent Conv1d weight [stride*out, in, K'] and its padding.

    Output sample n = m*stride + r (phase r) of the transposed conv is sum_i x[i] w[n - i*stride + padding],
    a regular convolution over the input for each phase. Stacking the phases as output channels
    (channel r*out + c) gives one conv1d whose output, reshaped [L, stride*out] -> [L*stride, out],
    interleaves the phases back: the sub-pixel form, with no zero-stuffing.
    """
    c_in, c_out, k = weight.shape
    taps: dict[int, dict[int, int]] = {}  # phase -> {q: kernel index j} with j = q*stride + r + padding
    for r in range(stride):
        taps[r] = {}
        for j in range(k):
            q, rem = divmod(j - r - padding, stride)
            if rem == 0:
                taps[r][q] = j
    qs = [q for phase in taps.values() for q in phase]
    q_min, q_max = min(qs), max(qs)
    length = q_max - q_min + 1
    out = torch.zeros(stride * c_out, c_in, length, dtype=weight.dtype)
    for r, phase in taps.items():
        for q, j in phase.items():
            # y_r[m] = sum_q x[m - q] w[j]; conv1d tap t reads x[m + t - q_max], so t = q_max - q
            out[r * c_out : (r + 1) * c_out, :, q_max - q] = weight[:, :, j].t()
    return out, q_max, -q_min


class ConvTranspose1d:
    """ConvTranspose1d(stride s) as one conv1d with s*C_out channels plus a reshape (polyphase form)."""

    def __init__(
        self,
        device: TtDevice,
        weight: torch.Tensor,
        bias: torch.Tensor,
        stride: int,
        padding: int,
        precision: Precision,
    ) -> None:
        self.ttnn = device.ttnn
        self.stride = stride
        self.out_channels = weight.shape[1]
        poly, left, right = polyphase_weight(weight, stride, padding)
        self.conv = Conv1d(device, poly, bias.repeat(stride), precision, padding=(left, right))

    def __call__(self, x: Any, length: int, l1: bool = False) -> Any:
        y = self.conv(x, length, l1=l1)
        return self.ttnn.reshape(y, (1, 1, length * self.stride, self.out_channels))


class Conv2d:
    """A Conv2d on NHWC input given as [1, H, W, C] or flattened [1, 1, H*W, C]."""

    def __init__(
        self,
        device: TtDevice,
        weight: torch.Tensor,
        bias: torch.Tensor,
        stride: int,
        padding: int,
        precision: Precision,
    ) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.out_channels, self.in_channels, kh, kw = weight.shape
        self.kernel_size, self.stride, self.padding = (kh, kw), (stride, stride), (padding, padding)
        self.dtype = dtype_of(device, precision.activations)
        self.conv_config = device.ttnn.Conv2dConfig(weights_dtype=dtype_of(device, precision.weights))
        self.compute = compute_config(device, precision)
        self.weights = PreparedConvWeights(device, weight, bias)

    def __call__(self, x: Any, height: int, width: int) -> tuple[Any, int, int]:
        weight, bias = self.weights.get((height, width))
        out, (h_out, w_out), (weight, bias) = self.ttnn.conv2d(
            input_tensor=x,
            weight_tensor=weight,
            bias_tensor=bias,
            device=self.device.handle,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            batch_size=BATCH,
            input_height=height,
            input_width=width,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dtype=self.dtype,
            conv_config=self.conv_config,
            compute_config=self.compute,
            return_output_dim=True,
            return_weights_and_bias=True,
        )
        self.weights.keep((height, width), weight, bias)
        return out, h_out, w_out
