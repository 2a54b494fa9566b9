#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need (Debian's chromium for the browser
# tier, postgresql for the PostgreSQL tier), starts a throwaway PostgreSQL on loopback, runs the suite
# once (SQLite by default, PostgreSQL for the tests that name it) and prints "N passed, N failed".
# Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter "FullyQualifiedName~Simulator".
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
[ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} …"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# A throwaway PostgreSQL server: its own data folder and socket, loopback only, gone on exit.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgdir=$(mktemp -d /tmp/stripesync-pg.XXXXXX)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$pgdir"
port=$(( 40000 + RANDOM % 20000 ))
as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=400" start >/dev/null
cleanup() { as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap cleanup EXIT
export STRIPESYNC_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres"

results=$(mktemp -d /tmp/stripesync-results.XXXXXX)
set +e
dotnet test StripeSync.sln -c Release --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@" 2>&1 | tee "$results/out.txt"
status=${PIPESTATUS[0]}
set -e

# The plain closing line, summed over every test assembly.
read -r passed failed skipped < <(grep -hoE 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$results/out.txt" |
  awk -F'[:,]' '{f+=$2; p+=$4; s+=$6} END {print p+0, f+0, s+0}')
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"
