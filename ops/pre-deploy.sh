#!/usr/bin/env bash
# CI pre-deploy step: backup -> dry-run -> migrate -> verify, each with --json and a report kept in
# REPORT_DIR. A run that finds another one holding the migration lock (exit 3) is retried a bounded
# number of times; any other failure stops the deploy with that command's exit code.
#
#   ops/pre-deploy.sh [REPORT_DIR]
#   LOCK_RETRIES (default 5), LOCK_RETRY_DELAY seconds (default 30), LOCK_TIMEOUT (default 60s)
set -uo pipefail
cd "$(dirname "$0")/.."

reports=${1:-${REPORT_DIR:-reports/pre-deploy/$(date -u +%Y%m%dT%H%M%SZ)}}
retries=${LOCK_RETRIES:-5}
delay=${LOCK_RETRY_DELAY:-30}
lock_timeout=${LOCK_TIMEOUT:-60s}
mkdir -p "$reports" && chmod 700 "$reports"

# step NAME CLI-ARGS...: runs `topsteel CLI-ARGS --json --report REPORT_DIR/NAME.json`.
step() {
  local name=$1 attempt=1 code
  shift
  while :; do
    echo "pre-deploy: $name (attempt $attempt)" >&2
    node apps/api/dist/cli.js "$@" --json --report "$reports/$name.json" >/dev/null
    code=$?
    [ "$code" -ne 3 ] && break
    if [ "$attempt" -ge "$retries" ]; then
      echo "pre-deploy: $name: the migration lock is still held after $attempt attempts; see $reports/$name.json" >&2
      return 3
    fi
    echo "pre-deploy: $name: another run holds the migration lock; retrying in ${delay}s" >&2
    sleep "$delay"
    attempt=$((attempt + 1))
  done
  if [ "$code" -ne 0 ]; then
    echo "pre-deploy: $name failed with exit $code; its report is $reports/$name.json" >&2
  fi
  return "$code"
}

step backup backup || exit $?
step dry-run dry-run || exit $?
step migrate migrate --lock-timeout "$lock_timeout" || exit $?
step verify verify || exit $?
echo "pre-deploy: done; reports in $reports" >&2
