"""Takes Hermes audioFrame messages from satellites; returns one Outcome per command, per site.

A satellite (a cheap microphone board in another room) streams its audio as one small WAV
file per message on `hermes/audioServer/<siteId>/audioFrame`. Each site that streams gets
its own listening loop (frontend, wake phrase, VAD: the state that must not mix between
rooms) on its own thread, speaking through a view of the one Assistant that carries its
siteId, so its hotword, textCaptured, intent and tts/say messages name it.

All sites share one recognizer. A decoder with its grammar costs several megabytes and the
board has one core, so decoding two commands at once would only make both slower: a site
holds the decoder from the start of a command to its end, and a command from another site
meanwhile waits, its audio queued, then catches up faster than real time (`sitedecoder`).

Beeps and spoken replies (feedback.sounds, feedback.speak) are played on the satellite, as
WAV files on `hermes/audioServer/<siteId>/playBytes/<requestId>`. Whatever a satellite is
sent to play (our replies, its own text to speech, a hub's chime), its microphone hears
too: while it plays, that site's audio is left out, so no reply is taken for a command.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from assistant import hermes
from assistant.audio import PushSource, WavFrameDecoder
from assistant.config import Config
from assistant.errors import AssistantError, AudioError
from assistant.feedback import RemoteFeedback, wav_duration_ms
from assistant.pipeline import Assistant
from assistant.sitedecoder import MAX_REMEMBERED_SITES, SharedRecognizer, SiteRecognizer
from assistant.structs import Outcome
from assistant.voice import CommandRecognizer, VoiceLoop, make_recognizer

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 256 * 1024  # a frame is tens of milliseconds; anything this big is not one
QUEUED_CHUNKS = 2000  # per site: about a minute of 30 ms frames while the decoder is busy
WARN_EVERY_S = 10.0  # a broken satellite sends dozens of bad frames a second: warn seldom
JOIN_TIMEOUT_S = 5.0
WAKE_S = 0.2  # how often the waiting main thread looks for a pending Ctrl-C
# A satellite plays a little after we hear of it, and its audio reaches us later still:
# its audio is left out this much longer than the sound lasts.
PLAYBACK_TAIL_MS = 300

SiteOutcome = Callable[[str, Outcome], None]  # (siteId, outcome)


@dataclass(frozen=True)
class SatelliteStats:
    """Counters since start; a snapshot, so the numbers agree with each other."""

    frames: int = 0  # audio frames accepted
    bad_frames: int = 0  # payloads that are not usable WAV audio
    refused_frames: int = 0  # from sites not accepted, or beyond max_sites
    dropped_frames: int = 0  # accepted but lost: the site's listener fell a minute behind
    sites_started: int = 0
    sites_dropped: int = 0  # stopped streaming for idle_timeout_ms
    decoder_waits: int = 0  # commands that waited for another site's command to finish
    muted_frames: int = 0  # arrived while the site played a sound (its own voice): left out
    sounds_played: int = 0  # WAV files we sent to satellites to play (beeps, replies)


@dataclass(eq=False)
class _Site:
    site_id: str
    source: PushSource
    recognizer: SiteRecognizer
    decoder: WavFrameDecoder
    last_frame_s: float
    listening: bool = True  # hermes/hotword/toggleOff|On for this site
    playing_until_s: float = 0.0  # time.monotonic() when the sound it plays (if any) ends
    loop: VoiceLoop | None = None
    thread: threading.Thread | None = None


def site_outcome_line(site_id: str, outcome: Outcome) -> str:
    """The outcome JSON line, with the satellite's `site_id` after `source`."""
    out = outcome.to_json()
    keys = list(out)
    at = keys.index("source") + 1
    ordered = {k: out[k] for k in keys[:at]} | {"site_id": site_id} | {k: out[k] for k in keys[at:]}
    return json.dumps(ordered, ensure_ascii=False)


class SatelliteHub:
    """Listens to every accepted satellite at once; `start()`, then `close()` when done."""

    def __init__(self, assistant: Assistant, config: Config, *, wake: bool = True,
                 on_outcome: SiteOutcome | None = None,
                 recognizer: CommandRecognizer | None = None) -> None:
        if assistant.link is None:
            raise AssistantError("satellites stream over MQTT: the assistant needs its broker "
                                 "connection (publish=True)")
        self.assistant = assistant
        self.settings = config.satellites
        # The board's own speaker is not in the satellite's room: replies go out as
        # hermes/tts/say for that site, and are played there (playBytes) when wanted.
        self.site_config = replace(config, feedback=replace(config.feedback, sounds=False,
                                                             speak=False))
        self.replies = (RemoteFeedback(config.feedback, self._play)
                        if self.settings.play_replies else None)
        self.wake = wake
        self.on_outcome = on_outcome
        self.shared = SharedRecognizer(recognizer if recognizer is not None
                                       else make_recognizer(assistant, config))
        self._lock = threading.Lock()
        self._sites: dict[str, _Site] = {}
        self._toggled: dict[str, bool] = {}  # siteId -> listening, for sites that start later
        self._refused_ids: set[str] = set()
        self._warned_s: dict[str, float] = {}  # siteId -> when its last bad frame was logged
        self._counts = {name: 0 for name in SatelliteStats.__dataclass_fields__}
        self._closed = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="satellite-reaper", daemon=True)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        link = self.assistant.link
        assert link is not None  # checked in __init__
        link.subscribe(hermes.AUDIO_FRAME_TOPIC_FILTER, self._on_frame, qos=0)
        link.subscribe(hermes.HOTWORD_TOGGLE_ON_TOPIC, self._on_toggle)
        link.subscribe(hermes.HOTWORD_TOGGLE_OFF_TOPIC, self._on_toggle)
        link.subscribe(hermes.PLAY_BYTES_TOPIC_FILTER, self._on_play, qos=0)
        self._reaper.start()
        log.info("listening to satellites on %s (sites: %s, at most %d at once)",
                 hermes.AUDIO_FRAME_TOPIC_FILTER, ", ".join(self.settings.sites) or "any",
                 self.settings.max_sites)

    def wait(self) -> None:
        """Blocks until `close()` (from another thread) or Ctrl-C. Wakes now and then: the
        kernel may hand Ctrl-C to another of the process's threads, and the main thread
        only raises KeyboardInterrupt once it runs again."""
        while not self._closed.wait(WAKE_S):
            pass

    def close(self) -> None:
        """Ends every site's stream (commands in progress are finished) and waits for them."""
        self._closed.set()
        with self._lock:
            sites = list(self._sites.values())
            self._sites.clear()
        for site in sites:
            site.source.end()
        for site in sites:
            if site.thread is not None:
                site.thread.join(JOIN_TIMEOUT_S)
        if self.replies is not None:
            self.replies.close()  # the last replies still go out

    def __enter__(self) -> SatelliteHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> SatelliteStats:
        with self._lock:
            return SatelliteStats(**{**self._counts, "decoder_waits": self.shared.waits})

    def active_sites(self) -> list[str]:
        with self._lock:
            return sorted(self._sites)

    # --- incoming audio (on the MQTT network thread: quick, never raises) ------------------

    def _on_frame(self, topic: str, payload: bytes) -> None:
        site_id = hermes.audio_frame_site(topic)
        if site_id is None or self._closed.is_set():
            return
        if not payload or len(payload) > MAX_FRAME_BYTES:  # before it may start a site
            self._bad_frame(site_id, f"satellite {site_id}: a frame of {len(payload)} bytes "
                            "is not audio")
            return
        with self._lock:
            site = self._sites.get(site_id) or self._admit(site_id)
            if site is None:
                self._counts["refused_frames"] += 1
                return
            if time.monotonic() < site.playing_until_s:
                site.last_frame_s = time.monotonic()
                self._counts["muted_frames"] += 1
                return
        try:
            chunk = site.decoder.decode(payload)
        except AudioError as exc:
            self._bad_frame(site_id, str(exc))
            return
        site.last_frame_s = time.monotonic()
        accepted = site.source.push(chunk)
        with self._lock:
            self._counts["frames" if accepted else "dropped_frames"] += 1

    def _admit(self, site_id: str) -> _Site | None:
        """A new site's loop, started; None (logged once per site) when it is not accepted."""
        s = self.settings
        reason = None
        if s.sites and site_id not in s.sites:
            reason = "not in satellites.sites"
        elif len(self._sites) >= s.max_sites:
            reason = f"satellites.max_sites ({s.max_sites}) are streaming already"
        if reason is not None:
            if site_id not in self._refused_ids and len(self._refused_ids) < MAX_REMEMBERED_SITES:
                self._refused_ids.add(site_id)
                log.warning("satellite %s refused: %s", site_id, reason)
            return None
        name = f"satellite {site_id}"
        site = _Site(site_id, PushSource(name, max_chunks=QUEUED_CHUNKS),
                     self.shared.for_site(site_id), WavFrameDecoder(name), time.monotonic(),
                     listening=self._toggled.get(site_id,
                                                 self._toggled.get(hermes.DEFAULT_SITE_ID, True)))
        site.thread = threading.Thread(target=self._listen, args=(site,),
                                       name=f"satellite-{site_id}", daemon=True)
        self._sites[site_id] = site
        self._counts["sites_started"] += 1
        site.thread.start()
        log.info("satellite %s: streaming", site_id)
        return site

    def _bad_frame(self, site_id: str, reason: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._counts["bad_frames"] += 1
            warn = now - self._warned_s.get(site_id, -WARN_EVERY_S) >= WARN_EVERY_S
            if warn:
                if len(self._warned_s) >= MAX_REMEMBERED_SITES:
                    self._warned_s.clear()
                self._warned_s[site_id] = now
            total = self._counts["bad_frames"]
        if warn:
            log.warning("%s (ignored; %d bad frames in all so far)", reason, total)

    def _on_toggle(self, topic: str, payload: bytes) -> None:
        toggle = hermes.parse_hotword_toggle(topic, payload)
        if isinstance(toggle, hermes.Malformed):
            log.warning("ignored %s: %s", topic, toggle.reason)
            return
        with self._lock:
            if toggle.site_id in self._toggled or len(self._toggled) < MAX_REMEMBERED_SITES:
                self._toggled[toggle.site_id] = toggle.on
            for site in self._sites.values():
                if toggle.site_id in (site.site_id, hermes.DEFAULT_SITE_ID):
                    site.listening = toggle.on
                    if site.loop is not None:
                        site.loop.listening = toggle.on

    def _on_play(self, topic: str, payload: bytes) -> None:
        """A sound for a site to play: its audio is left out until the sound has played."""
        site_id = hermes.play_bytes_site(topic)
        with self._lock:
            site = self._sites.get(site_id) if site_id is not None else None
        if site is None:
            return  # not streaming: nothing of it to leave out
        duration_ms = wav_duration_ms(payload)
        if duration_ms is None:
            log.debug("ignored %s: not a WAV file", topic)
            return
        tail_s = PLAYBACK_TAIL_MS / 1000
        with self._lock:
            # A satellite plays one sound after the other: this one starts when the last ends.
            starts_s = max(time.monotonic(), site.playing_until_s - tail_s)
            site.playing_until_s = starts_s + duration_ms / 1000 + tail_s

    def _play(self, site_id: str, wav: bytes) -> None:
        """Sends a WAV file to a satellite to play (a beep or a reply); dropped when offline."""
        link = self.assistant.link
        topic = hermes.play_bytes_topic(site_id, uuid.uuid4().hex)
        if link is not None and link.publish_bytes(topic, wav):
            with self._lock:
                self._counts["sounds_played"] += 1
        else:
            log.debug("site %s: not connected to the broker; a sound was not played", site_id)

    # --- per-site listening (one thread per site) ------------------------------------------

    def _listen(self, site: _Site) -> None:
        try:
            loop = VoiceLoop(self.assistant.for_site(site.site_id), self.site_config,
                             wake=self.wake, recognizer=site.recognizer, toggles=False,
                             on_outcome=lambda outcome: self._outcome(site.site_id, outcome))
            if self.replies is not None:
                loop.feedback = self.replies.for_site(site.site_id)
            loop.listening = site.listening
            site.loop = loop
            loop.run(site.source)
        except Exception:  # one site's failure must not silence the other rooms
            log.exception("satellite %s: listening failed", site.site_id)
        finally:
            site.recognizer.release()
            with self._lock:
                if self._sites.get(site.site_id) is site:
                    del self._sites[site.site_id]  # its next frame starts afresh

    def _outcome(self, site_id: str, outcome: Outcome) -> None:
        if self.on_outcome is not None:
            self.on_outcome(site_id, outcome)

    def _reap(self) -> None:
        """Ends the stream of a site that stopped sending, so its command (if any) finishes."""
        idle_s = self.settings.idle_timeout_ms / 1000
        while not self._closed.wait(min(0.25, idle_s / 4)):
            now = time.monotonic()
            with self._lock:
                gone = [s for s in self._sites.values() if now - s.last_frame_s > idle_s]
                for site in gone:
                    del self._sites[site.site_id]
                    self._counts["sites_dropped"] += 1
            for site in gone:
                log.info("satellite %s: no audio for %d ms; dropped", site.site_id,
                         self.settings.idle_timeout_ms)
                site.source.end()


def run_satellites(config: Config, *, wake: bool, json_out: bool, engine: str | None) -> int:
    """`assistant run --satellites`: serves satellites until interrupted, printing outcomes."""

    def show(site_id: str, outcome: Outcome) -> None:
        if json_out:
            print(site_outcome_line(site_id, outcome), flush=True)
        else:
            print(f"[{site_id}] > {outcome.heard or '(nothing)'}\n  {outcome.speech}", flush=True)

    assistant = Assistant(config, engine=engine)
    try:
        with SatelliteHub(assistant, config, wake=wake, on_outcome=show) as hub:
            hub.wait()
    finally:
        left = assistant.close()
    return 3 if left else 0
