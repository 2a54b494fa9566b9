#!/usr/bin/env bash
# Adds a migration with the same name for both providers (SQLite and PostgreSQL each keep their own set).
# Usage: scripts/add-migration.sh AddConnections
set -euo pipefail
name=${1:?usage: scripts/add-migration.sh MigrationName}
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
for provider in Sqlite Postgres; do
  dotnet ef migrations add "$name" --project StripeSync.Core --startup-project StripeSync.Core \
    --context "${provider}AppDbContext" --output-dir "Persistence/Migrations/$provider" \
    --namespace "StripeSync.Core.Persistence.Migrations.$provider"
  # EF places the snapshot by namespace; keep it beside its migrations.
  if [ -d StripeSync.Core/StripeSync ]; then
    mv StripeSync.Core/StripeSync/Core/Persistence/Migrations/$provider/*.cs "StripeSync.Core/Persistence/Migrations/$provider/"
    rm -rf StripeSync.Core/StripeSync
  fi
done
