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

- **PostgreSQL with two worker processes, SIGKILL**: the test exists (`CrashTests`) and is kept out of CI
  (`KnownFailure`; `STRIPESYNC_RUN_KNOWN_FAILURES=1` runs it). Since decision 0009 (one-minute Hangfire leases, job runs
  of at most 20 s) a killed worker no longer stalls the others and the run settles in about 3 minutes; it passed 3 of 4
  runs, and one run ended with one subscription cancellation missing on the killed side. Cause not found yet.
- **Stripe unreachable on Sync health**: a failed events poll now records "Stripe could not be reached" as the
  connection's last error (cleared by the next complete poll), but the state stays "synced" and the message appears only
  once the client's retries are exhausted (up to about a minute), so a short outage may pass unannounced. The outage
  scenario above reports what Sync health said; it does not assert it.
- **Hostile input**: the API and the four forms with free input (connect key, segment editor, Settings users and API
  keys) are covered; the sign-in and first-run forms and the segment editor's number/date/metric fields are not.
GAPS
} > RELIABILITY.md
echo "RELIABILITY.md written"
exit "$status"
