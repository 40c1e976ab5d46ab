#!/usr/bin/env bash
# The local AWS emulator (moto server), pinned, in a project-local virtualenv.
#   scripts/emulator.sh install        create .venv and install moto (idempotent)
#   scripts/emulator.sh start [PORT]   start it on a free loopback port; prints the endpoint URL
#   scripts/emulator.sh stop           stop the one `start` started
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION="5.2.5"
VENV=".venv"
STATE=".emulator"

install() {
  if [ -x "$VENV/bin/moto_server" ] && "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    return 0
  fi
  echo "Installing moto[server]==$MOTO_VERSION into $VENV ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  install
  local port="${1:-$(free_port)}"
  mkdir -p "$STATE"
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=0 \
    nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$STATE/moto.log" 2>&1 &
  echo $! >"$STATE/pid"
  echo "$port" >"$STATE/port"
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  echo "the emulator did not start; see $STATE/moto.log" >&2
  stop
  return 1
}

stop() {
  if [ -f "$STATE/pid" ]; then
    kill "$(cat "$STATE/pid")" 2>/dev/null || true
    rm -f "$STATE/pid" "$STATE/port"
  fi
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 install|start [PORT]|stop" >&2; exit 2 ;;
esac
