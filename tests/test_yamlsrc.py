"""yamlsrc: YAML text in, plain data plus the line of every key and list item out."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError, Problem
from assistant.yamlsrc import load_yaml

DOC = """\
# a comment
mqtt:
  host: broker.lan
  port: 1883
entities:
  - id: light.a
    name: A
  - {id: light.b, name: B,
     area: kitchen}
empty:
"""


def test_data_and_lines_of_every_key_and_item() -> None:
    src = load_yaml("home.yaml", DOC)
    assert src.data == {
        "mqtt": {"host": "broker.lan", "port": 1883},
        "entities": [{"id": "light.a", "name": "A"},
                     {"id": "light.b", "name": "B", "area": "kitchen"}],
        "empty": None,
    }
    assert src.file == "home.yaml"
    assert src.lines == {
        "": 1, "mqtt": 2, "mqtt.host": 3, "mqtt.port": 4, "entities": 5,
        "entities[0]": 6, "entities[0].id": 6, "entities[0].name": 7,
        "entities[1]": 8, "entities[1].id": 8, "entities[1].name": 8,
        "entities[1].area": 9, "empty": 10,
    }


@pytest.mark.parametrize(("path", "line"), [
    ("mqtt.port", 4),
    ("entities[1].area", 9),
    ("entities[1].area.sub", 9),  # unknown child: its nearest located parent
    ("entities[7].name", 5),  # a missing item: the list's own line
    ("nothing.at.all", 1),
    ("", 1),
])
def test_line_of_a_path_falls_back_to_the_nearest_parent(path: str, line: int) -> None:
    assert load_yaml("home.yaml", DOC).line(path) == line


def test_problem_renders_file_line_key_message() -> None:
    src = load_yaml("home.yaml", DOC)
    assert str(src.problem("mqtt.port", "bad")) == "home.yaml:4: mqtt.port: bad"
    assert str(src.problem("", "bad")) == "home.yaml:1: (top): bad"
    assert str(Problem("f.yaml", 0, "k", "m")) == "f.yaml:0: k: m"


def test_scalars_keep_their_yaml_types() -> None:
    src = load_yaml("t.yaml", "a: 1\nb: 1.5\nc: true\nd: null\ne: '1'\nf: \"on\"\n")
    assert src.data == {"a": 1, "b": 1.5, "c": True, "d": None, "e": "1", "f": "on"}


def test_empty_document_is_none() -> None:
    src = load_yaml("t.yaml", "# only a comment\n")
    assert src.data is None


@pytest.mark.parametrize(("text", "line", "what"), [
    ("a: [1, 2\nb: 3\n", 2, "expected ',' or ']', but got ':'"),
    ("a: 1\n  b: 2\n", 2, "mapping values are not allowed here"),
    ("a: 'unterminated\n", 2, "found unexpected end of stream"),
    ("a:\n\t- 1\n", 2, "found character '\\t' that cannot start any token"),
])
def test_syntax_error_names_file_and_line(text: str, line: int, what: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_yaml("s.yaml", text)
    got = [str(p) for p in err.value.problems]
    assert got == [f"s.yaml:{line}: (syntax): invalid YAML: {what}"]


@pytest.mark.parametrize("text", [
    "site_id: !custom x\n",
    "site_id: !!python/name:os.system\n",
])
def test_unknown_tags_are_a_config_error_not_a_crash(text: str) -> None:
    # A stray tag must come back as file:line, never as a yaml exception (a traceback).
    with pytest.raises(ConfigError) as err:
        load_yaml("s.yaml", text)
    assert str(err.value).startswith("s.yaml:1: ")


def test_python_tags_never_build_objects() -> None:
    src = load_yaml("s.yaml", "a: !!python/object/apply:os.getcwd []\n")
    assert src.data == {"a": []}


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == f"{path}:0: (file): file not found"


def test_reads_the_file_when_no_text_is_given(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("k: v\n", encoding="utf-8")
    assert load_yaml(path).data == {"k": "v"}


def test_undecodable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value).startswith(f"{path}:0: (file): cannot read: ")
