"""config: config.yaml in, typed frozen Config out; every problem as file:line: key: message."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.config import KNOWN_DOMAINS, Config, Entity, load_config
from assistant.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config.yaml"
TOP_KEYS = ("areas, asr, audio, debug_capture, entities, feedback, floors, language, mqtt, safety, "
            "satellites, site_areas, site_id, skills_dir, understanding, vad, wake")


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    prefix = f"{path}:"
    lines = [str(p) for p in err.value.problems]
    assert all(line.startswith(prefix) for line in lines), lines
    return [line[len(prefix):] for line in lines]  # "3: key: message"


# --- the shipped sample home ---------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Config:
    return load_config(SHIPPED)


def test_shipped_config_describes_a_realistic_home(shipped: Config) -> None:
    assert len(shipped.floors) >= 2
    assert len(shipped.areas) >= 6
    assert len(shipped.entities) >= 30
    domains = {e.domain for e in shipped.entities}
    assert {"light", "switch", "fan", "cover", "lock", "climate", "media_player", "vacuum",
            "sensor", "binary_sensor", "scene", "script", "valve"} <= domains
    classes = {e.device_class for e in shipped.entities if e.domain == "cover"}
    assert {"blind", "curtain", "garage"} <= classes


def test_shipped_config_references_resolve(shipped: Config) -> None:
    floor_ids = {f.id for f in shipped.floors}
    area_ids = {a.id for a in shipped.areas}
    assert all(a.floor in floor_ids for a in shipped.areas)
    assert all(e.area in area_ids for e in shipped.entities if e.area is not None)
    assert all(e.floor in floor_ids for e in shipped.entities if e.floor is not None)
    ids = [e.id for e in shipped.entities]
    assert len(ids) == len(set(ids))
    assert all(e.domain in KNOWN_DOMAINS for e in shipped.entities)


def test_shipped_config_values(shipped: Config) -> None:
    assert shipped.mqtt.host == "embedded"
    assert shipped.mqtt.port == 1883
    assert shipped.site_id == "default"
    assert shipped.effective_site_id == "default"
    assert shipped.safety.confirm_window_s == 20.0
    assert shipped.path == str(SHIPPED)
    assert shipped.resolve("skills") == REPO / "skills"
    assert shipped.resolve("/abs/x") == Path("/abs/x")
    siren = shipped.entity("switch.alarm_siren")
    assert siren is not None and siren.expose is False
    thermostat = shipped.entity("climate.living_room")
    assert thermostat is not None and thermostat.limits == {"temperature": [10, 26]}
    assert shipped.entity("light.nope") is None


def test_config_is_frozen(shipped: Config) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        shipped.site_id = "x"  # type: ignore[misc]


def test_entity_id_parts() -> None:
    e = Entity(id="media_player.living_room_tv", name="TV")
    assert (e.domain, e.object_id) == ("media_player", "living_room_tv")


def test_defaults_from_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("# nothing\n", encoding="utf-8")
    cfg = load_config(path)
    assert cfg.entities == [] and cfg.mqtt.host == "embedded" and cfg.language == "en"
    assert cfg.understanding.engine == "auto"
    assert cfg.base_dir == tmp_path


def test_mqtt_site_id_overrides_the_top_level_one(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("site_id: house\nmqtt: {site_id: attic, tls: {}}\n", encoding="utf-8")
    cfg = load_config(path)
    assert cfg.effective_site_id == "attic"
    assert cfg.mqtt.tls is not None and cfg.mqtt.tls.ca_certs is None  # empty tls turns it on


def test_scalar_where_a_list_is_expected_is_a_one_item_list(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("safety: {deny: [{domain: lock, intent: HassTurnOff}]}\n", encoding="utf-8")
    rule = load_config(path).safety.deny[0]
    assert rule.domain == ["lock"] and rule.intent == ["HassTurnOff"]


def test_numbers_are_accepted_as_text(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("site_id: 42\nmqtt: {password: 1234}\n", encoding="utf-8")
    cfg = load_config(path)
    assert cfg.site_id == "42" and cfg.mqtt.password == "1234"


# --- one error each, with its exact message ------------------------------------------------

ERROR_CASES = [
    pytest.param("mqtt:\n  hots: x\n",
                 ["2: mqtt.hots: unknown key (known keys: client_id, discovery, discovery_prefix, "
                  "hermes, host, keepalive_s, outbox_path, password, port, site_id, tls, "
                  "topic_prefix, username)"], id="unknown-nested-key"),
    pytest.param("mqtt:\n  port: abc\n", ["2: mqtt.port: expected a whole number, got 'abc'"],
                 id="bad-int"),
    pytest.param("mqtt:\n  keepalive_s: 1.5\n",
                 ["2: mqtt.keepalive_s: expected a whole number, got 1.5"], id="float-for-int"),
    pytest.param("mqtt:\n  port: true\n", ["2: mqtt.port: expected a whole number, got True"],
                 id="bool-for-int"),
    pytest.param("understanding:\n  min_confidence: high\n",
                 ["2: understanding.min_confidence: expected a number, got 'high'"],
                 id="bad-float"),
    pytest.param("entities:\n  - {id: light.a, name: A, expose: maybe}\n",
                 ["2: entities[0].expose: expected true or false, got 'maybe'"], id="bad-bool"),
    pytest.param("site_id: [a, b]\n", ["1: site_id: expected text, got ['a', 'b']"],
                 id="list-for-text"),
    pytest.param("mqtt: 5\n", ["1: mqtt: expected a mapping, got 5"], id="scalar-for-section"),
    pytest.param("floors: {id: ground}\n",
                 ["1: floors: expected a list of a mapping, got {'id': 'ground'}"],
                 id="mapping-for-list"),
    pytest.param("entities:\n  - {id: light.a, limits: {temperature: [a, 2]}, name: A}\n",
                 ["2: entities[0].limits.temperature[0]: expected a number, got 'a'"],
                 id="bad-limit"),
    pytest.param("areas:\n  - {id: kitchen}\n", ["2: areas[0]: missing required key 'name'"],
                 id="missing-required"),
    pytest.param("areas:\n  - {id: kitchen, name: Kitchen, floor: basement}\n",
                 ["2: areas[0].floor: no floor with id 'basement'"], id="dangling-floor"),
    pytest.param("entities:\n  - id: light.a\n    name: A\n    area: nowhere\n",
                 ["4: entities[0].area: no area with id 'nowhere'"], id="dangling-area"),
    pytest.param("entities:\n  - {id: light.a, name: A, floor: roof}\n",
                 ["2: entities[0].floor: no floor with id 'roof'"], id="dangling-entity-floor"),
    pytest.param("floors:\n  - {id: g, name: G}\n  - {id: g, name: Again}\n",
                 ["3: floors[1].id: duplicate id 'g'"], id="duplicate-floor"),
    pytest.param("areas:\n  - {id: a, name: A}\n  - {id: a, name: B}\n",
                 ["3: areas[1].id: duplicate id 'a'"], id="duplicate-area"),
    pytest.param("entities:\n  - {id: light.a, name: A}\n  - {id: light.a, name: B}\n",
                 ["3: entities[1].id: duplicate id 'light.a'"], id="duplicate-entity"),
    pytest.param("entities:\n  - {id: Light-B, name: B}\n",
                 ["2: entities[0].id: 'Light-B' is not of the form domain.object_id"],
                 id="bad-entity-id"),
    pytest.param("entities:\n  - {id: kitchen_light, name: B}\n",
                 ["2: entities[0].id: 'kitchen_light' is not of the form domain.object_id"],
                 id="entity-id-without-domain"),
    pytest.param("entities:\n  - {id: toaster.c, name: C}\n",
                 ["2: entities[0].id: unknown domain 'toaster' (known: "
                  + ", ".join(sorted(KNOWN_DOMAINS)) + ")"], id="unknown-domain"),
    pytest.param("entities:\n  - {id: light.d, name: '  '}\n",
                 ["2: entities[0].name: must not be empty"], id="empty-name"),
    pytest.param("safety:\n  deny:\n    - {entity: switch.nope}\n",
                 ["3: safety.deny[0].entity[0]: no entity 'switch.nope'"], id="rule-entity"),
    pytest.param("understanding:\n  engine: magic\n",
                 ["2: understanding.engine: expected one of auto, rules, lm"], id="bad-engine"),
    pytest.param("a: [1, 2\nb: 3\n",
                 ["2: (syntax): invalid YAML: expected ',' or ']', but got ':'"], id="yaml-syntax"),
    pytest.param("- just\n- a list\n", ["1: (top): expected a mapping, got ['just', 'a list']"],
                 id="not-a-mapping"),
]


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES)
def test_config_error_messages(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert problems_of(tmp_path, text) == expected


def test_unknown_top_level_key(tmp_path: Path) -> None:
    (got,) = problems_of(tmp_path, "language: en\nsitee_id: x\n")
    assert got.startswith("2: sitee_id: unknown key (known keys: areas, asr, audio, ")
    assert ", site_id, " in got


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}:0: (file): file not found"


def test_every_reference_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "floors:\n"
        "  - {id: g, name: G}\n"
        "  - {id: g, name: G2}\n"
        "areas:\n"
        "  - {id: kitchen, name: Kitchen, floor: basement}\n"
        "entities:\n"
        "  - {id: light.a, name: A, area: nowhere}\n"
        "  - {id: toaster.c, name: C}\n"
        "  - {id: light.a, name: A2}\n"
    )
    got = problems_of(tmp_path, text)
    assert sorted(got) == sorted([
        "3: floors[1].id: duplicate id 'g'",
        "9: entities[2].id: duplicate id 'light.a'",
        "5: areas[0].floor: no floor with id 'basement'",
        "7: entities[0].area: no area with id 'nowhere'",
        "8: entities[1].id: unknown domain 'toaster' (known: "
        + ", ".join(sorted(KNOWN_DOMAINS)) + ")",
    ])


def test_type_errors_and_reference_errors_are_reported_together(tmp_path: Path) -> None:
    # `assistant check` promises every problem in one run, not one kind per run.
    text = (
        "sitee_id: x\n"
        "areas:\n"
        "  - {id: kitchen, name: Kitchen, floor: basement}\n"
        "entities:\n"
        "  - {id: light.a, name: A, area: nowhere}\n"
    )
    got = problems_of(tmp_path, text)
    assert any(p.startswith("1: sitee_id: unknown key") for p in got), got
    assert "3: areas[0].floor: no floor with id 'basement'" in got
    assert "5: entities[0].area: no area with id 'nowhere'" in got


def test_path_is_not_a_user_key(tmp_path: Path) -> None:
    # `path` is set by the loader; offering it as a known key invites a confusing override.
    assert problems_of(tmp_path, "path: /elsewhere.yaml\n") == [
        f"1: path: unknown key (known keys: {TOP_KEYS})"]


def test_type_errors_in_several_sections_are_all_listed(tmp_path: Path) -> None:
    text = "mqtt: {port: x}\nwake: {sensitivity: loud}\nvad: {aggressiveness: 2.5}\n"
    assert problems_of(tmp_path, text) == [
        "1: mqtt.port: expected a whole number, got 'x'",
        "2: wake.sensitivity: expected a number, got 'loud'",
        "3: vad.aggressiveness: expected a whole number, got 2.5",
    ]


def test_a_site_in_an_unknown_area_is_named_with_its_line(tmp_path: Path) -> None:
    text = ("areas:\n"
            "  - {id: kitchen, name: Kitchen}\n"
            "site_areas:\n"
            "  default: kitchen\n"
            "  bedroom-pi: bedroom\n")
    assert problems_of(tmp_path, text) == ["5: site_areas.bedroom-pi: no area with id 'bedroom'"]
