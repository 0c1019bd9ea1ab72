#!/usr/bin/env bash
# Start the local PostgreSQL server (and Redis) when installed but stopped (the suite uses both).
set -euo pipefail
# Redis (the rate-limit storage tests use 127.0.0.1:6379): start it when installed but stopped.
if command -v redis-server >/dev/null 2>&1 \
        && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --save '' --daemonize yes >/dev/null
fi
# MariaDB (the sql connector's demo registers and tests use 127.0.0.1:3306, root without a
# password): start it when installed but stopped.
if command -v mysqladmin >/dev/null 2>&1 \
        && ! mysqladmin -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping >/dev/null 2>&1; then
  echo "Starting MariaDB..."
  if command -v service >/dev/null 2>&1; then service mariadb start >/dev/null 2>&1 || true; fi
  if ! mysqladmin -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping >/dev/null 2>&1 \
      && command -v mysqld_safe >/dev/null 2>&1; then
    (mysqld_safe --bind-address=127.0.0.1 >/dev/null 2>&1 &)
  fi
  for _ in $(seq 1 30); do
    mysqladmin -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping >/dev/null 2>&1 && break
    sleep 1
  done
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "Starting PostgreSQL..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
    sleep 1
  done
fi
echo "PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres, trust auth)." >&2
echo "Start it, or set TONGBAN_TEST_POSTGRES to another server's URL." >&2
exit 1
