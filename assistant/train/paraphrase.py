"""Returns extra sentence templates (hassil syntax) per intent: casual and indirect phrasing.

The skills' templates are what an installer wrote down; people say more. These frames are
training data only, never matched at run time. Intents, slots or values missing from the
installed skills are skipped, so a changed skill set never breaks training.
"""

from __future__ import annotations

from typing import Any

import yaml

from assistant.train.casual import casual_templates

_TEMPLATES = r"""
expansion_rules:
  p_the: "[the|my|our|those|these|all the|all of the]"
  p_area: "<p_the> {area}"
  p_name: "<p_the> {name}"
  p_in: "(in|inside|over in|down in|up in|out in|throughout|around|for|at) <p_the> {area}"
  p_on: "(on|across|upstairs on|downstairs on) <p_the> {floor}"
  p_where: "(<p_in>|<p_on>)"
  p_lights: "(light|lights|lamp|lamps|lighting|bulbs|overhead lights|overheads|ceiling light)"
  p_tv: "(tv|telly|television|speaker|speakers|music|stereo|radio|sound)"
  p_vac: "(vacuum|roomba|robot|robot vacuum|hoover|vacuum cleaner|robo vac)"
  p_heat: "(heating|heat|thermostat|heater|radiators|temperature)"
  p_reason: "(<p_who> (going|heading|off) (out|to bed|to work|upstairs|downstairs|for a walk)|<p_who> (done|finished) (cooking|eating|working|reading|for the day|here)|<p_who> (asleep|sleeping|tired|back|home|leaving|cooking|reading|busy)|(i|we) need (some sleep|a break|coffee|to focus|to relax)|it's (late|early|getting late|time|too harsh|too noisy|annoying|story time)|(they've|guests have|the kids have) (arrived|left|gone)|nobody('s| is) (using it|watching|in there|home)|before i forget|just in case|thanks|cheers)"
  p_who: "(i'm|we're|she's|he's|they're|the kids are|the baby's|everyone's|i am|we are)"
lists:
  p_pct: {range: {from: 0, to: 100}}
  p_temp: {range: {from: 5, to: 30, fractions: halves}}
  p_cover:
    values:
      - {in: "(blinds|blind|shades|shutters|roller blinds|roller shades|venetian blinds)", out: blind}
      - {in: "(curtains|curtain|drapes)", out: curtain}
      - {in: "(garage door|garage)", out: garage}
      - {in: "(window|windows|skylight)", out: window}
  p_color:
    values: [red, orange, yellow, green, blue, purple, pink, white,
             {in: "(warm white|warm)", out: warm white}, {in: "(cool white|cold white)", out: cool white}]
  p_state:
    values: [{in: "(on|lit|running)", out: "on"}, "off", {in: "(open|opened)", out: open},
             {in: "(closed|shut)", out: closed}, locked, unlocked, playing, paused, docked, cleaning]
intents:
  HassTurnOff:
    data:
      - sentences:
          - "<p_name>, (switch|turn|shut|put) it off"
          - "(someone|somebody|you|i|the kids) left <p_name> on, (turn|switch|shut) it off"
          - "<p_name> off, (<p_reason>)"
          - "(<p_reason>), (switch|turn) <p_name> off"
          - "(<p_reason>), <p_name> off"
          - "off (with|goes) <p_name>"
          - "<p_name> can go off, (<p_reason>)"
          - "i'm done with <p_name>, (turn|switch) it off"
      - sentences:
          - "<p_area> (doesn't|does not) need (a|the|any) (light|lights) on"
          - "(<p_reason>), <p_lights> off <p_where>"
          - "(<p_reason>), (turn|switch) (the|all the) <p_lights> off <p_where>"
          - "<p_the> <p_lights> <p_where>, (switch|turn) them off"
          - "(someone|somebody|you|i) left the <p_lights> on <p_where>, (turn|switch) them off"
        slots: {domain: light}
      - sentences:
          - "(douse|extinguish|knock off|kill off|shut off|cut off|put out) <p_the> <p_lights> <p_where>"
          - "(no more|enough) <p_lights> <p_where>"
          - "(get|shut|hit) <p_the> <p_lights> <p_where>"
          - "(i|we) (don't|do not) need <p_the> <p_lights> <p_where> (anymore|any more|now)"
          - "(turn|switch|shut|flick) <p_the> <p_lights> (off|out) <p_where>"
          - "<p_lights> (off|out) (in|for) <p_the> {area}"
          - "(we're|we are|i'm|i am) (done|finished) <p_in> (so|you can) (turn|shut|switch) off <p_the> <p_lights>"
          - "(can|could) you (switch|turn|shut) (off|out) <p_the> <p_lights> <p_where>"
          - "(off|out) go <p_the> <p_lights> <p_where>"
        slots: {domain: light}
      - sentences:
          - "(kill|cut|douse|knock off|shut down|power down|deactivate|disengage) <p_name>"
          - "(i'm|we're|i am|we are) done with <p_name>"
          - "<p_name> can (go|be) off [now]"
          - "(no more|enough of) <p_name>"
          - "(can|could) you (switch|turn|shut) off <p_name>"
          - "(switch|turn|shut|flick) <p_name> off"
          - "<p_name> (needs|has) to (go|be) off"
          - "i want <p_name> off"
          - "(stop|halt) <p_name> <p_in>"
  HassTurnOn:
    data:
      - sentences:
          - "<p_name>, (switch|turn|put) it on"
          - "(give me|i need|we need|i'd like) <p_name> [on] [please]"
          - "(get|set) <p_name> (going|running|started)"
          - "fire <p_name> up"
          - "(kick off|start up|get going) <p_name>"
          - "<p_name> on, (<p_reason>)"
          - "(<p_reason>), (switch|turn|put) <p_name> on"
          - "(<p_reason>), <p_name> on"
          - "(leave|keep) <p_name> on [please]"
      - sentences:
          - "<p_area> (needs|could use|wants) (its|the|some) (light|lights) on"
          - "(<p_reason>), <p_lights> on <p_where>"
          - "(<p_reason>), (turn|switch|put) (the|some) <p_lights> on <p_where>"
          - "<p_the> <p_lights> <p_where>, (switch|turn|put) them on"
          - "i want (every|each|all the) <p_lights> <p_where> on"
        slots: {domain: light}
      - sentences:
          - "<p_name>, lock it [up]"
          - "make sure <p_name> is locked"
        slots: {domain: lock}
      - sentences:
          - "(give me|i need|i want|we need|let's have|let there be) [some] light <p_where>"
          - "(get|bring) <p_the> <p_lights> on <p_where>"
          - "(can|could) (we|i) (have|get) <p_the> <p_lights> on <p_where>"
          - "(turn|switch|flick|click|pop|put) <p_the> <p_lights> on <p_where>"
          - "<p_lights> on (in|for) <p_the> {area} [please]"
          - "(illuminate|light) up <p_area>"
        slots: {domain: light}
      - sentences:
          - "(fire up|boot up|power up|wake up|switch on|flick on) <p_name>"
          - "(can|could) (we|i) (have|get) <p_name> on"
          - "(i'd|i would) like <p_name> on"
          - "<p_name> (needs|has) to be on"
          - "let's (get|have) <p_name> (on|going|running)"
          - "(get|start) <p_name> (going|running|up)"
          - "i want <p_name> on"
          - "(can|could) you (switch|turn) on <p_name> <p_in>"
      - sentences:
          - "(secure|bolt) <p_name>"
        slots: {domain: lock}
  HassToggle:
    data:
      - sentences:
          - "(flick|switch|flip) <p_name> (over|around)"
          - "(change|swap) <p_name> (over|around)"
      - sentences:
          - "toggle <p_the> <p_lights> <p_where>"
        slots: {domain: light}
  HassLightSet:
    data:
      - sentences:
          - "(bring|take|put|drop|crank|pump|turn) <p_the> <p_lights> <p_where> (to|down to|up to) {p_pct:brightness} [percent] [brightness]"
          - "i want <p_the> <p_lights> <p_where> at {p_pct:brightness} [percent]"
          - "<p_lights> <p_where> {p_pct:brightness} percent [please]"
          - "(make|have) <p_name> {p_pct:brightness} percent [bright]"
          - "(dim|lower) <p_name> (to|down to) {p_pct:brightness} [percent]"
          - "brightness {p_pct:brightness} [percent] (for|on) <p_name>"
          - "{p_pct:brightness} percent (brightness|light) <p_where>"
          - "(make|change|turn|paint|switch) <p_the> <p_lights> <p_where> {p_color:color}"
          - "i want {p_color:color} light <p_where>"
          - "<p_name> (in|to) {p_color:color} please"
          - "(go|switch) {p_color:color} (with|on) <p_name>"
          - "can <p_the> <p_lights> <p_where> be {p_color:color}"
          - "(make|turn) <p_name> {p_color:color}"
        slots: {domain: light}
  LightBrighter:
    data:
      - sentences:
          - "(more|extra) light (on|from) <p_name>"
          - "<p_name> (a bit|a little|slightly|way|much) brighter"
          - "(bump|turn|crank|bring|push) up <p_the> <p_lights> <p_where>"
          - "(i|we) can (barely|hardly) see <p_in>"
          - "(brighten|lighten) [up] <p_the> <p_lights> <p_where>"
        slots: {domain: light}
  LightDimmer:
    data:
      - sentences:
          - "(tone|turn|bring|take|knock) down <p_the> <p_lights> <p_where>"
          - "<p_name> (a bit|a little|slightly) (dimmer|darker|lower|softer)"
          - "(soften|lower) <p_the> <p_lights> <p_where>"
          - "less light (on|from) <p_name>"
          - "(make|turn) <p_name> (a bit|a little) (dimmer|darker|softer)"
        slots: {domain: light}
  HassSetPosition:
    data:
      - sentences:
          - "(open up|draw back|pull back|roll up|put up|raise up|hoist) <p_the> {p_cover:device_class} <p_where>"
          - "(i want|can we have|can i get) <p_the> {p_cover:device_class} (open|up) <p_where>"
          - "<p_the> {p_cover:device_class} <p_where> (need|needs) to (be open|go up|come up)"
          - "(open up|draw back|pull back|roll up) <p_name>"
        slots: {position: 100}
      - sentences:
          - "(draw|pull|drop|let down|roll down|close up|shut) <p_the> {p_cover:device_class} <p_where>"
          - "(i want|can we have|can i get) <p_the> {p_cover:device_class} (closed|down|shut) <p_where>"
          - "<p_the> {p_cover:device_class} <p_where> (need|needs) to (be closed|come down|go down)"
          - "(draw|pull down|let down|close up) <p_name>"
        slots: {position: 0}
      - sentences:
          - "(put|move|bring|lower|raise|set) <p_the> {p_cover:device_class} <p_where> to {p_pct:position} [percent]"
          - "{p_cover:device_class} <p_where> (at|to) {p_pct:position} percent"
          - "open <p_the> {p_cover:device_class} <p_where> (about|around|roughly) {p_pct:position} percent"
          - "(put|move|bring) <p_name> to {p_pct:position} [percent]"
  HassClimateSetTemperature:
    data:
      - sentences:
          - "(make|get|keep|have) it {p_temp:temperature} degrees <p_where>"
          - "(i'd|i would) like it (at|to be) {p_temp:temperature} [degrees] <p_where>"
          - "(bring|put|turn|crank) <p_the> <p_heat> (up|down) to {p_temp:temperature} [degrees] <p_where>"
          - "{p_temp:temperature} degrees <p_where> please"
          - "(heat|warm) <p_area> up to {p_temp:temperature} [degrees]"
          - "target temperature {p_temp:temperature} <p_where>"
          - "<p_name> to {p_temp:temperature} degrees please"
          - "change <p_name> to {p_temp:temperature} [degrees]"
        slots: {domain: climate}
  HassClimateGetTemperature:
    data:
      - sentences:
          - "how (hot|cold|warm|chilly) is it (in|inside|over in) <p_the> {area}"
          - "(tell me|do you know|give me) the temperature <p_where>"
          - "what('s| is) the temp <p_where>"
          - "current temperature <p_where>"
          - "how many degrees is it <p_where>"
          - "what does <p_name> (say|read|show)"
        slots: {device_class: temperature}
  ClimateWarmer:
    data:
      - sentences:
          - "(i'm|we're|it's) (freezing|frozen|shivering) <p_where>"
          - "(bump|push|nudge|crank) up the <p_heat> <p_where>"
          - "a (bit|little|touch) warmer <p_where> [please]"
          - "(more|extra) heat <p_where>"
        slots: {domain: climate}
  ClimateCooler:
    data:
      - sentences:
          - "(it's|it is) (boiling|roasting|sweltering|stuffy|baking) <p_where>"
          - "(i'm|we're) (sweating|boiling|roasting) <p_where>"
          - "(less heat|lower the heat) <p_where>"
          - "a (bit|little|touch) cooler <p_where> [please]"
          - "cool (it|things) down <p_where>"
        slots: {domain: climate}
  HassMediaPause:
    data:
      - sentences:
          - "(hold|freeze|halt) <p_the> (music|movie|show|tv|film|playback|video) [<p_where>]"
          - "(hang on|wait) pause (it|that|the tv)"
          - "pause (for a second|for a sec|for a moment)"
          - "(put|hit) pause on <p_name>"
          - "(put|hit) <p_name> on (pause|hold)"
        slots: {domain: media_player}
  HassMediaUnpause:
    data:
      - sentences:
          - "(carry on|keep going|start it again|hit play|press play) [<p_where>]"
          - "(press|hit) play on <p_name>"
          - "(continue|resume) (the|my) (music|movie|show|song|episode) <p_where>"
        slots: {domain: media_player}
  HassMediaNext:
    data:
      - sentences:
          - "(skip|next) (this one|it|ahead) [<p_where>]"
          - "(i don't like|i hate) this (song|track) [skip it]"
          - "(jump|move|skip) to the next (one|song|track|episode) [<p_where>]"
          - "(change|switch) the (song|track) [<p_where>]"
          - "skip ahead on <p_name>"
        slots: {domain: media_player}
  HassMediaPrevious:
    data:
      - sentences:
          - "(back up|rewind) (one|a) (song|track) [<p_where>]"
          - "(play|put on) (the|that) (last|previous) (song|track|one) again"
          - "(back|previous) (song|track) on <p_name>"
        slots: {domain: media_player}
  HassSetVolume:
    data:
      - sentences:
          - "(put|turn|bring|crank|drop) the (volume|sound) (to|at|down to|up to) {p_pct:volume_level} [percent] [<p_where>]"
          - "volume {p_pct:volume_level} (please|on <p_name>)"
          - "(make|put) <p_name> (volume|sound) {p_pct:volume_level} [percent]"
          - "<p_name> (volume|sound) (to|at) {p_pct:volume_level} [percent]"
        slots: {domain: media_player}
  MediaVolumeUp:
    data:
      - sentences:
          - "(turn it up|pump it up|crank it|more volume|up the volume|boost the volume) [<p_where>]"
          - "(turn|make) <p_name> louder"
          - "(more|increase) volume on <p_name>"
          - "<p_the> <p_tv> (is|are) too quiet [<p_where>]"
        slots: {domain: media_player}
  MediaVolumeDown:
    data:
      - sentences:
          - "(quieter please|hush|keep it down|lower the sound|less volume|turn it down) [<p_where>]"
          - "(turn|make) <p_name> (quieter|softer)"
          - "<p_the> <p_tv> (is|are) (too loud|way too loud|deafening) [<p_where>]"
        slots: {domain: media_player}
  HassVacuumStart:
    data:
      - sentences:
          - "(get|set) <p_the> <p_vac> (going|running|started|to work|cleaning) [<p_where>]"
          - "(time to|let's) (clean|vacuum|hoover) <p_area>"
          - "(can|could) you (vacuum|clean|hoover) <p_area>"
          - "(send|dispatch) the <p_vac> (to clean|to vacuum|into) <p_area>"
          - "(do|run) a (clean|cleaning|vacuum) <p_where>"
          - "<p_name> (get|go) (to work|cleaning)"
        slots: {domain: vacuum}
  HassVacuumReturnToBase:
    data:
      - sentences:
          - "(send|take|bring|get) <p_the> <p_vac> (home|back home|to its dock|to its base|to the charger)"
          - "(dock|park|recall) <p_the> <p_vac>"
          - "<p_name> (go home|return home|dock|back to base)"
        slots: {domain: vacuum}
  HassGetState:
    data:
      - sentences:
          - "(check|tell me) (if|whether) <p_name> is {p_state:state}"
          - "(is|are) <p_name> (currently|now|right now) {p_state:state}"
          - "(is|are) <p_name> {p_state:state} or not"
  HassNevermind:
    data:
      - sentences:
          - "(forget|ignore) (what i said|what i just said|me)"
          - "(actually|wait) (never mind|forget it)"
          - "(don't worry about it|i changed my mind|that was a mistake|my bad)"
  ConfirmYes:
    data:
      - sentences:
          - "(yes|yeah|yep) (go on|do it now|that's fine|definitely)"
          - "(sounds good|that's fine|alright then|go on then|make it so|proceed|sure thing|you bet|certainly|definitely)"
  ConfirmNo:
    data:
      - sentences:
          - "(no|nope|nah) (thanks|not now|wait)"
          - "(not now|hold off|wait no|definitely not|absolutely not|no no|better not)"
  HassGetCurrentTime:
    data:
      - sentences:
          - "(got|have you got) the time [please]"
          - "(how late|what hour) is it"
          - "(could|can) you tell me the time"
          - "do you know what time it is"
  HassGetCurrentDate:
    data:
      - sentences:
          - "(what's|what is) (today|the date today)"
          - "(what|which) day of the (week|month) is it"
          - "(remind me|tell me) what (day|date) it is"
"""  # noqa: E501 (template lines read best unbroken)


def paraphrase_templates(intent_names: set[str]) -> dict[str, Any]:
    """The training-only templates (these and `casual`'s), limited to intents the skills
    define."""
    data: dict[str, Any] = yaml.safe_load(_TEMPLATES)
    more = casual_templates()
    data["expansion_rules"].update(more["expansion_rules"])
    data["lists"].update(more["lists"])
    for name, intent in more["intents"].items():
        data["intents"].setdefault(name, {"data": []})["data"] += intent["data"]
    data["language"] = "en"
    data["intents"] = {k: v for k, v in data["intents"].items() if k in intent_names}
    return data
