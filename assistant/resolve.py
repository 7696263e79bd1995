"""Resolves spoken names, areas and floors to config entities: slot values in, entity lists out.

Tolerant of case, articles, plurals and possessives ("the kitchen's lights"), and of
names said as "area + device word" ("kitchen lights"), so the micro-LLM may copy raw words.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from assistant.config import Area, Config, Entity, Floor

# Slots that only pick the devices a command acts on (not what it does to them).
PICKING_SLOTS = frozenset({"name", "area", "floor", "domain", "device_class"})
_ARTICLE_RE = re.compile(r"^(?:the|my|our|all(?: of)?(?: the)?|a|an)\s+")
DEVICE_WORDS = {
    "light": "light", "lights": "light", "lamp": "light", "lamps": "light",
    "lighting": "light", "bulb": "light", "bulbs": "light",
    "fan": "fan", "fans": "fan", "switch": "switch", "switches": "switch", "plug": "switch",
    "blind": "cover", "blinds": "cover", "curtain": "cover", "curtains": "cover",
    "lock": "lock", "locks": "lock", "thermostat": "climate", "heating": "climate",
    "radiator": "climate", "tv": "media_player", "speaker": "media_player",
    "vacuum": "vacuum",
}
PLURALS = {
    "light": "lights", "switch": "switches", "fan": "fans", "cover": "covers", "lock": "locks",
    "climate": "thermostats", "media_player": "media players", "vacuum": "vacuums",
    "sensor": "sensors", "binary_sensor": "sensors", "scene": "scenes", "script": "scripts",
    "valve": "valves", "blind": "blinds", "curtain": "curtains", "garage": "garage doors",
    "window": "windows", "temperature": "thermometers",
}

# Words people use for one another in names, compared as one ("the outdoor temperature").
SAME_WORDS = {"outdoor": "outside"}


def key(text: str) -> str:
    """Canonical comparison form: lower case, no articles, possessives or plural s."""
    t = re.sub(r"[^\w\s']", " ", text.lower())
    t = re.sub(r"'s\b|s'(?=\s|$)", "", t)
    t = re.sub(r"'", "", t)
    t = " ".join(t.split())
    t = _ARTICLE_RE.sub("", t)
    words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
             for w in t.split()]
    return " ".join(SAME_WORDS.get(w, w) for w in words)


@dataclass(frozen=True)
class NameMatch:
    entities: tuple[Entity, ...]
    area: Area | None = None  # set when the name was really "area + device word"
    domain: str | None = None


class Resolver:
    """Lookup tables over the config, built once per config load."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.exposed = [e for e in config.entities if e.expose]
        self.by_name: dict[str, list[Entity]] = {}
        for e in self.exposed:
            for k in {key(spoken) for spoken in (e.name, *e.aliases)}:
                self.by_name.setdefault(k, []).append(e)
        self.areas: dict[str, Area] = {}
        for a in config.areas:
            for spoken in {a.name, a.id.replace("_", " "), *a.aliases}:
                self.areas[key(spoken)] = a
        self.floors: dict[str, Floor] = {}
        for f in config.floors:
            for spoken in {f.name, f.id, *f.aliases}:
                self.floors[key(spoken)] = f
        self.area_by_id = {a.id: a for a in config.areas}
        self.place_words = {w for spoken in (*self.areas, *self.floors) for w in spoken.split()}
        self.name_words = {w for spoken in self.by_name for w in spoken.split()}

    def area(self, spoken: str) -> Area | None:
        return self.areas.get(key(spoken))

    def area_part(self, spoken: str) -> Area | None:
        """The one room whose name has every spoken word that names a place ("the kids"
        and "the kids are" of the kids room); the other words, if any, must name nothing
        here (no device, no kind of device)."""
        words = key(spoken).split()
        places = [w for w in words if w in self.place_words]
        rest = set(words) - set(places)
        if not places or rest & (self.name_words | set(DEVICE_WORDS)):
            return None
        hits = {a.id: a for k, a in self.areas.items() if all(w in k.split() for w in places)}
        return next(iter(hits.values())) if len(hits) == 1 else None

    def floor(self, spoken: str) -> Floor | None:
        return self.floors.get(key(spoken))

    def floor_of(self, entity: Entity) -> str | None:
        if entity.floor:
            return entity.floor
        area = self.area_by_id.get(entity.area or "")
        return area.floor if area else None

    def name(self, spoken: str, domains: Collection[str] = ()) -> NameMatch | None:
        """Entities called `spoken`; or, failing that, an area plus a device word, or the
        one device (of `domains`, when given) whose name has every spoken word."""
        k = key(spoken)
        if k in self.by_name:
            return NameMatch(tuple(self.by_name[k]))
        words = k.split()
        # "kitchen lights", "lights in the kitchen" -> area + domain
        for i in range(len(words)):
            head, tail = " ".join(words[:i]), " ".join(words[i:])
            for area_part, dev_part in ((head, tail), (tail, head)):
                dev = re.sub(r"^(?:in|on|at) (?:the )?", "", dev_part)
                area_words = re.sub(r"^(?:in|on|at) (?:the )?", "", area_part)
                area = self.area(area_words) if area_words else None
                domain = DEVICE_WORDS.get(dev) or DEVICE_WORDS.get(dev + "s")
                if area is not None and domain is not None:
                    found = tuple(e for e in self.exposed
                                  if e.area == area.id and e.domain == domain)
                    if found:
                        return NameMatch(found, area=area, domain=domain)
        # A unique entity whose name contains every spoken word ("ceiling light").
        if words:
            hits = {e.id: e for n, ents in self.by_name.items()
                    if all(w in n.split() for w in words) for e in ents
                    if not domains or e.domain in domains}
            if len(hits) == 1:
                return NameMatch(tuple(hits.values()))
        # A room, then words of the one device there that has them ("bathroom mirror").
        for i in range(1, len(words)):
            for room_words, rest in ((words[:i], words[i:]), (words[i:], words[:i])):
                area = self.area(" ".join(room_words))
                if area is None:
                    continue
                hits = {e.id: e for n, ents in self.by_name.items()
                        if all(w in n.split() for w in rest) for e in ents if e.area == area.id
                        and (not domains or e.domain in domains)}
                if len(hits) == 1:
                    return NameMatch(tuple(hits.values()))
        return None
