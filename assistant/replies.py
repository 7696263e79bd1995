"""Words for the mapper's replies: a rejection reason or a command's settings in, a phrase out."""

from __future__ import annotations

from collections.abc import Mapping

from assistant.skills import IntentSpec, SlotType
from assistant.slotcheck import fmt
from assistant.structs import SlotScalar


def setting(spec: IntentSpec, slots: Mapping[str, SlotScalar]) -> str:
    """"50 percent", "blue", "blue at 50 percent": the values a command sets, in words."""
    parts = []
    for name, slot in spec.slots.items():
        if name in slots and slot.type is SlotType.ENUM:
            parts.append(str(slots[name]))
    for name, slot in spec.slots.items():
        if name in slots and slot.type is SlotType.NUMBER:
            unit = {"percent": " percent", "celsius": " degrees"}.get(slot.unit or "", "")
            parts.append(f"{fmt(float(slots[name]))}{unit}")
    return " at ".join(parts)


def rejection_speech(reason: str) -> str:
    """What the user hears when a command is refused for this reason."""
    if reason in ("not understood", "empty input") or reason.startswith("not sure"):
        return "Sorry, I didn't catch that."
    if reason.startswith("ambiguous:"):
        return "Sorry, I'm not sure what you meant."
    if reason == "negated command":
        return "Okay, I won't."
    if reason == "not a command":
        return "Okay."
    if reason == "leaving something out is not supported yet":
        return ("Sorry, I can't leave things out yet. Tell me what to do it to, and I'll do "
                "just that.")
    if reason == "timed commands are not supported yet":
        return "Sorry, I can't do things later yet. Ask me when you want it done."
    if reason.startswith("unknown device: "):
        return f"Sorry, I don't know a device called {reason[len('unknown device: '):]}."
    if reason.startswith("ambiguous device: which one, "):
        return f"Which one do you mean: {reason[len('ambiguous device: which one, '):]}?"
    if reason.startswith("ambiguous device: "):
        return f"Which one do you mean: {reason[len('ambiguous device: '):]}?"
    text = reason[0].upper() + reason[1:]
    return f"Sorry: {text}." if not text.endswith((".", "?")) else f"Sorry: {text}"
