"""Builds typed, frozen dataclasses from located YAML, collecting every problem with its line.

Generic over field annotations (str, int, float, bool, Optional, list, dict, Enum and nested
dataclasses), so a new setting is one annotated field with a default, nothing more.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import types
import typing
from typing import Any, TypeVar

from assistant.errors import Problem
from assistant.yamlsrc import Located

T = TypeVar("T")


class _Invalid(Exception):
    """Internal: a value could not be built; its problem is already recorded."""


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in tp)
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


class Builder:
    """Converts YAML data into dataclass instances, appending problems instead of raising."""

    def __init__(self, src: Located) -> None:
        self.src = src
        self.problems: list[Problem] = []
        self.partial: dict[str, Any] | None = None

    def fail(self, path: str, message: str) -> _Invalid:
        self.problems.append(self.src.problem(path, message))
        return _Invalid()

    def build(self, tp: Any, value: Any, path: str) -> Any:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            args = typing.get_args(tp)
            if value is None and type(None) in args:
                return None
            non_none = [a for a in args if a is not type(None)]
            for arg in non_none:
                # Try each alternative silently; report once against the whole union.
                trial = Builder(self.src)
                try:
                    result = trial.build(arg, value, path)
                except _Invalid:
                    continue
                if not trial.problems:
                    return result
            if len(non_none) == 1:
                return self.build(non_none[0], value, path)
            raise self.fail(path, f"expected {_type_name(tp)}, got {value!r}")
        if origin is list:
            (item_tp,) = typing.get_args(tp)
            if value is None:
                return []
            if not isinstance(value, list):
                if _is_scalar_type(item_tp):
                    value = [value]  # "domain: light" reads as "domain: [light]"
                else:
                    raise self.fail(path, f"expected {_type_name(tp)}, got {value!r}")
            out = []
            for i, item in enumerate(value):
                with contextlib.suppress(_Invalid):
                    out.append(self.build(item_tp, item, f"{path}[{i}]"))
            return out
        if origin is dict:
            key_tp, val_tp = typing.get_args(tp)
            if value is None:
                return {}
            if not isinstance(value, dict):
                raise self.fail(path, f"expected a mapping, got {value!r}")
            out_d = {}
            for k, v in value.items():
                with contextlib.suppress(_Invalid):
                    out_d[self.build(key_tp, k, path)] = self.build(val_tp, v, f"{path}.{k}")
            return out_d
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self.build_dataclass(tp, value, path)
        if tp is Any:
            return value
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            try:
                return tp(value)
            except ValueError:
                raise self.fail(path, f"expected {_type_name(tp)}, got {value!r}") from None
        if tp is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            raise self.fail(path, f"expected a number, got {value!r}")
        if tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise self.fail(path, f"expected a whole number, got {value!r}")
        if tp is bool:
            if isinstance(value, bool):
                return value
            raise self.fail(path, f"expected true or false, got {value!r}")
        if tp is str:
            if isinstance(value, str):
                return value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)  # "port: 1883" style numbers are fine as text
            raise self.fail(path, f"expected text, got {value!r}")
        raise TypeError(f"unsupported config type {tp!r}")  # a programming error, not user's

    def build_dataclass(self, cls: type[T], value: Any, path: str) -> T:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {value!r}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                  if not f.metadata.get("internal")}
        kwargs: dict[str, Any] = {}
        ok = True
        for key, raw in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in fields:
                known = ", ".join(sorted(fields))
                self.fail(sub, f"unknown key (known keys: {known})")
                ok = False
                continue
            try:
                kwargs[str(key)] = self.build(hints[str(key)], raw, sub)
            except _Invalid:
                ok = False
        for name, f in fields.items():
            if name in kwargs:
                continue
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default:
                self.fail(path, f"missing required key '{name}'")
                ok = False
        if not ok:
            if not path:
                self.partial = kwargs  # what did build, so cross-references can still be checked
            raise _Invalid()
        return cls(**kwargs)


def _is_scalar_type(tp: Any) -> bool:
    return tp in (str, int, float, bool) or (isinstance(tp, type) and issubclass(tp, enum.Enum))


def build_config(cls: type[T], src: Located) -> tuple[T | None, list[Problem]]:
    """Build `cls` from the located document: the instance, or when some keys were bad an
    instance of what did build (for further checks), plus every problem found."""
    builder = Builder(src)
    try:
        result: T | None = builder.build_dataclass(cls, src.data, "")
    except _Invalid:
        result = None
        if builder.partial is not None:
            with contextlib.suppress(TypeError):  # a required key itself was the bad one
                result = cls(**builder.partial)
    return result, builder.problems
