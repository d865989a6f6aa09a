#!/usr/bin/env bash
# Two web hosts' worth of processes behind one PostgreSQL, with the background
# work on Redis (RQ): each "host" is a gunicorn on its own port of 127.0.0.1 plus
# an RQ worker; both share one database, one Redis, one secret key and one
# SITE_URL, as two machines behind a load balancer would. See docs/scale-out.md.
#
#   scripts/two_hosts.sh start    # release steps once, then both hosts; returns
#   scripts/two_hosts.sh status   # which processes run, and a health check
#   scripts/two_hosts.sh stop     # stops exactly the processes it started
#
# Environment (defaults in brackets):
#   DATABASE_URL   PostgreSQL, required (one database for both hosts)
#   REDIS_URL      [redis://127.0.0.1:6379/0] the RQ queue and the shared cache
#   PORTS          ["8101 8102"] one port per host, on 127.0.0.1
#   WEB_WORKERS    [2] gunicorn worker processes per host
#   RQ_WORKERS     [1] RQ workers per host
#   STATE_DIR      [var/two_hosts] pid files, logs and the shared secret key
#   SITE_URL       [http://127.0.0.1:<first port>] the address in mails' links
#
# This is a local rehearsal: no TLS in front, so HTTPS redirects and secure
# cookies are off here. In production a TLS proxy/load balancer sits in front
# (DJANGO_BEHIND_PROXY=true) and those stay on.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
GUNICORN="${GUNICORN:-$(dirname "$PYTHON")/gunicorn}"
STATE_DIR="${STATE_DIR:-var/two_hosts}"
PORTS="${PORTS:-8101 8102}"
WEB_WORKERS="${WEB_WORKERS:-2}"
RQ_WORKERS="${RQ_WORKERS:-1}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

die() { echo "two_hosts: $*" >&2; exit 1; }

environment() {
  case "${DATABASE_URL:-}" in
    postgres://* | postgresql://*) ;;
    *) die "set DATABASE_URL to a PostgreSQL database (both hosts share it)" ;;
  esac
  mkdir -p "$STATE_DIR"
  # One secret key for both hosts: a session or a signed link made by one must
  # be valid on the other.
  if [[ -z "${DJANGO_SECRET_KEY:-}" ]]; then
    [[ -s "$STATE_DIR/secret_key" ]] ||
      "$PYTHON" -c "import secrets; print(secrets.token_urlsafe(50))" >"$STATE_DIR/secret_key"
    DJANGO_SECRET_KEY="$(cat "$STATE_DIR/secret_key")"
  fi
  local first="${PORTS%% *}"
  export DATABASE_URL REDIS_URL DJANGO_SECRET_KEY
  export SITE_URL="${SITE_URL:-http://127.0.0.1:$first}"
  export TASKS_BACKEND=django_tasks_rq.RQBackend
  export DJANGO_DEBUG=false
  export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}"
  export DJANGO_SECURE_SSL_REDIRECT=false DJANGO_SECURE_HSTS_SECONDS=0
  export DJANGO_SESSION_COOKIE_SECURE=false DJANGO_CSRF_COOKIE_SECURE=false
}

release() {
  # Once per release, from one place (not from each host).
  "$PYTHON" manage.py migrate --noinput -v0
  "$PYTHON" manage.py createcachetable
  "$PYTHON" manage.py loaddata default_questionnaire -v0
  "$PYTHON" manage.py collectstatic --noinput -v0
}

running() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_host() {
  local host="$1" port="$2"
  running "$STATE_DIR/web-$host.pid" && die "host $host already runs (stop first)"
  "$GUNICORN" gapsurvey.wsgi --workers "$WEB_WORKERS" --bind "127.0.0.1:$port" \
    --pid "$STATE_DIR/web-$host.pid" --log-level warning \
    </dev/null >>"$STATE_DIR/web-$host.log" 2>&1 &
  local n
  for n in $(seq 1 "$RQ_WORKERS"); do
    "$PYTHON" manage.py rqworker --with-scheduler --job-class django_tasks_rq.Job \
      --name "host-$host-$n-$$" default </dev/null >>"$STATE_DIR/rq-$host-$n.log" 2>&1 &
    echo $! >"$STATE_DIR/rq-$host-$n.pid"
  done
}

healthy() {
  local port="$1" attempts="${2:-60}" n
  for n in $(seq 1 "$attempts"); do  # at most attempts × 0.5 s
    if "$PYTHON" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
      "http://127.0.0.1:$port/accounts/login/" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

start() {
  environment
  release
  local host=a port
  for port in $PORTS; do
    start_host "$host" "$port"
    host=$(echo "$host" | tr 'a-y' 'b-z')
  done
  for port in $PORTS; do
    healthy "$port" || { stop; die "port $port did not answer; see $STATE_DIR/*.log"; }
    echo "host on http://127.0.0.1:$port/ is up"
  done
}

stop() {
  local pidfile pid n
  shopt -s nullglob
  for pidfile in "$STATE_DIR"/*.pid; do
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for n in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$pidfile"
  done
  echo "stopped"
}

status() {
  local pidfile port state
  shopt -s nullglob
  for pidfile in "$STATE_DIR"/*.pid; do
    if running "$pidfile"; then state=running; else state=gone; fi
    echo "$(basename "$pidfile" .pid): pid $(cat "$pidfile") $state"
  done
  for port in $PORTS; do
    if healthy "$port" 1; then echo "127.0.0.1:$port answers"; else echo "127.0.0.1:$port does not answer"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|status|stop" ;;
esac
