#!/usr/bin/env bash
# The main job: set up what is missing, build, start `whisker-dev serve` on examples/counter,
# start the example app connected to it, and print the status page's URL. Then edit
# examples/counter/src/*.rs: every save patches the running app.
#
#   ./scripts/dev.sh              (WHISKER_PORT=9630 by default; Ctrl-C stops both)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export PATH="$HOME/.cargo/bin:$PATH"

./scripts/setup.sh

PORT=${WHISKER_PORT:-9630}
PROJECT="$ROOT/examples/counter"
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/whisker-dev.XXXXXX")
SERVER_LOG="$LOG_DIR/serve.log"
APP_LOG="$LOG_DIR/counter.log"

"$ROOT/.build/debug/whisker-dev" serve --project "$PROJECT" --port "$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
APP_PID=""
cleanup() {
    [[ -n "$APP_PID" ]] && kill "$APP_PID" 2>/dev/null || true
    kill -INT "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

URL=""
for _ in $(seq 1 100); do
    URL=$(grep -o 'http://[^ ]*:[0-9]*' "$SERVER_LOG" | head -1 || true)
    [[ -n "$URL" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; echo "dev: the server did not start" >&2; exit 1; }
    sleep 0.1
done
echo "dev: server at $URL (log: $SERVER_LOG)"

# Wait for the fat build; its kept binary is the app to run (patches link against it).
BUILD=""
for _ in $(seq 1 600); do
    STATUS=$(curl -fsS "$URL/api/status" || true)
    STATE=$(printf '%s' "$STATUS" | grep -o '"build":{"id":"[^"]*","state":"[a-z]*"' | head -1 || true)
    case "$STATE" in
        *'"state":"succeeded"') BUILD=$(printf '%s' "$STATE" | sed 's/.*"id":"\([^"]*\)".*/\1/'); break ;;
        *'"state":"failed"'|*'"state":"cancelled"') cat "$SERVER_LOG" >&2; echo "dev: the build failed" >&2; exit 1 ;;
    esac
    sleep 0.5
done
[[ -n "$BUILD" ]] || { echo "dev: no build after 5 minutes" >&2; exit 1; }
BINARY=$(curl -fsS "$URL/api/builds/$BUILD" | grep -o '"binaryPath":"[^"]*"' | sed 's/"binaryPath":"\(.*\)"/\1/')

WHISKER_DEV_SERVER="$URL" WHISKER_BUILD_ID="$BUILD" COUNTER_INTERVAL_MS=1000 "$BINARY" >"$APP_LOG" 2>&1 &
APP_PID=$!

cat <<EOF

  Whisker Hotpatch is running.
    status page   $URL/
    example app   pid $APP_PID, output in $APP_LOG
    server log    $SERVER_LOG

  Edit examples/counter/src/main.rs (e.g. the text in message()) and save:
  the running app prints the new text, same pid, counter continuing.
  Ctrl-C stops everything.

EOF
tail -n +1 -f "$APP_LOG" &
TAIL_PID=$!
trap 'kill $TAIL_PID 2>/dev/null || true; cleanup' EXIT INT TERM
wait "$SERVER_PID"
