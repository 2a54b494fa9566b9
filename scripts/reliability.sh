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
- **Stripe unreachable is invisible on Sync health**: while the app cannot reach Stripe, `/api/v1/status` and the
  Sync health page keep saying "synced" with no error; only the traffic counters (network errors) move. Nothing is lost
  (the events poll catches up when Stripe is back), but nobody is told. Plan: the events poll records its failure as
  the connection's last error and a lagging state once it has failed for a few minutes.
- **A revoked key can be replaced only in the browser** (Settings → Connections): there is no API for it, so
  `StripeFaultTests` shows the sync stopping and staying stopped after the key is restored, not its resumption.
- **Hostile input in every UI form** and **one browser journey through every page with disconnect and purge**: parts
  exist (browser tests walk the wizard, metrics and segments separately); the single end-to-end run does not.
GAPS
} > RELIABILITY.md
echo "RELIABILITY.md written"
exit "$status"
