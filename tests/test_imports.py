"""Imports flow one way: foundation < stages in pipeline order < pipeline < cli; train is apart."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

# Lowest first. A module may import modules of its own group or of any lower group.
# Modules not listed are foundation (errors, structs, config, skills, textnorm, helpers...).
STAGES: list[tuple[str, set[str]]] = [
    ("audio", {"audio", "pcm", "denoise", "frontend"}),
    ("vad", {"vad"}),
    ("wake", {"wake"}),
    # adapt.py fits the recognizer's acoustic model to the household (and reads audio to)
    ("asr", {"asr", "adapt"}),
    ("tokenizer", {"tokenizer"}),
    # lmmodel.py (the ONNX model loader) came after this list was drawn; it is the lm stage.
    ("lm", {"lmspec", "lmgrammar", "lm", "lmmodel"}),
    ("matcher", {"matcher"}),
    # repairs.py spells misheard names as the home's own, so it sits with name resolution
    ("mapper", {"resolve", "repairs", "payload", "speech", "safety", "grounding",
                "slotcheck", "replies", "targeting", "mapper"}),
    ("mqtt", {"hermes", "outbox", "broker", "mqtt"}),
]
GROUPS: list[tuple[str, set[str]]] = [
    ("foundation", set()),
    *STAGES,
    ("pipeline", {"pipeline", "understanding", "followup", "voice", "sentences", "satellite",
                  "sitedecoder"}),
    ("cli", {"cli", "__main__"}),
]


def group_of(module: str) -> tuple[int, str]:
    """(rank, group name) of a module given as its name inside the package, e.g. "matcher"."""
    for rank, (name, members) in enumerate(GROUPS):
        if module in members:
            return rank, name
    return 0, "foundation"


@dataclass(frozen=True)
class Arrow:
    source: str  # e.g. "matcher", "train.fit"
    target: str  # imported module inside the package, e.g. "pipeline", "train"
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = " (inside a function)" if self.in_function else ""
        return f"assistant/{self.source.replace('.', '/')}.py:{self.line}: " \
               f"assistant.{self.source} -> assistant.{self.target}{where}"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] or ["__init__"]
    return ".".join(parts)


def arrows(source_module: str, code: str) -> tuple[list[Arrow], list[tuple[int, str]]]:
    """Arrows into the package, and (line, name) of every third-party import."""
    tree = ast.parse(code)
    found: list[Arrow] = []
    external: list[tuple[int, str]] = []
    package = source_module.rsplit(".", 1)[0] if "." in source_module else ""

    def add(target: str, line: int, in_function: bool) -> None:
        if target.startswith("assistant.") or target == "assistant":
            inner = target[len("assistant."):] if target != "assistant" else "__init__"
            found.append(Arrow(source_module, inner, line, in_function))
        else:
            external.append((line, target))

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                       ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name, child.lineno, in_function)
            elif isinstance(child, ast.ImportFrom):
                if child.level:  # relative: resolve against this module's package
                    base = ["assistant", *([package] if package else [])]
                    base = base[:len(base) - (child.level - 1)] if child.level > 1 else base
                    mod = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    mod = child.module or ""
                if mod == "assistant" or (child.level and not child.module):
                    # "from assistant import hermes": each name may be a module
                    for alias in child.names:
                        add(f"{mod}.{alias.name}", child.lineno, in_function)
                else:
                    add(mod, child.lineno, in_function)
            visit(child, nested)

    visit(tree, False)
    return found, external


def _top(target: str) -> str:
    """The module an arrow lands in: "train.fit" -> "train", "hermes.x" -> "hermes"."""
    return target.split(".", 1)[0]


def layer_violations(arrow: Arrow, package_modules: set[str]) -> str | None:
    if arrow.source.startswith("train") or arrow.source == "__init__":
        return None  # train/ is a separate tool on top; checked by its own rule
    target = _top(arrow.target)
    if target == "train":
        return None
    if target not in package_modules:
        # "from assistant import __version__" names an attribute of the package itself
        target = "__init__"
    src_rank, src_group = group_of(arrow.source)
    dst_rank, dst_group = group_of(target)
    if dst_rank > src_rank:
        return f"{arrow}: {src_group} may not import {dst_group}"
    return None


def train_violation(arrow: Arrow) -> str | None:
    if _top(arrow.target) != "train" or arrow.source.startswith("train"):
        return None
    if arrow.source == "cli" and arrow.in_function:
        return None  # `assistant train` loads the trainer lazily
    return f"{arrow}: only a function in cli.py may import assistant.train"


def all_modules() -> dict[str, str]:
    return {_module_name(p): p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.fixture(scope="module")
def modules() -> dict[str, str]:
    mods = all_modules()
    assert {"config", "matcher", "mapper", "pipeline", "cli"} <= set(mods)
    return mods


def test_imports_flow_down_the_pipeline(modules: dict[str, str]) -> None:
    names = {m for m in modules if "." not in m}
    bad = [v for mod, code in modules.items() for a in arrows(mod, code)[0]
           if (v := layer_violations(a, names)) is not None]
    assert not bad, "wrong-way imports:\n" + "\n".join(bad)


def test_only_cli_imports_train_and_only_lazily(modules: dict[str, str]) -> None:
    bad = [v for mod, code in modules.items() for a in arrows(mod, code)[0]
           if (v := train_violation(a)) is not None]
    assert not bad, "\n".join(bad)


def test_torch_is_imported_only_under_train(modules: dict[str, str]) -> None:
    bad = [f"assistant/{mod.replace('.', '/')}.py:{line}: imports {name}"
           for mod, code in modules.items() if not mod.startswith("train")
           for line, name in arrows(mod, code)[1] if name.split(".")[0] == "torch"]
    assert not bad, "\n".join(bad)


# --- the checker itself can fail ---------------------------------------------------------


def names_in(modules: dict[str, str]) -> set[str]:
    return {m for m in modules if "." not in m}


@pytest.mark.parametrize(("module", "code", "expected"), [
    ("matcher", "from assistant.pipeline import Assistant\n",
     "assistant/matcher.py:1: assistant.matcher -> assistant.pipeline: "
     "matcher may not import pipeline"),
    ("config", "def f():\n    from assistant import mapper\n",
     "assistant/config.py:2: assistant.config -> assistant.mapper (inside a function): "
     "foundation may not import mapper"),
    ("vad", "import assistant.asr as asr\n",
     "assistant/vad.py:1: assistant.vad -> assistant.asr: vad may not import asr"),
    ("mapper", "from .mqtt import MqttLink\n",
     "assistant/mapper.py:1: assistant.mapper -> assistant.mqtt: mapper may not import mqtt"),
    ("pipeline", "from assistant.cli import main\n",
     "assistant/pipeline.py:1: assistant.pipeline -> assistant.cli: pipeline may not import cli"),
])
def test_a_wrong_way_import_is_caught(modules: dict[str, str], module: str, code: str,
                                      expected: str) -> None:
    found = [v for a in arrows(module, code)[0]
             if (v := layer_violations(a, names_in(modules))) is not None]
    assert found == [expected]


@pytest.mark.parametrize(("module", "code"), [
    ("mapper", "from assistant.matcher import TemplateMatcher\n"),
    ("mqtt", "from assistant import __version__\n"),
    ("pipeline", "from assistant import hermes\n"),
    ("cli", "def f():\n    from assistant.voice import run_voice\n"),
    ("train.fit", "from assistant.pipeline import Assistant\n"),
])
def test_a_right_way_import_passes(modules: dict[str, str], module: str, code: str) -> None:
    assert [layer_violations(a, names_in(modules)) for a in arrows(module, code)[0]] == [None]


@pytest.mark.parametrize(("module", "code", "bad"), [
    ("cli", "from assistant.train import run_training\n", True),
    ("cli", "def f():\n    from assistant.train import run_training\n", False),
    ("pipeline", "def f():\n    import assistant.train.fit\n", True),
    ("train.fit", "from assistant.train.model import Model\n", False),
])
def test_train_rule(module: str, code: str, bad: bool) -> None:
    assert any(train_violation(a) for a in arrows(module, code)[0]) is bad


def test_torch_rule_sees_nested_imports() -> None:
    _, external = arrows("lm", "def f():\n    import torch.nn as nn\n")
    assert external == [(2, "torch.nn")]
