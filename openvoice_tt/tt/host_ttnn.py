"""A host emulation of exactly the ttnn ops this project uses (verification tier 1).

No Tenstorrent chip is available where this project is developed and tested, and a mock device computes
nothing (its tensors read back as zeros). So the `tt/` modules are written against the ttnn API and run
here on CPU through this stand-in namespace: same function names, keyword arguments, tensor shapes,
layouts and return structures as ttnn 0.81.1 for the subset used, with torch doing the arithmetic.

Two modes, chosen per device (`open_device(mode=...)`; every tensor knows its device):

- "faithful" (the default): computes what the chip computes (`tt/numerics.py` has the bit-level model
  and its sources). Matrix-unit operands (matmul, linear, conv1d, conv2d) are truncated to the 19-bit
  source registers and multiplied in the phases of the op's math fidelity, accumulated in float32; a
  fused bias is added on the matrix unit too (both sides truncated). layer_norm and softmax run their
  subtract / scale / gamma steps on the matrix unit in ttnn's kernels, so their inputs are truncated and
  their multiplies follow the fidelity (a model of those kernels, not of every intermediate tile).
  `sum` of float32 with fp32 accumulation takes ttnn's exact SFPU path; element-wise ops on float32 run
  on the vector unit (SFPU) in float32, exact here. Op outputs stored as bf16 are rounded as the packer
  rounds (ties away from zero); host uploads as `ttnn.from_torch` rounds (ties to even).
- "exact" (for debugging): arithmetic in float32, storage rounding only (bf16, bfp8): what the
  emulation did before the faithful mode existed.

Both store `bfloat8_b` exactly as ttnn packs it (16 values share an exponent; checked bit for bit).
Shapes and op order are checked against a real mock device by the acceptance tests, and element-wise
semantics against ttnn's own golden functions where those exist (tests/tt/test_host_ttnn.py).
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import torch
import torch.nn.functional as F

from openvoice_tt.tt import numerics

MODES = ("faithful", "exact")


class DataType(enum.Enum):
    BFLOAT16 = "bfloat16"
    FLOAT32 = "float32"
    BFLOAT8_B = "bfloat8_b"
    UINT32 = "uint32"
    INT32 = "int32"


class Layout(enum.Enum):
    ROW_MAJOR = "row_major"
    TILE = "tile"


bfloat16 = DataType.BFLOAT16
float32 = DataType.FLOAT32
bfloat8_b = DataType.BFLOAT8_B
uint32 = DataType.UINT32
int32 = DataType.INT32
ROW_MAJOR_LAYOUT = Layout.ROW_MAJOR
TILE_LAYOUT = Layout.TILE


class TensorMemoryLayout(enum.Enum):
    INTERLEAVED = "interleaved"
    HEIGHT_SHARDED = "height_sharded"
    BLOCK_SHARDED = "block_sharded"
    WIDTH_SHARDED = "width_sharded"


# Memory configs, sharded ones included (an L1 conv input written in place by the op that makes it:
# tt/layers.l1_conv_input). Where a tensor lives changes no value, so the emulation only carries them.


class BufferType(enum.Enum):
    DRAM = "dram"
    L1 = "l1"
    L1_SMALL = "l1_small"


class ShardOrientation(enum.Enum):
    ROW_MAJOR = "row_major"
    COL_MAJOR = "col_major"


@dataclass(frozen=True)
class CoreCoord:
    x: int
    y: int


@dataclass(frozen=True)
class CoreRange:
    start: CoreCoord
    end: CoreCoord


class CoreRangeSet:
    def __init__(self, ranges: Sequence[CoreRange]) -> None:
        self.ranges = tuple(ranges)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoreRangeSet) and set(self.ranges) == set(other.ranges)

    def __hash__(self) -> int:
        return hash(frozenset(self.ranges))


@dataclass(frozen=True)
class ShardSpec:
    grid: CoreRangeSet
    shape: tuple[int, int]
    orientation: ShardOrientation


@dataclass(frozen=True)
class MemoryConfig:
    memory_layout: TensorMemoryLayout = TensorMemoryLayout.INTERLEAVED
    buffer_type: BufferType = BufferType.DRAM
    shard_spec: ShardSpec | None = None


DRAM_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)
L1_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.L1)


class MathFidelity(enum.Enum):
    LoFi = "LoFi"
    HiFi2 = "HiFi2"
    HiFi3 = "HiFi3"
    HiFi4 = "HiFi4"


@dataclass
class ComputeKernelConfig:
    math_fidelity: MathFidelity = MathFidelity.HiFi4
    fp32_dest_acc_en: bool = True
    packer_l1_acc: bool = False
    math_approx_mode: bool = False


class UnaryOpType(enum.Enum):
    LEAKY_RELU = "leaky_relu"
    TANH = "tanh"
    SIGMOID = "sigmoid"
    MUL_UNARY_SFPU = "mul_unary_sfpu"  # x * param (a valid count scaled to samples: tt/layers.length_mask)
    CEIL = "ceil"
    RELU = "relu"
    SQUARE = "square"  # x * x (a magnitude's power: tt/spectrogram.py)
    ADD_UNARY_SFPU = "add_unary_sfpu"  # x + param
    SQRT = "sqrt"


@dataclass(frozen=True)
class UnaryWithParam:
    """A fused activation (ttnn.UnaryWithParam): the op and its parameter (leaky ReLU: the slope)."""

    op_type: UnaryOpType
    param: float = 0.0

    @property
    def params(self) -> list[float]:
        return [self.param]


@dataclass(frozen=True)
class Op2DSliceConfig:
    slice_type: str = "L1_FULL"
    num_slices: int = 0


Op2DL1FullSliceConfig = Op2DSliceConfig()


@dataclass
class Conv1dConfig:
    """The fields of ttnn.Conv1dConfig this project sets; only `weights_dtype` and `activation` change values
    (the others place buffers on the chip)."""

    weights_dtype: DataType = DataType.BFLOAT16
    activation: UnaryWithParam | None = None
    shard_layout: TensorMemoryLayout | None = None
    deallocate_activation: bool = False
    reallocate_halo_output: bool = True
    act_block_h_override: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


Conv2dConfig = Conv1dConfig


def init_device_compute_kernel_config(arch: Any = None, **kwargs: Any) -> ComputeKernelConfig:
    return ComputeKernelConfig(**kwargs)


# --------------------------------------------------------------------------------------------------
# Tensors and storage rounding.


def _store(value: torch.Tensor, dtype: DataType, packer: bool = False) -> torch.Tensor:
    """Round to the stored type: as the host converts (uploads, weights) or as the packer does (op outputs)."""
    if dtype is DataType.BFLOAT16:
        return numerics.round_bf16_packer(value) if packer else numerics.round_bf16_host(value)
    if dtype is DataType.FLOAT32:
        return value.float()
    if dtype is DataType.BFLOAT8_B:
        return numerics.round_bfp8(value.float())
    return value.round().long() if value.is_floating_point() else value.long()


class Tensor:
    """A host tensor with a ttnn dtype, layout and (emulated) device placement."""

    def __init__(
        self,
        value: torch.Tensor,
        dtype: DataType,
        layout: Layout = Layout.TILE,
        device: Any = None,
        packer: bool = False,
    ) -> None:
        self.value = _store(value, dtype, packer)
        self.dtype = dtype
        self.layout = layout
        self.device_handle = device
        self.prepared: dict[tuple, tuple[torch.Tensor, int, torch.Tensor, int]] = {}  # see _kept

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    def memory_config(self) -> MemoryConfig:
        return DRAM_MEMORY_CONFIG

    def __repr__(self) -> str:
        return f"HostTensor(shape={self.shape}, dtype={self.dtype.value}, layout={self.layout.value})"


def _out(
    value: torch.Tensor, like: Tensor | None, dtype: DataType | None = None, layout: Layout | None = None
) -> Tensor:
    dtype = dtype or (like.dtype if like is not None else DataType.BFLOAT16)
    if dtype in (DataType.UINT32, DataType.INT32) and value.is_floating_point():
        dtype = DataType.FLOAT32
    device = _device_of(like)
    layout = layout or (like.layout if like is not None else Layout.TILE)
    return Tensor(value, dtype, layout, device, packer=_faithful(device))


def _faithful(*where: Any) -> bool:
    """Whether the first emulated device among these tensors / device handles runs the faithful mode."""
    for item in where:
        device = item.device_handle if isinstance(item, Tensor) else item
        if isinstance(device, HostDevice):
            return device.mode == "faithful"
    return False


def _fidelity(config: ComputeKernelConfig | None, op: str) -> ComputeKernelConfig:
    if config is None:  # a chip would use ttnn's default, which differs per op and arch: never rely on it
        raise ValueError(f"{op}: the faithful emulation needs an explicit compute kernel config")
    return config


def _accumulated(value: torch.Tensor, config: ComputeKernelConfig) -> torch.Tensor:
    """Without fp32 accumulation Dst holds bf16 (modelled as one rounding of the finished sum)."""
    return value if config.fp32_dest_acc_en else numerics.round_bf16_packer(value)


def _matrix_product(product, srcb: torch.Tensor, srca: torch.Tensor, config: ComputeKernelConfig) -> torch.Tensor:
    """`product(b, a)` (a matmul or conv, linear in both) as the matrix unit computes it at the config's fidelity."""
    terms = numerics.fidelity_terms(srcb, srca, config.math_fidelity.value)
    out = product(*terms[0])
    for b, a in terms[1:]:
        out = out + product(b, a)
    return _accumulated(out, config)


def _add_bias(value: torch.Tensor, bias: torch.Tensor | None, faithful: bool) -> torch.Tensor:
    """A fused bias: added on the matrix unit (both operands pass the source registers) when faithful."""
    if bias is None:
        return value
    return numerics.tf32(value) + numerics.tf32(bias) if faithful else value + bias


def _device_of(tensor: Tensor | None) -> Any:
    return tensor.device_handle if tensor is not None else None


def _v(x: Tensor | float | int) -> torch.Tensor | float | int:
    return x.value.float() if isinstance(x, Tensor) else x


def _f(x: Tensor) -> torch.Tensor:
    return x.value.float()


# --------------------------------------------------------------------------------------------------
# Host <-> "device".


class HostDevice:
    """Stands in for a device handle; `arch()` names the emulation, `mode` its arithmetic."""

    def __init__(self, mode: str = "faithful") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown emulation mode {mode!r} (choose from {', '.join(MODES)})")
        self.mode = mode

    def arch(self) -> str:
        return "host-emulation"

    def __repr__(self) -> str:
        return f"HostDevice(mode={self.mode!r})"


def open_device(device_id: int = 0, mode: str = "faithful", **kwargs: Any) -> HostDevice:
    return HostDevice(mode)


def close_device(device: HostDevice) -> None:
    return None


def from_torch(
    tensor: torch.Tensor,
    dtype: DataType | None = None,
    layout: Layout = Layout.ROW_MAJOR,
    device: Any = None,
    memory_config: MemoryConfig | None = None,
    **kwargs: Any,
) -> Tensor:
    if dtype is None:
        dtype = DataType.FLOAT32 if tensor.is_floating_point() else DataType.INT32
    return Tensor(tensor.detach().clone(), dtype, layout, device)


def to_torch(tensor: Tensor, **kwargs: Any) -> torch.Tensor:
    value = tensor.value
    if tensor.dtype is DataType.BFLOAT16:
        return value.to(torch.bfloat16)
    if tensor.dtype in (DataType.UINT32, DataType.INT32):
        return value.to(torch.int32)
    return value.clone()


# Preallocated inputs and trace replay (tt/slots.py, tt/traced.py).


def copy_host_to_device_tensor(host_tensor: Tensor, device_tensor: Tensor, cq_id: Any = None) -> None:
    """Overwrite a device tensor in place with a host tensor of the same shape, dtype and layout."""
    if (host_tensor.shape, host_tensor.dtype, host_tensor.layout) != (
        device_tensor.shape,
        device_tensor.dtype,
        device_tensor.layout,
    ):
        raise ValueError(f"copy_host_to_device_tensor: {host_tensor} into {device_tensor}")
    device_tensor.value = host_tensor.value.clone()


def clone(tensor: Tensor, **kwargs: Any) -> Tensor:
    return Tensor(tensor.value.clone(), tensor.dtype, tensor.layout, tensor.device_handle)


def to_memory_config(tensor: Tensor, memory_config: MemoryConfig, dtype: DataType | None = None) -> Tensor:
    """A copy into another memory (sharded L1 -> DRAM): the values move unchanged (the emulation has no
    memory), stored in `dtype` when one is given."""
    if dtype is None or dtype == tensor.dtype:
        return clone(tensor)
    return typecast(tensor, dtype)


def to_layout(tensor: Tensor, layout: Layout, **kwargs: Any) -> Tensor:
    """The same values in another layout (a tile tensor untilized on the device: the waveform before its
    download, tt/converter.py): moved unchanged."""
    return Tensor(tensor.value.clone(), tensor.dtype, layout, tensor.device_handle)


def copy(input_a: Tensor, input_b: Tensor, **kwargs: Any) -> None:
    """Overwrite `input_b` in place with `input_a`'s values (same shape), stored in `input_b`'s dtype."""
    if input_a.shape != input_b.shape:
        raise ValueError(f"copy: {input_a} into {input_b}")
    input_b.value = _store(input_a.value.float(), input_b.dtype, packer=_faithful(input_b))


def execute_tape(tape: Sequence[tuple[Any, tuple, dict, Any]]) -> None:
    """Replay recorded ops (trace.OpTrace.start_tape) as a chip replays a trace: each op reads the tensors
    it read at capture (whose contents may have changed since) with the same scalar arguments, and its
    result lands in the tensor it produced at capture."""
    for op, args, kwargs, out in tape:
        _refill(out, op(*args, **kwargs))


def _refill(target: Any, result: Any) -> None:
    if isinstance(target, Tensor):
        target.value = result.value
    elif isinstance(target, tuple | list):
        for t, r in zip(target, result, strict=True):
            _refill(t, r)


def typecast(tensor: Tensor, dtype: DataType, **kwargs: Any) -> Tensor:
    return Tensor(tensor.value.float(), dtype, tensor.layout, tensor.device_handle, packer=_faithful(tensor))


# --------------------------------------------------------------------------------------------------
# Element-wise.


def _activated(value: torch.Tensor, activation: UnaryWithParam | None) -> torch.Tensor:
    """A fused activation as the vector unit (SFPU) applies it to a Dst value, in float32."""
    if activation is None:
        return value
    if activation.op_type is UnaryOpType.LEAKY_RELU:
        return F.leaky_relu(value, activation.param)
    if activation.op_type is UnaryOpType.TANH:
        return torch.tanh(value)
    if activation.op_type is UnaryOpType.SIGMOID:
        return torch.sigmoid(value)
    if activation.op_type is UnaryOpType.MUL_UNARY_SFPU:  # float32 on the SFPU: exact on counts x powers of 2
        return value * torch.tensor(activation.param, dtype=torch.float32)
    if activation.op_type is UnaryOpType.CEIL:
        return torch.ceil(value)
    if activation.op_type is UnaryOpType.RELU:
        return torch.relu(value)
    if activation.op_type is UnaryOpType.SQUARE:  # float32 on the SFPU, each step rounded to float32
        return value * value
    if activation.op_type is UnaryOpType.ADD_UNARY_SFPU:
        return value + torch.tensor(activation.param, dtype=torch.float32)
    if activation.op_type is UnaryOpType.SQRT:
        return torch.sqrt(value)
    raise ValueError(f"fused activation {activation.op_type} is not emulated")


def _operand(x: Tensor | float, activations: Sequence[UnaryWithParam] | None) -> torch.Tensor | float:
    """A binary op's operand after its input activations (ttnn's `input_tensor_a_activations`): applied on
    the SFPU, then packed to the operand's own type before the op reads it."""
    value = _v(x)
    if not activations or not isinstance(x, Tensor):
        return value
    for activation in activations:
        value = _activated(value, activation)
    return _store(value, x.dtype, packer=_faithful(x))


def _binary(op, a: Tensor | float, b: Tensor | float, dtype: DataType | None = None, **kwargs: Any) -> Tensor:
    """Input activations on each operand (`_operand`), the op, then the output activations (ttnn's
    `activations`), applied in float32 on the SFPU to the result in Dst before it is stored."""
    like = a if isinstance(a, Tensor) else b
    left = _operand(a, kwargs.get("input_tensor_a_activations"))
    value = op(left, _operand(b, kwargs.get("input_tensor_b_activations")))
    for activation in kwargs.get("activations") or ():
        value = _activated(value, activation)
    return _out(value, like, dtype)


def add(a, b, dtype=None, **kwargs):
    return _binary(torch.add, a, b, dtype, **kwargs)


def subtract(a, b, dtype=None, **kwargs):
    return _binary(torch.sub, a, b, dtype, **kwargs)


def multiply(a, b, dtype=None, **kwargs):
    return _binary(torch.mul, a, b, dtype, **kwargs)


def div(a, b, dtype=None, **kwargs):
    return _binary(torch.div, a, b, dtype, **kwargs)


# Operand types ttnn refuses to mix. Checked on ttnn 0.81.1's mock N150 and P150 (each op called with
# every float32 / bfloat16 / bfloat8_b combination): addcmul and concat need one dtype for all their
# tensors, `where` with a scalar branch needs the condition in the tensor branch's dtype (TT_FATAL in
# ternary.cpp, concat_device_operation.cpp, binary_ng's is_dtype_combination_supported). Binary ops,
# `where` with two tensor branches, matmul, linear and layer_norm take any mix (the output takes the
# first operand's dtype, `where`'s its true branch's). So a block's masks are made in its activations'
# dtype (`layers.length_mask`); refusing here makes the emulated tests catch what the chip would.


def _one_dtype(op: str, *operands: Any) -> None:
    """Raise as ttnn does when the tensor operands of `op` do not share one dtype."""
    dtypes = [x.dtype.value for x in operands if isinstance(x, Tensor)]
    if len(set(dtypes)) > 1:
        raise RuntimeError(f"TT_FATAL (emulated): {op} needs operands of one dtype, got {', '.join(dtypes)}")


# The ternary addcmul (fewer programs: tt/wavenet.py).


def addcmul(a: Tensor, b: Tensor, c: Tensor, value: float = 1.0, **kwargs: Any) -> Tensor:
    """a + value * b * c on the vector unit in float32 (value * b, then a multiply-add: one rounding of
    the sum, then the output store); c broadcasts like any binary operand ([T, 1] masks)."""
    _one_dtype("addcmul", a, b, c)
    product = (torch.tensor(value, dtype=torch.float32) * _f(b)).double()
    return _out((product * _f(c).double() + _f(a).double()).float(), a)


def _compare(op):
    def compare(a, b, dtype=None, **kwargs):
        """Input activations apply as in `_binary` (a valid count scaled where a mask compares it)."""
        like = a if isinstance(a, Tensor) else b
        left = _operand(a, kwargs.get("input_tensor_a_activations"))
        return _out(op(left, _operand(b, kwargs.get("input_tensor_b_activations"))).float(), like, dtype)

    return compare


ge = _compare(torch.ge)
lt = _compare(torch.lt)
eq = _compare(torch.eq)


def where(condition: Tensor, true_value, false_value, **kwargs) -> Tensor:
    if not (isinstance(true_value, Tensor) and isinstance(false_value, Tensor)):
        _one_dtype("where with a scalar branch", condition, true_value, false_value)
    like = true_value if isinstance(true_value, Tensor) else false_value
    value = torch.where(_f(condition) != 0, torch.as_tensor(_v(true_value)), torch.as_tensor(_v(false_value)))
    return _out(value.float(), like)


def _unary(fn):
    def op(x: Tensor, **kwargs: Any) -> Tensor:
        return _out(fn(_f(x)), x, kwargs.get("dtype"))

    op.__name__ = getattr(fn, "__name__", "unary")
    return op


exp = _unary(torch.exp)
sqrt = _unary(torch.sqrt)
tanh = _unary(torch.tanh)
relu = _unary(torch.relu)
ceil = _unary(torch.ceil)


def gelu(x: Tensor, fast_and_approximate_mode: bool = True, **kwargs: Any) -> Tensor:
    return _out(F.gelu(_f(x), approximate="tanh" if fast_and_approximate_mode else "none"), x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, **kwargs: Any) -> Tensor:
    return _out(F.leaky_relu(_f(x), negative_slope), x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0, **kwargs: Any) -> Tensor:
    return _out(F.softplus(_f(x), beta=beta, threshold=threshold), x)


def clamp(x: Tensor, min: float | None = None, max: float | None = None, **kwargs: Any) -> Tensor:
    return _out(torch.clamp(_f(x), min=min, max=max), x)


# --------------------------------------------------------------------------------------------------
# Reductions and normalization.


def sum(
    x: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    compute_kernel_config: ComputeKernelConfig | None = None,
    **kwargs: Any,
) -> Tensor:
    value = _f(x)
    if _faithful(x):  # float32 with fp32 accumulation: ttnn's exact SFPU path; else the matrix unit's TF32
        config = _fidelity(compute_kernel_config, "sum")
        if not (x.dtype is DataType.FLOAT32 and config.fp32_dest_acc_en):
            value = numerics.tf32(value)
    value = value.sum() if dim is None else value.sum(dim=dim, keepdim=keepdim)
    return _out(value, x)


def cumsum(x: Tensor, dim: int, dtype: DataType | None = None, **kwargs: Any) -> Tensor:
    value = torch.cumsum(x.value.double() if x.value.is_floating_point() else x.value, dim=dim)
    return _out(value.float() if x.value.is_floating_point() else value, x, dtype)


def softmax(
    x: Tensor, dim: int = -1, compute_kernel_config: ComputeKernelConfig | None = None, **kwargs: Any
) -> Tensor:
    if not _faithful(x):
        return _out(torch.softmax(_f(x), dim=dim), x)
    # ttnn's kernel: exp(x - max) on the SFPU, the row sum on the matrix unit, exp * (1 / sum) as ELWMUL
    fidelity = _fidelity(compute_kernel_config, "softmax").math_fidelity.value
    e = torch.exp(_f(x) - _f(x).amax(dim=dim, keepdim=True))
    scale = 1.0 / numerics.tf32(e).sum(dim=dim, keepdim=True)
    return _out(_accumulated(numerics.multiply(e, scale.expand_as(e), fidelity), compute_kernel_config), x)


def layer_norm(
    x: Tensor,
    epsilon: float = 1e-12,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    compute_kernel_config: ComputeKernelConfig | None = None,
    **kwargs: Any,
) -> Tensor:
    width = x.shape[-1]
    w = _f(weight).reshape(-1)[:width] if weight is not None else None
    b = _f(bias).reshape(-1)[:width] if bias is not None else None
    if not _faithful(x):
        return _out(F.layer_norm(_f(x), (width,), w, b, epsilon), x)
    # ttnn's kernel: x - E[x] (ELWSUB), * 1/sqrt(Var + eps) and * gamma (ELWMUL), + beta (ELWADD), all on
    # the matrix unit; the statistics in float32
    config = _fidelity(compute_kernel_config, "layer_norm")
    fidelity = config.math_fidelity.value
    value = numerics.tf32(_f(x))
    centered = numerics.tf32(value) - numerics.tf32(value.mean(dim=-1, keepdim=True))
    scale = torch.rsqrt(centered.square().mean(dim=-1, keepdim=True) + epsilon)
    y = numerics.multiply(centered, scale.expand_as(centered), fidelity)
    if w is not None:
        y = numerics.multiply(y, w.expand_as(y), fidelity)
    if b is not None:
        y = numerics.tf32(y) + numerics.tf32(b)
    return _out(_accumulated(y, config), x)


# --------------------------------------------------------------------------------------------------
# Matrix products.


def matmul(
    a: Tensor,
    b: Tensor,
    dtype: DataType | None = None,
    compute_kernel_config: ComputeKernelConfig | None = None,
    **kwargs: Any,
) -> Tensor:
    if not _faithful(a, b):
        return _out(_f(a) @ _f(b), a, dtype)
    config = _fidelity(compute_kernel_config, "matmul")
    return _out(_matrix_product(torch.matmul, _f(a), _f(b), config), a, dtype)


def linear(
    a: Tensor,
    b: Tensor,
    bias: Tensor | None = None,
    dtype: DataType | None = None,
    compute_kernel_config: ComputeKernelConfig | None = None,
    **kwargs: Any,
) -> Tensor:
    faithful = _faithful(a, b)
    if faithful:
        value = _matrix_product(torch.matmul, _f(a), _f(b), _fidelity(compute_kernel_config, "linear"))
    else:
        value = _f(a) @ _f(b)
    return _out(_add_bias(value, _f(bias).reshape(-1) if bias is not None else None, faithful), a, dtype)


# --------------------------------------------------------------------------------------------------
# Data movement.


def reshape(x: Tensor, shape: Sequence[int], *args: Any, **kwargs: Any) -> Tensor:
    return Tensor(x.value.reshape(tuple(shape)), x.dtype, x.layout, x.device_handle)


def transpose(x: Tensor, dim0: int, dim1: int, **kwargs: Any) -> Tensor:
    return Tensor(x.value.transpose(dim0, dim1).contiguous(), x.dtype, x.layout, x.device_handle)


def permute(x: Tensor, dims: Sequence[int], **kwargs: Any) -> Tensor:
    return Tensor(x.value.permute(*dims).contiguous(), x.dtype, x.layout, x.device_handle)


def slice(
    x: Tensor, starts: Sequence[int], ends: Sequence[int], steps: Sequence[int] | None = None, **kwargs: Any
) -> Tensor:
    steps = steps or [1] * len(starts)
    index = tuple(builtins.slice(s, e, st) for s, e, st in zip(starts, ends, steps, strict=True))
    return Tensor(x.value[index].clone(), x.dtype, x.layout, x.device_handle)


def concat(tensors: Sequence[Tensor], dim: int = 0, **kwargs: Any) -> Tensor:
    _one_dtype("concat", *tensors)
    first = tensors[0]
    return Tensor(torch.cat([t.value for t in tensors], dim=dim), first.dtype, first.layout, first.device_handle)


def split(x: Tensor, split_size: int, dim: int, **kwargs: Any) -> list[Tensor]:
    """ttnn.split with an int size: equal chunks of `split_size` along `dim` (data movement, exact)."""
    return [Tensor(part.clone(), x.dtype, x.layout, x.device_handle) for part in x.value.split(split_size, dim=dim)]


def embedding(
    input_tensor: Tensor,
    weight: Tensor,
    layout: Layout = Layout.ROW_MAJOR,
    dtype: DataType | None = None,
    **kwargs: Any,
) -> Tensor:
    """ttnn.embedding: the rows of `weight` [V, D] at the ids [B, T] -> [B, T, D]; a gather, exact. As ttnn
    0.81.1 refuses on a mock device (TT_FATAL in embedding_device_operation.cpp): ids not uint32 (or
    bfloat16), a table not bfloat16."""
    if input_tensor.dtype not in (DataType.UINT32, DataType.BFLOAT16):
        raise RuntimeError("TT_FATAL (emulated): embedding: Input must be UINT32 or BFLOAT16")
    if weight.dtype is not DataType.BFLOAT16:
        raise RuntimeError("TT_FATAL (emulated): embedding: Weights tensor must have BFLOAT16 dtype")
    value = F.embedding(input_tensor.value.long(), weight.value.float())
    return _out(value, input_tensor, dtype or DataType.BFLOAT16, layout)


# --------------------------------------------------------------------------------------------------
# Attention heads (`ttnn.transformer`): data movement only, so exact in both modes.


def _split_query_key_value_and_split_heads(
    x: Tensor, num_heads: int, transpose_key: bool = True, **kwargs: Any
) -> tuple[Tensor, Tensor, Tensor]:
    """[B, T, 3 * H * d] (q | k | v) -> q [B, H, T, d], k [B, H, d, T] (or [B, H, T, d]), v [B, H, T, d]."""
    if len(x.shape) != 3:
        raise ValueError(f"split_query_key_value_and_split_heads: expected 3 dimensions, got {len(x.shape)}")
    batch, length, hidden = x.shape
    if (hidden // (3 * num_heads)) % 32:  # ttnn's check: whole tiles per head
        raise ValueError(
            f"split_query_key_value_and_split_heads: head size {hidden // (3 * num_heads)} is not a multiple of 32"
        )

    def heads(part: torch.Tensor) -> torch.Tensor:
        return part.reshape(batch, length, num_heads, -1).permute(0, 2, 1, 3).contiguous()

    q, k, v = (heads(part) for part in x.value.split(hidden // 3, dim=-1))
    if transpose_key:
        k = k.transpose(-2, -1).contiguous()
    return tuple(Tensor(t, x.dtype, x.layout, x.device_handle) for t in (q, k, v))


def _concatenate_heads(x: Tensor, **kwargs: Any) -> Tensor:
    """[B, H, T, d] -> [B, T, H * d]."""
    batch, heads, length, size = x.shape
    value = x.value.permute(0, 2, 1, 3).reshape(batch, length, heads * size)
    return Tensor(value, x.dtype, x.layout, x.device_handle)


transformer = SimpleNamespace(
    split_query_key_value_and_split_heads=_split_query_key_value_and_split_heads,
    concatenate_heads=_concatenate_heads,
)

# --------------------------------------------------------------------------------------------------
# Convolutions (ttnn conventions: channels-last inputs, PyTorch-layout weights, flattened outputs).


def _prepared_weight(tensor: Tensor, shape: Sequence[int], dtype: DataType, groups: int) -> torch.Tensor:
    """A conv weight reshaped to [out, in/groups, *kernel] and rounded as its prepared form holds it
    (`_stored_conv_weight`), kept on the tensor (`_kept`)."""
    shape = tuple(shape)
    return _kept(
        tensor, ("weight", shape, dtype, groups), lambda v: _stored_conv_weight(v.reshape(shape), groups, dtype)
    )


def _prepared_bias(tensor: Tensor, dtype: DataType) -> torch.Tensor:
    """A conv bias [1, 1, 1, out] as one row [out], rounded to the weights' dtype (the bias tile's rows are its
    output channels, so bfloat8_b groups them 16 at a time, as a flat row does), kept on the tensor."""
    return _kept(tensor, ("bias", dtype), lambda v: _store(v.reshape(-1), dtype))


def _kept(tensor: Tensor, key: tuple, prepare: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """`prepare(tensor's float32 value)`, kept on the tensor (as ttnn keeps a conv's prepared weights on the
    device) instead of re-rounded on every call, about a third of an emulated run's host time. An entry is
    served only while the tensor still holds the same storage object at the same version (any reassignment
    or in-place write invalidates it) and the entry itself was not written to: the numbers are those of
    re-rounding, bit for bit."""
    source = tensor.value
    entry = tensor.prepared.get(key)
    if entry is not None:
        held, version, prepared, prepared_version = entry
        if held is source and version == source._version and prepared._version == prepared_version:
            return prepared
    prepared = prepare(source.float())
    tensor.prepared[key] = (source, source._version, prepared, prepared._version)
    return prepared


def _stored_conv_weight(weight: torch.Tensor, groups: int, dtype: DataType) -> torch.Tensor:
    """A conv weight [out, in/groups, *kernel] with the values ttnn's prepared weight holds. ttnn prepares it
    as one matrix, rows (kernel position, input channel), columns output channels (prepare_conv2d_weights:
    `to_weight_tile_layout` and its sharded variants; a grouped conv first expanded block-diagonal to
    [out, in, *kernel], `conv_group_weight_zero_pad_helper`), and packs that matrix's tiles. bfloat8_b's
    shared exponent therefore spans 16 consecutive output channels of one tap and input channel, not the
    taps of one channel pair; for a grouped conv expanded that way (the stochastic duration predictor's
    depthwise convs: kernel 3, with a bias) a block holds the values of one group's output channels (one
    value, for a depthwise conv) and zeros. (ttnn's 1-D depthwise path, which repeats each weight along the
    rows instead, takes only bias-free 1x1 convs: none here. Block sharding pads each core's output
    channels to a tile: the same blocks while a core's share is a multiple of 16, as every full-size
    conv's is; a tiny test model's few channels may group differently there.) bfloat16 and float32 round
    each value alone, so only bfloat8_b needs the layout."""
    if dtype is not DataType.BFLOAT8_B:
        return _store(weight, dtype)
    out, per_group, *kernel = weight.shape
    group = torch.arange(groups)
    expanded = weight.new_zeros(groups, out // groups, groups, per_group, *kernel)
    expanded[group, :, group] = weight.reshape(groups, out // groups, per_group, *kernel)
    to_matrix = (*range(2, weight.dim()), 1, 0)  # [*kernel, in, out]: output channels last
    back = tuple(torch.argsort(torch.tensor(to_matrix)).tolist())
    matrix = numerics.round_bfp8(expanded.reshape(out, groups * per_group, *kernel).permute(*to_matrix))
    rounded = matrix.permute(*back).reshape(groups, out // groups, groups, per_group, *kernel)[group, :, group]
    return rounded.reshape(weight.shape)


def _conv_padding(padding: int | Sequence[int]) -> tuple[int, int]:
    return (padding, padding) if isinstance(padding, int) else (int(padding[0]), int(padding[1]))


def conv1d(
    input_tensor: Tensor,
    weight_tensor: Tensor,
    device: Any,
    in_channels: int,
    out_channels: int,
    batch_size: int,
    input_length: int,
    kernel_size: int,
    stride: int = 1,
    padding: int | Sequence[int] = 0,
    dilation: int = 1,
    groups: int = 1,
    bias_tensor: Tensor | None = None,
    dtype: DataType | None = None,
    conv_config: Conv1dConfig | None = None,
    compute_config: ComputeKernelConfig | None = None,
    return_output_dim: bool = False,
    return_weights_and_bias: bool = False,
    **kwargs: Any,
):
    """Input [N, 1, L, C] (or [1, 1, N*L, C]); weight [out, in/groups, k]; output [1, 1, N*L_out, out]."""
    weights_dtype = conv_config.weights_dtype if conv_config is not None else DataType.BFLOAT16
    x = _f(input_tensor).reshape(batch_size, input_length, in_channels).transpose(1, 2)
    weight = _prepared_weight(
        weight_tensor, (out_channels, in_channels // groups, kernel_size), weights_dtype, groups=groups
    )
    bias = _prepared_bias(bias_tensor, weights_dtype) if bias_tensor is not None else None
    left, right = _conv_padding(padding)

    def product(inputs: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        return F.conv1d(F.pad(inputs, (left, right)), kernel, stride=stride, dilation=dilation, groups=groups)

    faithful = _faithful(input_tensor, device)
    if faithful:
        y = _matrix_product(product, x, weight, _fidelity(compute_config, "conv1d"))
    else:
        y = product(x, weight)
    y = _add_bias(y, bias[None, :, None] if bias is not None else None, faithful)
    # a fused activation runs on the SFPU over the Dst value (after the bias, before the packer rounds)
    y = _activated(y, conv_config.activation if conv_config is not None else None)
    out_length = y.shape[-1]
    out = _out(
        y.transpose(1, 2).reshape(1, 1, batch_size * out_length, out_channels),
        input_tensor,
        dtype or input_tensor.dtype,
        Layout.TILE,
    )
    result: tuple = (out,)
    if return_output_dim:
        result += (out_length,)
    if return_weights_and_bias:
        result += ((weight_tensor, bias_tensor),)
    return result[0] if len(result) == 1 else result


def conv2d(
    input_tensor: Tensor,
    weight_tensor: Tensor,
    device: Any,
    in_channels: int,
    out_channels: int,
    batch_size: int,
    input_height: int,
    input_width: int,
    kernel_size: Sequence[int],
    stride: Sequence[int] = (1, 1),
    padding: Sequence[int] = (0, 0),
    dilation: Sequence[int] = (1, 1),
    groups: int = 1,
    bias_tensor: Tensor | None = None,
    dtype: DataType | None = None,
    conv_config: Conv1dConfig | None = None,
    compute_config: ComputeKernelConfig | None = None,
    return_output_dim: bool = False,
    return_weights_and_bias: bool = False,
    **kwargs: Any,
):
    """Input NHWC [N, H, W, C]; weight [out, in/groups, kh, kw]; output [1, 1, N*H_out*W_out, out]."""
    weights_dtype = conv_config.weights_dtype if conv_config is not None else DataType.BFLOAT16
    x = _f(input_tensor).reshape(batch_size, input_height, input_width, in_channels).permute(0, 3, 1, 2)
    weight = _prepared_weight(weight_tensor, weight_tensor.shape, weights_dtype, groups=groups)
    bias = _prepared_bias(bias_tensor, weights_dtype) if bias_tensor is not None else None

    def product(inputs: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        return F.conv2d(
            inputs, kernel, stride=tuple(stride), padding=tuple(padding), dilation=tuple(dilation), groups=groups
        )

    faithful = _faithful(input_tensor, device)
    if faithful:
        y = _matrix_product(product, x, weight, _fidelity(compute_config, "conv2d"))
    else:
        y = product(x, weight)
    y = _add_bias(y, bias[None, :, None, None] if bias is not None else None, faithful)
    h_out, w_out = y.shape[-2:]
    flat = y.permute(0, 2, 3, 1).reshape(1, 1, batch_size * h_out * w_out, out_channels)
    out = _out(flat, input_tensor, dtype or input_tensor.dtype, Layout.TILE)
    result: tuple = (out,)
    if return_output_dim:
        result += ((h_out, w_out),)
    if return_weights_and_bias:
        result += ((weight_tensor, bias_tensor),)
    return result[0] if len(result) == 1 else result
