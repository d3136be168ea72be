#!/usr/bin/env bash
# Checks the emulator against Genesys' official Python SDK: a virtualenv under target/
# gets purecloudplatformclientv2 from PyPI, the emulator is started on a free loopback port,
# and scripts/sdk_check.py drives it. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

SDK_VERSION="${SDK_VERSION:-269.0.0}"
VENV=target/sdk-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import PureCloudPlatformClientV2" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "purecloudplatformclientv2==$SDK_VERSION"
fi

cargo build --quiet --locked
OUT=$(mktemp)
SEED=$(mktemp)
echo '{"scheduleGroups":["SDK Hours"],"dataTables":["SDK Table"],"prompts":["SDKPrompt"],"dataActions":["SDK Action"]}' >"$SEED"
target/debug/flowctl emulator serve --addr 127.0.0.1:0 --job-ms 50 --seed "$SEED" >"$OUT" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$OUT" "$SEED"' EXIT
for _ in $(seq 1 100); do
  [ -s "$OUT" ] && break
  sleep 0.1
done
BASE=$(head -n 1 "$OUT")
[ -n "$BASE" ] || { echo "sdk-check: the emulator did not start" >&2; exit 1; }
"$VENV/bin/python" scripts/sdk_check.py "$BASE" flowctl-emulator emulator-secret
