"""Reads config.yaml once into typed, frozen dataclasses; every problem names file, line and key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.confload import build_config
from assistant.errors import ConfigError, Problem
from assistant.yamlsrc import Located, load_yaml

DEFAULT_CONFIG_PATH = Path("config.yaml")
ENTITY_ID_RE = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")
KNOWN_DOMAINS = frozenset(
    {
        "light", "switch", "fan", "cover", "lock", "climate", "media_player", "vacuum",
        "sensor", "binary_sensor", "scene", "script", "valve", "alarm_control_panel",
    }
)


@dataclass(frozen=True)
class Floor:
    id: str
    name: str
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    floor: str | None = None  # a floor id
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Entity:
    id: str  # domain.object_id, e.g. light.kitchen_ceiling
    name: str
    aliases: list[str] = field(default_factory=list)
    area: str | None = None  # an area id
    floor: str | None = None  # a floor id, for entities not in any area
    device_class: str | None = None  # garage, blind, curtain, window, temperature, ...
    command_topic: str | None = None  # else the skill's template
    state_topic: str | None = None  # subscribed to answer state questions
    expose: bool = True  # false hides the entity from voice entirely
    # Per-intent payload overrides, e.g. {HassTurnOn: {"power": "on"}}.
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Allowed ranges that narrow the skill's, e.g. {temperature: [16, 26]}.
    limits: dict[str, list[float]] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def object_id(self) -> str:
        return self.id.split(".", 1)[-1]


@dataclass(frozen=True)
class TlsConfig:
    ca_certs: str | None = None  # CA bundle path; None uses the system store
    certfile: str | None = None  # client certificate, for brokers that require one
    keyfile: str | None = None
    insecure: bool = False  # skip hostname verification (self-signed test brokers only)


@dataclass(frozen=True)
class MqttConfig:
    host: str = "embedded"  # "embedded" starts a loopback-only mosquitto we supervise
    port: int = 1883  # for host: embedded, the loopback port it listens on
    username: str | None = None
    password: str | None = None
    tls: TlsConfig | None = None  # present (even empty) turns TLS on
    site_id: str | None = None  # overrides the top-level site_id for Hermes messages
    topic_prefix: str = "assistant"  # status topics: <prefix>/<site>/status
    client_id: str | None = None  # default: assistant-<site_id>
    keepalive_s: int = 30
    outbox_path: str = "var/outbox.sqlite3"  # accepted actions wait here until delivered
    discovery: bool = True  # publish Home Assistant MQTT discovery for our status sensor
    discovery_prefix: str = "homeassistant"
    hermes: bool = True  # publish Hermes intent messages beside device commands


@dataclass(frozen=True)
class SafetyRule:
    """Matches actions; empty lists match anything. Used by confirm, deny and trust rules."""

    intent: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)
    device_class: list[str] = field(default_factory=list)
    entity: list[str] = field(default_factory=list)
    area: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)  # slot equals value, e.g. {position: 100}
    reason: str | None = None  # said to the user when a deny rule fires


@dataclass(frozen=True)
class SafetyConfig:
    confirm_window_s: float = 20.0  # a "yes"/"no" later than this is a new command
    # Added to the risks the skills declare (unlock, open garage door, disarm).
    confirm: list[SafetyRule] = field(default_factory=list)
    # Installer's exceptions: actions matching these never ask for confirmation.
    trust: list[SafetyRule] = field(default_factory=list)
    deny: list[SafetyRule] = field(default_factory=list)  # never actuated by voice


@dataclass(frozen=True)
class UnderstandingConfig:
    engine: str = "auto"  # auto | rules | lm
    model_dir: str = "models"
    min_confidence: float = 0.4  # below this the micro-LLM's parse is "not understood"


@dataclass(frozen=True)
class AudioConfig:
    device: str | None = None  # microphone name or index; None = system default
    sample_rate_hz: int = 16000
    chunk_ms: int = 30  # how much audio a source delivers at a time
    frame_ms: int = 30  # frames the VAD and recognizer see: 10, 20 or 30
    agc: bool = True  # slow automatic gain control: evens out quiet and loud microphones
    agc_target_dbfs: float = -20.0  # speech level the AGC aims for
    agc_max_gain_db: float = 24.0  # never lift more than this (noise comes up with it)
    # Take steady noise (fans, hum, hiss) out before the wake phrase, VAD and recognizer
    # hear the audio; costs 30 ms of delay and about 1 % of a core.
    noise_suppression: bool = True


@dataclass(frozen=True)
class WakeConfig:
    phrase: str = "hey house"
    sensitivity: float = 0.8  # 0..1: higher wakes more easily (and falsely)
    refractory_ms: int = 2000  # ignore further wakes for this long after one
    # Check each detection by decoding its audio again against "anything else": far fewer
    # false wakes, so the detector can be keener.
    verify: bool = True
    # A detection the check turned down (loud noise): listen to what follows without a
    # sound, and act only if it is plainly a command; anything else is dropped unheard.
    listen_when_unsure: bool = True
    follow_up_window_ms: int = 8000  # after a reply, listen again without a wake phrase


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 2  # webrtcvad mode 0..3
    energy_gate_db: float = 4.0  # voiced frames must also be this far above the noise floor
    speech_start_ms: int = 90  # voiced audio needed to start a command
    trailing_silence_ms: int = 600  # silence that ends a command
    semantic_silence_ms: int = 200  # shorter pause that ends a command the LM deems complete
    min_command_ms: int = 300
    max_command_ms: int = 10000
    no_speech_timeout_ms: int = 5000  # after a wake, give up if nobody speaks
    # Audio from before the detected start handed to the recognizer. Short on purpose: noise
    # around a command is what the recognizer most often mistakes for extra words.
    pre_roll_ms: int = 120
    pause_fed_ms: int = 90  # of each pause, this much reaches the recognizer; the rest is skipped
    # Voice this far below the command's loudest moment is other talk (a television across
    # the room), not the speaker, and counts as silence for ending the command; 0: off.
    other_talk_below_db: float = 10.0


@dataclass(frozen=True)
class AsrConfig:
    """Speech recognition (the `asr:` section)."""

    model_dir: str | None = None  # acoustic model folder; None = the one in the pocketsphinx wheel
    # 0..1: how readily speech is called out of grammar. Higher rejects more (and more commands).
    rejection: float = 0.8
    commit_stable_ms: int = 150  # a partial word unchanged this long is passed on
    cmn_warmup_ms: int = 300  # speech used to settle the decoder's normalisation first
    grammar_weight: float = 4.0  # exponent on the grammar's word probabilities
    # Also accept pronunciations without the r after vowels ("turn" as "tun"), as spoken in
    # most of England, Australia or South Africa; costs nothing measurable for American speech.
    non_rhotic: bool = True
    # Installer's pronunciations for names the dictionary lacks, in ARPAbet:
    # {zorblax: "Z AO R B L AE K S"}.
    pronunciations: dict[str, str] = field(default_factory=dict)
    # Adaptation of the acoustic model to this household's voices and microphone, written by
    # `assistant adapt`; None = the model as shipped.
    adaptation: str | None = None
    # Talk this far below the loudest of a command, before or after it, is other talk (a
    # television): set aside while the command is spoken, or by decoding the loud stretch
    # again at its end (see asr.py). 0 = off.
    other_talk_below_db: float = 10.0


@dataclass(frozen=True)
class FeedbackConfig:
    sounds: bool = False  # beeps on wake, done and error
    speak: bool = False  # speak replies through espeak-ng when installed
    voice: str = "en-us"
    hermes_tts: bool = True  # publish hermes/tts/say so hubs can speak replies


@dataclass(frozen=True)
class DebugCaptureConfig:
    enabled: bool = False  # no audio is ever written unless this is true
    directory: str = "var/capture"
    max_files: int = 20  # oldest files are deleted beyond this


@dataclass(frozen=True)
class SatellitesConfig:
    """Hermes satellites streaming audio to us over MQTT (the `satellites:` section)."""

    enabled: bool = False  # `assistant run` listens to satellites instead of the microphone
    sites: list[str] = field(default_factory=list)  # siteIds accepted; empty = any
    max_sites: int = 4  # streaming at once; more are refused (each costs ~10 MB and CPU)
    idle_timeout_ms: int = 2000  # a site silent this long is dropped (its command ends)
    # feedback.sounds and feedback.speak play on the satellite (as hermes/audioServer/<siteId>/
    # playBytes); false for satellites that speak the hermes/tts/say replies themselves.
    play_replies: bool = True


@dataclass(frozen=True)
class Config:
    language: str = "en"
    site_id: str = "default"
    skills_dir: str = "skills"
    floors: list[Floor] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    understanding: UnderstandingConfig = field(default_factory=UnderstandingConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    wake: WakeConfig = field(default_factory=WakeConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    debug_capture: DebugCaptureConfig = field(default_factory=DebugCaptureConfig)
    satellites: SatellitesConfig = field(default_factory=SatellitesConfig)
    # siteId (this box's site_id, or a satellite's) -> id of the area its microphone is in:
    # a command heard there that names no place acts in that area when it has such devices
    site_areas: dict[str, str] = field(default_factory=dict)
    # Where this was loaded from: set by the loader, never read from the file.
    path: str = field(default="", metadata={"internal": True})

    @property
    def base_dir(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path from the config, taken relative to the config file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else self.base_dir / p

    def asr_resolved(self) -> AsrConfig:
        """The `asr:` section with its folders taken relative to the config file."""
        a = self.asr
        return replace(a, model_dir=str(self.resolve(a.model_dir)) if a.model_dir else None,
                       adaptation=str(self.resolve(a.adaptation)) if a.adaptation else None)

    @property
    def effective_site_id(self) -> str:
        return self.mqtt.site_id or self.site_id

    def entity(self, entity_id: str) -> Entity | None:
        for e in self.entities:
            if e.id == entity_id:
                return e
        return None


def _check_references(cfg: Config, src: Located) -> list[Problem]:
    problems: list[Problem] = []

    def dupes(kind: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident in seen:
                problems.append(src.problem(f"{kind}[{i}].id", f"duplicate id '{ident}'"))
            seen.add(ident)

    dupes("floors", [f.id for f in cfg.floors])
    dupes("areas", [a.id for a in cfg.areas])
    dupes("entities", [e.id for e in cfg.entities])
    floor_ids = {f.id for f in cfg.floors}
    area_ids = {a.id for a in cfg.areas}
    for i, a in enumerate(cfg.areas):
        if a.floor is not None and a.floor not in floor_ids:
            problems.append(src.problem(f"areas[{i}].floor", f"no floor with id '{a.floor}'"))
    for i, e in enumerate(cfg.entities):
        if not ENTITY_ID_RE.match(e.id):
            problems.append(
                src.problem(f"entities[{i}].id", f"'{e.id}' is not of the form domain.object_id")
            )
        elif e.domain not in KNOWN_DOMAINS:
            known = ", ".join(sorted(KNOWN_DOMAINS))
            problems.append(
                src.problem(f"entities[{i}].id", f"unknown domain '{e.domain}' (known: {known})")
            )
        if e.area is not None and e.area not in area_ids:
            problems.append(src.problem(f"entities[{i}].area", f"no area with id '{e.area}'"))
        if e.floor is not None and e.floor not in floor_ids:
            problems.append(src.problem(f"entities[{i}].floor", f"no floor with id '{e.floor}'"))
        if not e.name.strip():
            problems.append(src.problem(f"entities[{i}].name", "must not be empty"))
    for section in ("confirm", "trust", "deny"):
        for i, rule in enumerate(getattr(cfg.safety, section)):
            for j, ent in enumerate(rule.entity):
                if cfg.entity(ent) is None:
                    problems.append(
                        src.problem(f"safety.{section}[{i}].entity[{j}]", f"no entity '{ent}'")
                    )
    for site, area in cfg.site_areas.items():
        if area not in area_ids:
            problems.append(src.problem(f"site_areas.{site}", f"no area with id '{area}'"))
    if cfg.satellites.max_sites < 1:
        problems.append(src.problem("satellites.max_sites", "must be at least 1"))
    if cfg.satellites.idle_timeout_ms < 100:
        problems.append(src.problem("satellites.idle_timeout_ms", "must be at least 100"))
    if cfg.understanding.engine not in ("auto", "rules", "lm"):
        problems.append(
            src.problem("understanding.engine", "expected one of auto, rules, lm")
        )
    return problems


def load_config(path: Path | str = DEFAULT_CONFIG_PATH, text: str | None = None) -> Config:
    """Load and validate config.yaml; raises ConfigError listing every problem found."""
    src = load_yaml(path, text)
    cfg, problems = build_config(Config, src)
    if cfg is not None:
        problems += _check_references(cfg, src)
    if problems or cfg is None:
        raise ConfigError(sorted(problems, key=lambda p: p.line))
    return _with_path(cfg, str(path))


def _with_path(cfg: Config, path: str) -> Config:
    return replace(cfg, path=path)
