#!/bin/sh
# The peer's own virtual environment: django-survey-and-report 1.5.0 with the
# same Django, driver and gunicorn as GapSurvey (bench/peer/requirements.txt),
# in var/bench/peer-venv (not in git). Idempotent: reinstalls only when the
# requirements changed. Usage: sh bench/peer/setup.sh [python3]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/var/bench/peer-venv"
requirements="$root/bench/peer/requirements.txt"
stamp="$venv/.installed-requirements"
python=${1:-python3}
if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
mkdir -p "$root/var/bench"
test -x "$venv/bin/python" || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "peer environment ready: $venv"
