#!/usr/bin/env bash
# Sets up everything the assistant needs on Debian / Raspberry Pi OS, idempotently:
# system packages (mosquitto, espeak-ng, sox, PortAudio) and a virtual environment in .venv.
#
#   bash packaging/setup.sh            # to run the assistant
#   bash packaging/setup.sh --dev      # also test and lint tools
#   bash packaging/setup.sh --train    # also torch (CPU) for `assistant train`
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
TRAIN=0
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    --train) TRAIN=1 ;;
    *) echo "usage: $0 [--dev] [--train]" >&2; exit 2 ;;
  esac
done

APT_PACKAGES=(mosquitto espeak-ng sox libportaudio2 python3-venv)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${PIP[@]}" --upgrade pip >/dev/null
extras=""
[ "$DEV" -eq 1 ] && extras="dev"
[ "$TRAIN" -eq 1 ] && extras="${extras:+$extras,}train"
if [ -n "$extras" ]; then
  "${PIP[@]}" -e ".[$extras]"
else
  "${PIP[@]}" -e .
fi
if [ "$DEV" -eq 1 ]; then
  # rhasspy-hermes parses our Hermes messages in the tests; it pins an old paho-mqtt that it
  # does not need for parsing, so it goes in without its dependencies.
  "${PIP[@]}" --no-deps rhasspy-hermes==0.6.2
fi
echo "setup: done ($(.venv/bin/python --version), extras: ${extras:-none})"
