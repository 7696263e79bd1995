"""Reads YAML with line numbers: returns plain data plus a map from key paths to source lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import ConfigError, Problem


@dataclass
class Located:
    """Parsed YAML data with the 1-based line of every mapping key and sequence item."""

    data: Any
    file: str
    lines: dict[str, int] = field(default_factory=dict)  # "entities[3].area" -> 42

    def line(self, path: str) -> int:
        """Line of `path`, or of its nearest located parent; 0 when nothing is known."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("", 0)

    def problem(self, path: str, message: str) -> Problem:
        return Problem(self.file, self.line(path), path or "(top)", message)


def _walk(node: yaml.Node, path: str, lines: dict[str, int]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _walk(key_node, path, {})
            child = f"{path}.{key}" if path else str(key)
            lines[child] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, child, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            child = f"{path}[{i}]"
            lines[child] = item.start_mark.line + 1
            items.append(_walk(item, child, lines))
        return items
    assert isinstance(node, yaml.ScalarNode)  # the composer yields only these three kinds
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    # The composer has already resolved each scalar's tag (int, bool, null, str...).
    return _LOADER.construct_object(node)


_LOADER = yaml.SafeLoader("")


def load_yaml(path: Path | str, text: str | None = None) -> Located:
    """Parse a YAML file safely; a syntax error becomes a ConfigError naming file and line."""
    path = Path(path)
    name = str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError([Problem(name, 0, "(file)", "file not found")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([Problem(name, 0, "(file)", f"cannot read: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        what = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(name, line, "(syntax)", f"invalid YAML: {what}")]) from None
    lines: dict[str, int] = {"": 1}
    try:
        data = None if node is None else _walk(node, "", lines)
    except yaml.YAMLError as exc:  # e.g. an unknown tag such as !!python/name:...
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        what = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(name, line, "(syntax)", f"invalid YAML: {what}")]) from None
    return Located(data=data, file=name, lines=lines)
