"""Returns more training-only templates (hassil syntax): clipped, question-like and routine talk.

A second batch beside `paraphrase`: commands said in two or three words ("blind down",
"fan on"), a device named and then acted on ("the hall lamp, on please"), questions about
what was left running, routines and scenes by their names, robot vacuums sent off and
called back, halfway positions. They share `paraphrase`'s expansion rules and lists, so
this text only adds sentences; intents the skills lack are skipped there.
"""

from __future__ import annotations

from typing import Any

import yaml

from assistant.train import pools

_TEMPLATES = r"""
lists:
  p_routine:
    values: []
  p_amount:
    values: [full, max, maximum, half, quarter, a quarter, three quarters]
expansion_rules:
  p_soft: "[please|thanks|for me|now|then|again|too|as well]"
  p_bit: "(a bit|a little|a touch|a notch|slightly|some|a degree|one degree)"
  p_routine_word: "(routine|scene|mode|thing|setting|preset|program)"
intents:
  HassTurnOn:
    data:
      - sentences:
          - "<p_name> (on|going|running) <p_soft>"
          - "<p_name>, on <p_soft>"
          - "<p_name>, (switch|turn|put|flick) (it|that) on <p_soft>"
          - "(and|also) <p_name> on"
          - "<p_name> on <p_in> <p_soft>"
          - "(i'd|we'd) (love|like) <p_name> on <p_soft>"
          - "(switch|turn|put|flick) on <p_name> <p_soft>"
      - sentences:
          - "<p_lights> on <p_soft>"
          - "<p_area> <p_lights> (on|back on) <p_soft>"
          - "(in|for) <p_the> {area}, <p_lights> on <p_soft>"
          - "(in|for) <p_the> {area}, (switch|turn|put) <p_the> <p_lights> on"
          - "(switch|turn|put) on (every|each|all the|all of the) <p_lights> <p_where>"
          - "(every|each) <p_lights> <p_where> on <p_soft>"
        slots: {domain: light}
      - sentences:
          - "(do|run|start|put on|kick off|set up|begin|trigger) <p_the> {p_routine:name} [<p_routine_word>] <p_soft>"
          - "{p_routine:name} <p_routine_word> <p_soft>"
          - "(it's|time for) {p_routine:name} [<p_routine_word>]"
          - "(switch to|go to|go into|set) {p_routine:name} <p_routine_word>"
  HassTurnOff:
    data:
      - sentences:
          - "<p_name> off <p_soft>"
          - "<p_name>, off <p_soft>"
          - "<p_name>, (switch|turn|shut|flick) (it|that) off <p_soft>"
          - "(and|also) <p_name> off"
          - "<p_name> off <p_in> <p_soft>"
          - "(switch|turn|shut|flick) off <p_name> <p_soft>"
      - sentences:
          - "<p_lights> off <p_soft>"
          - "<p_area> <p_lights> off <p_soft>"
          - "(in|for) <p_the> {area}, <p_lights> off <p_soft>"
          - "(in|for) <p_the> {area}, (switch|turn|shut) <p_the> <p_lights> off"
          - "(switch|turn|shut) off (every|each|all the|all of the) <p_lights> <p_where>"
          - "(it's|it is) (way too|much too|far too|a bit too|too) (bright|glary|harsh|light) <p_in>"
        slots: {domain: light}
  HassSetPosition:
    data:
      - sentences:
          - "<p_the> {p_cover:device_class} [<p_where>] (up|open) <p_soft>"
          - "<p_area> {p_cover:device_class} (up|open) <p_soft>"
          - "<p_name> (up|open) <p_soft>"
          - "(and|also) <p_the> {p_cover:device_class} (up|open)"
        slots: {position: 100}
      - sentences:
          - "<p_the> {p_cover:device_class} [<p_where>] (down|shut|closed) <p_soft>"
          - "<p_area> {p_cover:device_class} (down|shut|closed) <p_soft>"
          - "<p_name> (down|shut|closed) <p_soft>"
          - "(and|also) <p_the> {p_cover:device_class} (down|shut)"
        slots: {position: 0}
      - sentences:
          - "(put|open|bring|raise|lower|set) <p_the> {p_cover:device_class} <p_where> (half way|halfway|half) [open|up|down]"
          - "<p_the> {p_cover:device_class} <p_where> (half way|halfway|half) [open|up|down]"
          - "(put|open|bring|raise|lower|set) <p_name> (half way|halfway|half) [open|up|down]"
          - "<p_name> (half way|halfway|half) [open|up|down] <p_soft>"
        slots: {position: 50}
  HassLightSet:
    data:
      - sentences:
          - "<p_the> <p_lights> <p_where> (on|at|to) {p_amount:brightness} [brightness|power] <p_soft>"
          - "(put|set|turn|bring) <p_the> <p_lights> <p_where> (on|to|up to|down to) {p_amount:brightness} [brightness] <p_soft>"
          - "{p_amount:brightness} brightness <p_where> <p_soft>"
          - "<p_name> (on|at|to) {p_amount:brightness} [brightness|power] <p_soft>"
          - "(put|set|turn) <p_name> (on|to) {p_amount:brightness} [brightness] <p_soft>"
        slots: {domain: light}
  HassSetVolume:
    data:
      - sentences:
          - "(volume|sound) (on|at|to) {p_amount:volume_level} [<p_where>] <p_soft>"
          - "<p_name> (volume|sound) (on|at|to) {p_amount:volume_level} <p_soft>"
          - "(put|turn|set) <p_the> (volume|sound) (on|to|up to|down to) {p_amount:volume_level} [<p_where>]"
        slots: {domain: media_player}
  HassGetState:
    data:
      - sentences:
          - "(did|have) (i|we|you|someone|somebody|anyone|the kids) (leave|left|forget|forgot) <p_name> {p_state:state}"
          - "has <p_name> been (left|switched|turned|put) {p_state:state}"
          - "(is|are) <p_name> still {p_state:state} (right now|at the moment|now)"
          - "<p_name>, (is it|are they) {p_state:state}"
          - "(any idea|do you know) (if|whether) <p_name> is {p_state:state}"
          - "(can you|could you) (check|tell me) (if|whether) <p_name> (is|was left) {p_state:state}"
      - sentences:
          - "(did|have) (i|we|you|someone) (leave|left) <p_name> (on|running|going)"
          - "(is|are) <p_name> (still|currently) (going|running|on)"
  HassClimateGetTemperature:
    data:
      - sentences:
          - "is it (warm|cold|hot|chilly|cool|freezing) [enough] <p_in>"
          - "(how's|what's) the (temperature|temp) (like|looking) <p_in>"
          - "(warm|cold|hot) enough <p_in>"
        slots: {device_class: temperature}
  ClimateWarmer:
    data:
      - sentences:
          - "<p_heat> up <p_bit> <p_where>"
          - "<p_area> <p_heat> up <p_bit>"
          - "(raise|bump|turn) <p_the> <p_heat> <p_bit> <p_where>"
        slots: {domain: climate}
  ClimateCooler:
    data:
      - sentences:
          - "<p_heat> down <p_bit> <p_where>"
          - "<p_area> <p_heat> down <p_bit>"
          - "(lower|drop|turn down) <p_the> <p_heat> <p_bit> <p_where>"
        slots: {domain: climate}
  HassMediaPause:
    data:
      - sentences:
          - "(pause|hold|freeze|stop) <p_name> <p_soft>"
          - "<p_name>, (pause|hold it|stop it) <p_soft>"
          - "<p_name> on pause"
        slots: {domain: media_player}
  HassMediaUnpause:
    data:
      - sentences:
          - "(unpause|resume|continue|restart) <p_name> <p_soft>"
          - "<p_name>, (play|resume|carry on|keep going) <p_soft>"
        slots: {domain: media_player}
  MediaVolumeUp:
    data:
      - sentences:
          - "<p_name> (louder|up) [<p_bit>] <p_soft>"
          - "(turn|bring|pump) <p_name> up <p_soft>"
        slots: {domain: media_player}
  MediaVolumeDown:
    data:
      - sentences:
          - "<p_name> (quieter|softer|down) [<p_bit>] <p_soft>"
          - "(turn|bring|keep) <p_name> down <p_soft>"
        slots: {domain: media_player}
  HassVacuumStart:
    data:
      - sentences:
          - "(send|let) <p_name> (out|off|loose|round) [to clean]"
          - "<p_name>, (go|start) (clean|cleaning|vacuuming|to work)"
          - "(start|run) <p_name> <p_soft>"
        slots: {domain: vacuum}
  HassVacuumReturnToBase:
    data:
      - sentences:
          - "<p_name>, (go|come|head) (home|back|back home|to your dock|to bed)"
          - "(send|get|bring) <p_name> (home|back|back to (its|the|his|her) (dock|base|charger))"
        slots: {domain: vacuum}
"""  # noqa: E501 (template lines read best unbroken)


def casual_templates() -> dict[str, Any]:
    """The templates as a dict; routine names come from the invented scene pool."""
    data: dict[str, Any] = yaml.safe_load(_TEMPLATES)
    data["lists"]["p_routine"]["values"] = list(pools.DEVICE_NOUNS["scene"])
    return data
