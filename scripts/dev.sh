#!/usr/bin/env bash
# The main job: set up what is missing, build the RELEASE build of whisker-dev (`swift build -c
# release`: the server's own share of a patch — relocate, jump table, function diff, symbols — takes
# about a quarter of the debug build's time; the tests use the debug build), start `whisker-dev
# serve` on examples/counter, start the example app connected to it once the app is built. Then
# edit examples/counter/src/*.rs: every save patches the running app.
#
# On a terminal, serve runs in the foreground with its terminal UI: the app's output (device logs)
# and the server's log scroll above a status line; keys r patch now, R hot restart, o open the
# status page, l device logs on/off, q quit. Otherwise (output piped or redirected) the server runs
# in the background, its log in a file, and the app's output is printed.
#
#   ./scripts/dev.sh              (WHISKER_PORT=9630 by default; q or Ctrl-C stops both)
#   WHISKER_DEV_CONFIGURATION=debug ./scripts/dev.sh    the debug build instead (builds faster, patches slower)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export PATH="$HOME/.cargo/bin:$PATH"

# setup.sh's own build is the debug one the tests use; this script builds what it runs itself.
WHISKER_SKIP_BUILD=1 ./scripts/setup.sh
CONFIGURATION=${WHISKER_DEV_CONFIGURATION:-release}
echo "dev: building the $CONFIGURATION build of whisker-dev (swift build -c $CONFIGURATION)" >&2
swift build -c "$CONFIGURATION"
WHISKER_DEV="$(swift build -c "$CONFIGURATION" --show-bin-path)/whisker-dev"
echo "dev: running the $CONFIGURATION build: $WHISKER_DEV" >&2

PORT=${WHISKER_PORT:-9630}
URL="http://127.0.0.1:$PORT"
PROJECT="$ROOT/examples/counter"
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/whisker-dev.XXXXXX")
SERVER_LOG="$LOG_DIR/serve.log"
APP_LOG="$LOG_DIR/counter.log"
APP_PID_FILE="$LOG_DIR/counter.pid"

# Waits for the fat build (its kept binary is the app to run: patches link against it) and starts
# the app; `quiet` writes its own messages to the server log instead of the terminal (the terminal
# UI owns the screen).
start_app_when_built() {
    local quiet=${1:-} build="" status state binary
    say() { if [[ "$quiet" == quiet ]]; then echo "$*" >>"$LOG_DIR/dev.log"; else echo "$*" >&2; fi; }
    for _ in $(seq 1 600); do
        status=$(curl -fsS "$URL/api/status" 2>/dev/null || true)
        state=$(printf '%s' "$status" | grep -o '"build":{"id":"[^"]*","state":"[a-z]*"' | head -1 || true)
        case "$state" in
            *'"state":"succeeded"') build=$(printf '%s' "$state" | sed 's/.*"id":"\([^"]*\)".*/\1/'); break ;;
            *'"state":"failed"'|*'"state":"cancelled"') say "dev: the build failed; the app was not started (see the log)"; return 1 ;;
        esac
        sleep 0.5
    done
    [[ -n "$build" ]] || { say "dev: no build after 5 minutes"; return 1; }
    binary=$(curl -fsS "$URL/api/builds/$build" | grep -o '"binaryPath":"[^"]*"' | sed 's/"binaryPath":"\(.*\)"/\1/')
    WHISKER_DEV_SERVER="$URL" WHISKER_BUILD_ID="$build" COUNTER_INTERVAL_MS=1000 "$binary" >"$APP_LOG" 2>&1 &
    echo $! >"$APP_PID_FILE"
}

HELPER_PID=""
SERVER_PID=""
TAIL_PID=""
cleanup() {
    [[ -n "$TAIL_PID" ]] && kill "$TAIL_PID" 2>/dev/null || true
    [[ -n "$HELPER_PID" ]] && kill "$HELPER_PID" 2>/dev/null || true
    [[ -s "$APP_PID_FILE" ]] && kill "$(cat "$APP_PID_FILE")" 2>/dev/null || true
    if [[ -n "$SERVER_PID" ]]; then
        kill -INT "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -t 0 && -t 1 ]]; then
    cat <<EOF

  Whisker Hotpatch: serving examples/counter at $URL/ (the $CONFIGURATION build)
    the example app starts once it is built; its output appears here (l hides it), and in $APP_LOG
    server log lines and the status line below: r patch now · R hot restart · o open the page · l device logs · q quit

  Edit examples/counter/src/main.rs (e.g. the text in message()) and save:
  the running app prints the new text, same pid, counter continuing.

EOF
    start_app_when_built quiet &
    HELPER_PID=$!
    # In the foreground: its terminal UI reads the keys. q (or Ctrl-C) ends it; cleanup stops the app.
    "$WHISKER_DEV" serve --project "$PROJECT" --port "$PORT"
    exit $?
fi

"$WHISKER_DEV" serve --project "$PROJECT" --port "$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    grep -q 'status page' "$SERVER_LOG" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; echo "dev: the server did not start" >&2; exit 1; }
    sleep 0.1
done
echo "dev: server at $URL (log: $SERVER_LOG)"
start_app_when_built || { cat "$SERVER_LOG" >&2; exit 1; }

cat <<EOF

  Whisker Hotpatch is running (the $CONFIGURATION build of whisker-dev).
    status page   $URL/
    example app   pid $(cat "$APP_PID_FILE"), output in $APP_LOG
    server log    $SERVER_LOG

  Edit examples/counter/src/main.rs (e.g. the text in message()) and save:
  the running app prints the new text, same pid, counter continuing.
  Ctrl-C stops everything.

EOF
tail -n +1 -f "$APP_LOG" &
TAIL_PID=$!
wait "$SERVER_PID"
