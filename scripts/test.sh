#!/usr/bin/env bash
# Runs every Tendero test: the Rust suites (each scenario on SQLite and on PostgreSQL)
# and the browser walk-through in Debian's headless Chromium. Installs what it needs.
# PostgreSQL: TENDERO_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres).
# Without a server the PostgreSQL half says SKIPPED, except under CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# A build cache outside the clone speeds up repeated runs; a fresh machine builds from zero.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tendero-target}"
export CARGO_TERM_COLOR=never

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
# A real IMAP server for the service desk's incoming mail tests (started by the tests).
[ -x /usr/sbin/dovecot ] || need_apt+=(dovecot-imapd)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -c "import playwright" >/dev/null 2>&1; then
  echo "== installing Playwright for Python (no browser download; Debian's Chromium is used)"
  python3 -m pip install -q playwright
fi
if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "== installing aiosmtpd (a real SMTP server on loopback for the mail tests)"
  python3 -m pip install -q "aiosmtpd>=1.4,<2"
fi
if ! python3 -c "import icalendar" >/dev/null 2>&1; then
  echo "== installing icalendar (reads the agenda's calendar feed as a calendar program would)"
  python3 -m pip install -q "icalendar>=6,<8"
fi
if ! command -v schemathesis >/dev/null 2>&1; then
  echo "== installing schemathesis (API fuzzing against the OpenAPI document)"
  python3 -m pip install -q "schemathesis>=4,<5"
fi

# Start the local PostgreSQL if this machine has one that is stopped.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi

echo "== cargo test (SQLite and PostgreSQL)"
mkdir -p "$CARGO_TARGET_DIR"
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee "$CARGO_TARGET_DIR/cargo-test.log"
rust_status=${PIPESTATUS[0]}
set -e

echo "== browser test (headless Chromium)"
browser_status=0
python3 tests/browser/run.py "$CARGO_TARGET_DIR/debug/tendero" "$CARGO_TARGET_DIR/screenshots" || browser_status=$?

echo "== API fuzzing (schemathesis against /api/v1/openapi.json)"
fuzz_status=0
tests/fuzz/run.sh "$CARGO_TARGET_DIR/debug/tendero" || fuzz_status=$?

passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$CARGO_TARGET_DIR/cargo-test.log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$CARGO_TARGET_DIR/cargo-test.log" | awk '{s+=$1} END {print s+0}')
echo "== rust: $passed passed, $failed failed (exit $rust_status); browser exit $browser_status; fuzzing exit $fuzz_status"
if [ "$rust_status" -ne 0 ] || [ "$browser_status" -ne 0 ] || [ "$fuzz_status" -ne 0 ]; then
  exit 1
fi
