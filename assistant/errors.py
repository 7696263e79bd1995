"""The error tree: every error a user can cause carries where it happened and why.

"Rejected" and "not understood" are outcomes, never exceptions; these are for broken
files, missing programs and unusable input that stops a command from running at all.
"""

from __future__ import annotations

from dataclasses import dataclass


class AssistantError(Exception):
    """Base of every error the assistant reports to a user without a traceback."""


@dataclass(frozen=True)
class Problem:
    """One located problem in a user's file: rendered as `file:line: key: message`."""

    file: str
    line: int  # 1-based; 0 when the position is unknown
    key: str  # dotted path of the offending key, e.g. "entities[3].area"
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}: {self.message}"


class ConfigError(AssistantError):
    """config.yaml or a skill file is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ModelError(AssistantError):
    """A model file is missing, corrupted, or does not match its manifest."""


class AudioError(AssistantError):
    """Audio input cannot be used: a corrupt or non-PCM file, a missing device."""


class BrokerError(AssistantError):
    """The MQTT broker cannot be started or reached in a way the user must fix."""
