"""Generic typed parsing of JSON objects into frozen dataclasses, with field paths in every error.

A config error from a user's file must name the exact field (`data.hop_length`, `model.upsample_rates[2]`)
and the file, not fail later inside a model constructor; so every value is checked against its dataclass
annotation here, once, for both networks' configs (`melo.py`, `converter.py`).
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, TypeVar

from openvoice_tt.errors import ConfigError

T = TypeVar("T")


def check_value(value: Any, hint: Any, where: str, source: str) -> Any:
    """`value` checked against the annotation `hint` (bool, int, float, str, tuples, mappings, optionals,
    nested dataclasses) and converted (lists to tuples, objects to read-only mappings); a mismatch is a
    ConfigError naming `where` in `source`. JSON's `true` is not accepted as a number, nor 1.0 as an int."""
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: field '{where}' must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: field '{where}' must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{source}: field '{where}' must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: field '{where}' must be a string, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{source}: field '{where}' must be a list, got {value!r}")
        (item_hint, _ellipsis) = typing.get_args(hint)
        return tuple(check_value(v, item_hint, f"{where}[{i}]", source) for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: field '{where}' must be an object, got {value!r}")
        key_hint, value_hint = typing.get_args(hint)
        return types.MappingProxyType(
            {
                check_value(k, key_hint, where, source): check_value(v, value_hint, f"{where}.{k}", source)
                for k, v in value.items()
            }
        )
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return check_value(value, args[0], where, source)
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return parse_dataclass(hint, value, source, prefix=f"{where}.")
    raise TypeError(f"unsupported config field type {hint!r}")  # a programming error, not user input


def parse_dataclass(cls: type[T], obj: Any, source: str, prefix: str = "") -> T:
    """Build dataclass `cls` from a JSON object, naming `prefix + field` in any error."""
    if not isinstance(obj, dict):
        raise ConfigError(f"{source}: field '{prefix.rstrip('.') or '<root>'}' must be an object")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if not f.init:
            continue
        key = f.metadata.get("json", f.name)
        where = f"{prefix}{key}"
        if key not in obj:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{source}: missing field '{where}'")
            continue
        kwargs[f.name] = check_value(obj[key], hints[f.name], where, source)
    instance = cls(**kwargs)
    validate = getattr(instance, "validate", None)
    if validate is not None:
        validate(source, prefix)
    return instance


def require(condition: bool, source: str, where: str, problem: str) -> None:
    """A cross-field check: ConfigError "`source`: field '`where`' `problem`" unless `condition` holds."""
    if not condition:
        raise ConfigError(f"{source}: field '{where}' {problem}")


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`; a missing file, bad JSON or a non-object top level is a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    return data
