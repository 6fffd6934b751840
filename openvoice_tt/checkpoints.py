"""Find, safely load and validate the official checkpoint files.

A `.pth` file is a pickle; `torch.load(..., weights_only=True)` refuses anything but tensors and plain
containers, so a malicious file is rejected before any of its code can run. Weight norm is folded once
here (W = g·v/‖v‖ over every dim but 0) so no model ever recomputes it, and the state dict is checked
against the model so a mismatched file fails with one message that names the offending keys.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import struct
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

from openvoice_tt.config import TONE_COLOR_EMBEDDING_SHAPE
from openvoice_tt.errors import CheckpointError, OpenVoiceError, shorten

# Keys of the official MeloTTS checkpoint that inference never reads (spec §1.3, §2.4, §2.11): the
# posterior encoder, the SDP's training-time posterior flows, and the SDP flow that upstream's reverse
# pass drops ("useless vflow").
MELO_TRAINING_ONLY_PREFIXES = (
    "enc_q.",
    "sdp.post_pre.",
    "sdp.post_proj.",
    "sdp.post_convs.",
    "sdp.post_flows.",
    "sdp.flows.1.",
)

_WEIGHT_NORM_STYLES = (
    (".weight_g", ".weight_v"),  # torch.nn.utils.weight_norm, as the official files store it
    (".parametrizations.weight.original0", ".parametrizations.weight.original1"),  # re-saved by a modern torch
)
_LIST_LIMIT = 6


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def safe_torch_load(path: Path) -> object:
    """`torch.load` that can never execute code, with each failure turned into one clear line."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: file not found")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, expected a checkpoint file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{path}: {_unpickling_problem(str(exc))}") from None
    except (  # what torch.load raises on junk bytes (struct.error, KeyError: e.g. a text file named .pth)
        RuntimeError,
        EOFError,
        zipfile.BadZipFile,
        ValueError,
        OSError,
        AttributeError,
        IndexError,
        KeyError,
        struct.error,
    ) as exc:
        reason = shorten(str(exc).splitlines()[0], 120) if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: not a PyTorch checkpoint ({reason})") from None


def _unpickling_problem(message: str) -> str:
    """What torch's weights-only unpickler refused, in one line. torch 2.14 words a code reference as
    "Trying to load unsupported GLOBAL posix.system whose module posix is blocked" (older versions:
    "Unsupported global: GLOBAL ..."), after a paragraph that starts "Weights only load failed"."""
    lines = [line.strip() for line in message.splitlines()]
    named = next((line for line in lines if "unsupported global" in line.lower()), None)
    if named is not None:
        found = re.search(r"GLOBAL\s+([\w.]+)", named)
        what = f" ({found.group(1)})" if found else ""
        return (
            f"refused to load: unsafe pickle: it references Python code{what} that would run when unpickled; "
            "not a weights-only checkpoint"
        )
    if "weights only load failed" in message.lower():
        return "refused to load: not a weights-only checkpoint (the safe unpickler rejected it)"
    return "not a PyTorch checkpoint (unreadable pickle)"


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint: its `model` entry, or the file itself when it is a bare state dict."""
    obj = safe_torch_load(path)
    if isinstance(obj, Mapping) and isinstance(obj.get("model"), Mapping):
        obj = obj["model"]
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"{path}: no state dict inside (expected a 'model' entry or a dict of tensors)")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{path}: state dict holds non-tensor entries: {_short_list(map(str, bad))}")
    check_finite(obj, str(path))
    return {k: v.float() if v.is_floating_point() else v for k, v in obj.items()}


def check_finite(state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    """A NaN or infinite weight poisons every output (NaN audio, or a crash deep in the model), so a
    file holding one is refused at load, naming the first such tensor."""
    for key, tensor in state_dict.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            kind = "NaN" if bool(torch.isnan(tensor).any()) else "infinite"
            raise CheckpointError(f"{source}: tensor {key} holds {kind} values (the file is damaged)")


def weight_norm_weight(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The effective weight of `torch.nn.utils.weight_norm(dim=0)`: g·v/‖v‖, norm over all dims but 0.

    Dim 0 is the output channel of a Conv1d/Conv2d but the *input* channel of a ConvTranspose1d
    (weight [in, out, k]); both follow from the same rule.
    """
    dims = tuple(range(1, v.dim()))
    norm = v.pow(2).sum(dim=dims, keepdim=True).sqrt()
    return v * (g / norm)


def fold_weight_norm(state_dict: Mapping[str, torch.Tensor], source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Replace every weight-norm pair (old `weight_g/_v` or new parametrization style) by `<name>.weight`."""
    folded: dict[str, torch.Tensor] = {}
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    styles: dict[str, tuple[str, str]] = {}
    for key, value in state_dict.items():
        for style in _WEIGHT_NORM_STYLES:
            part = "g" if key.endswith(style[0]) else "v" if key.endswith(style[1]) else None
            if part is not None:
                base = key[: -len(style[0] if part == "g" else style[1])]
                pairs.setdefault(base, {})[part] = value
                styles[base] = style
                break
        else:
            folded[key] = value
    for base, pair in pairs.items():
        g_suffix, v_suffix = styles[base]
        if "g" not in pair or "v" not in pair:
            absent, present = (g_suffix, v_suffix) if "v" in pair else (v_suffix, g_suffix)
            raise CheckpointError(f"{source}: missing {base}{absent} (its weight-norm pair {base}{present} is present)")
        g, v = pair["g"], pair["v"]
        if g.shape[0] != v.shape[0] or g.numel() != v.shape[0]:
            raise CheckpointError(
                f"{source}: wrong shape {base}{g_suffix} (file {list(g.shape)}, "
                f"which does not fit {base}{v_suffix} {list(v.shape)})"
            )
        if f"{base}.weight" in folded:
            raise CheckpointError(f"{source}: {base} is stored both plain and weight-normed")
        folded[f"{base}.weight"] = weight_norm_weight(g, v)
    return folded


def _short_list(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(items[:_LIST_LIMIT])
    return shown + (f" and {len(items) - _LIST_LIMIT} more" if len(items) > _LIST_LIMIT else "")


def check_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Size],
    source: str,
    ignore_prefixes: tuple[str, ...] = (),
) -> dict[str, torch.Tensor]:
    """Return the entries the model uses; raise one error listing missing, unexpected and misshapen keys."""
    used = {k: v for k, v in state_dict.items() if not k.startswith(ignore_prefixes)}
    missing = [k for k in expected if k not in used]
    unexpected = [k for k in used if k not in expected]
    misshapen = [
        f"{k} (file {list(used[k].shape)}, model {list(expected[k])})"
        for k in expected
        if k in used and tuple(used[k].shape) != tuple(expected[k])
    ]
    problems = []
    if missing:
        problems.append(f"missing {_short_list(missing)}")
    if unexpected:
        problems.append(f"unexpected {_short_list(unexpected)}")
    if misshapen:
        problems.append(f"wrong shape {_short_list(misshapen)}")
    if problems:
        raise CheckpointError(f"{source}: does not match the model: " + "; ".join(problems))
    return used


def load_weights(module: torch.nn.Module, path: Path, ignore_prefixes: tuple[str, ...] = ()) -> dict[str, torch.Tensor]:
    """Load a checkpoint file into `module` (weight norm folded, keys checked); return the raw folded dict."""
    folded = fold_weight_norm(read_state_dict(path), source=str(path))
    load_state(module, folded, str(path), ignore_prefixes)
    return folded


def load_state(
    module: torch.nn.Module,
    folded: Mapping[str, torch.Tensor],
    source: str,
    ignore_prefixes: tuple[str, ...] = (),
) -> None:
    expected = {k: v.shape for k, v in module.state_dict().items()}
    used = check_state_dict(folded, expected, source, ignore_prefixes)
    module.load_state_dict(used, strict=True)


# --------------------------------------------------------------------------------------------------
# Tone-color embeddings ([1, 256, 1] float tensors saved bare with torch.save).


def load_tone_color_embedding(path: Path) -> torch.Tensor:
    return tone_color_embedding(safe_torch_load(path), str(path), CheckpointError)


def tone_color_embedding(obj: object, source: str, error: type[OpenVoiceError]) -> torch.Tensor:
    """`obj` as a [1, 256, 1] float32 embedding, or `error` saying why not: one check for embedding files
    (CheckpointError) and for tensors handed to the API (InputError)."""
    if not isinstance(obj, torch.Tensor):
        raise error(f"{source}: not a tone-color embedding (expected a tensor, found {type(obj).__name__})")
    if obj.numel() != TONE_COLOR_EMBEDDING_SHAPE[1] or not obj.is_floating_point():
        raise error(
            f"{source}: not a tone-color embedding (expected {list(TONE_COLOR_EMBEDDING_SHAPE)} floats, "
            f"found {list(obj.shape)} {str(obj.dtype).removeprefix('torch.')})"
        )
    if not torch.isfinite(obj).all():
        raise error(f"{source}: tone-color embedding holds NaN or infinite values")
    return obj.detach().float().cpu().reshape(TONE_COLOR_EMBEDDING_SHAPE)


def save_tone_color_embedding(embedding: torch.Tensor, path: Path) -> None:
    """Write in upstream's format through `outputs.write_file` (atomic for a regular file, so a crash never
    leaves half a file; the same permissions as audio outputs)."""
    from openvoice_tt.outputs import write_file

    tensor = embedding.detach().float().cpu().reshape(TONE_COLOR_EMBEDDING_SHAPE).clone()
    buffer = io.BytesIO()
    torch.save(tensor, buffer)
    write_file(path, buffer.getvalue())
