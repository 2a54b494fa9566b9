#!/usr/bin/env bash
# Runs the reliability suite alone (tests tagged Category=Reliability: crashes, webhook abuse, access, secrets)
# on SQLite and PostgreSQL, then writes RELIABILITY.md from the figures each scenario left in artifacts/reliability/.
# The same tests also run inside scripts/test.sh (and so in CI) on every change.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f artifacts/reliability/report-*.md
status=0
scripts/test.sh --filter "Category=Reliability" "$@" || status=$?
{
  echo "# Reliability"
  echo
  echo "What a hostile or unlucky world does to StripeSync, and what is left afterwards. Written by \`scripts/reliability.sh\`"
  echo "from one run on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM ($(uname -sr)); test result: $([ "$status" -eq 0 ] && echo passed || echo FAILED)."
  echo
  cat artifacts/reliability/report-*.md 2>/dev/null || echo "No scenario reported figures."
  cat <<'GAPS'
## Not covered yet, or known to fail

- **PostgreSQL with two worker processes, SIGKILL**: the test exists (`CrashTests`) and is skipped. After a worker is
  killed, Hangfire.PostgreSql keeps the dead worker's `DisableConcurrentExecution` lock for 10 minutes and its fetched
  job invisible for 30, so draining stalls: events wait in the durable inbox (nothing is lost) but the run cannot settle
  in CI time. Plan: shorter storage timeouts with a lease the job renews, or the app's own lease row per connection.
- **Stripe faults end to end** (20% 500s, dropped connections, 429 storms, a key revoked mid-import with the request
  count, the simulator down for minutes): covered in-process by `Sync/LiveSyncTests` and `StripeApi` tests, not yet
  against the real app process.
- **Secrets after a full run** (database scan): `Connections/ConnectApiTests` scans logs, HTML and API answers for the
  Stripe key; nothing yet scans the database after a full run.
- **Hostile input**: the API and the four forms with free input (connect key, segment editor, Settings users and API
  keys) are covered; the sign-in and first-run forms and the segment editor's number/date/metric fields are not.
GAPS
} > RELIABILITY.md
echo "RELIABILITY.md written"
exit "$status"
