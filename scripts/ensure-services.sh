#!/usr/bin/env bash
# Start the PostgreSQL server the tests use if it is not answering.
set -euo pipefail
host=${FACEGATE_PG_HOST:-127.0.0.1}
port=${FACEGATE_PG_PORT:-5432}
if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then exit 0; fi
echo "PostgreSQL is not answering on $host:$port; starting it" >&2
if command -v pg_ctlcluster >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
fi
for _ in $(seq 1 30); do
  pg_isready -q -h "$host" -p "$port" && exit 0
  sleep 1
done
echo "PostgreSQL did not start; the PostgreSQL tests will fail" >&2
exit 1
