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
} > RELIABILITY.md
echo "RELIABILITY.md written"
exit "$status"
