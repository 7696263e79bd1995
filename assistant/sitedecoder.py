"""Takes one command recognizer; returns per-site handles that take turns on its decoder.

Satellites in several rooms share one decoder: a site holds it from the start of a command
to its end, and a command from another site meanwhile waits. The decoder's cepstral mean
adapts to the microphone it hears, and each room has its own: a site's mean is saved when
it lets go of the decoder and restored when it takes it again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from assistant.asr import Transcript
from assistant.frontend import Frame
from assistant.voice import CommandRecognizer

log = logging.getLogger(__name__)

MAX_REMEMBERED_SITES = 64  # site ids kept when refused, toggled or decoded (anyone may publish)


@runtime_checkable
class KeepsCmn(Protocol):
    """A recognizer whose cepstral mean can be saved and restored (asr.Recognizer)."""

    def save_cmn(self) -> str: ...
    def restore_cmn(self, cmn: str) -> None: ...


class SharedRecognizer:
    """One decoder for every site; `for_site()` hands out the per-site handles.

    The decoder's cepstral mean adapts to the microphone it hears, and satellites in other
    rooms have other microphones: each site's mean is saved when it lets go of the decoder
    and restored when it takes it again, so one room's commands do not skew the next
    room's. A site new to us starts from the mean the decoder had when the hub started.
    """

    def __init__(self, recognizer: CommandRecognizer) -> None:
        self.recognizer = recognizer
        self._lock = threading.Lock()
        self.waits = 0
        self._keeps_cmn = recognizer if isinstance(recognizer, KeepsCmn) else None
        self._first_cmn = self._keeps_cmn.save_cmn() if self._keeps_cmn is not None else ""
        self._cmn: dict[str, str] = {}  # siteId -> its mean when it last let go

    def for_site(self, site_id: str) -> SiteRecognizer:
        return SiteRecognizer(self, site_id)

    def acquire(self, site_id: str) -> None:
        if not self._lock.acquire(blocking=False):
            self.waits += 1
            log.info("site %s: waiting for another site's command to be decoded", site_id)
            self._lock.acquire()
        if self._keeps_cmn is not None:
            try:
                self._keeps_cmn.restore_cmn(self._cmn.get(site_id, self._first_cmn))
            except Exception:
                self._lock.release()
                raise

    def release(self, site_id: str) -> None:
        try:
            if self._keeps_cmn is not None:
                cmn = self._keeps_cmn.save_cmn()
                self._cmn.pop(site_id, None)  # re-inserted last: the oldest go first
                if len(self._cmn) >= MAX_REMEMBERED_SITES:
                    del self._cmn[next(iter(self._cmn))]
                self._cmn[site_id] = cmn
        except Exception:  # e.g. after the site's loop crashed: the decoder must still go free
            log.exception("site %s: could not save the decoder's normalisation", site_id)
        finally:
            self._lock.release()

    def saved_cmn(self, site_id: str) -> str | None:
        """The mean `site_id` left behind, if it has decoded a command."""
        return self._cmn.get(site_id)


class SiteRecognizer:
    """A site's handle on the shared decoder: holds it from `start()` to `finish()`/`cancel()`."""

    def __init__(self, shared: SharedRecognizer, site_id: str) -> None:
        self._shared = shared
        self.site_id = site_id
        self.holding = False

    def start(self, answering: bool = False) -> None:
        if not self.holding:
            self._shared.acquire(self.site_id)
            self.holding = True
        self._shared.recognizer.start(answering=answering)

    def feed(self, frames: Iterable[Frame]) -> list[str]:
        return self._shared.recognizer.feed(frames) if self.holding else []

    @property
    def committed(self) -> list[str]:
        return self._shared.recognizer.committed if self.holding else []

    def finish(self) -> Transcript:
        if not self.holding:
            return Transcript("", reason="nothing recognized")
        try:
            return self._shared.recognizer.finish()
        finally:
            self.release()

    def cancel(self) -> None:
        if self.holding:
            try:
                self._shared.recognizer.cancel()
            finally:
                self.release()

    def release(self) -> None:
        """Lets other sites decode; safe to call when not holding (e.g. after a crash)."""
        if self.holding:
            self.holding = False
            self._shared.release(self.site_id)
