#!/usr/bin/env bash
# Makes sure the PostgreSQL named by TEST_DATABASE_URL answers, starting the
# local cluster if it is down. Fails under CI=true when it cannot; warns
# otherwise (the database tests then skip).
set -uo pipefail
url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

ready() { pg_isready -q -d "$url" 2>/dev/null || psql "$url" -Atc 'select 1' >/dev/null 2>&1; }

if ! ready; then
  echo "PostgreSQL is not answering at ${url%%\?*}; trying to start the local cluster" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for v in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>&1 || true
    done
  fi
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi

if ready; then
  echo "PostgreSQL is up at ${url%%\?*}" >&2
  exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "FATAL: PostgreSQL is required under CI=true and is not reachable at ${url%%\?*}" >&2
  exit 1
fi
echo "WARNING: PostgreSQL is not reachable; database tests will be skipped" >&2
exit 0
