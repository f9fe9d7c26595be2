#!/usr/bin/env bash
# Installs what the benchmark's peers need that npm does not: Debian's
# redis-server (the other peers are npm dependencies of @tidemark/bench).
#
# Invariants: it never fails its caller (it always exits 0); apt-get runs only
# when redis-server is missing and we are root; when a peer stays unavailable
# it prints why, and the harness then reports that peer as skipped.
set -u

note() { printf 'setup-peers: %s\n' "$*"; }

install_redis() {
  if command -v redis-server >/dev/null 2>&1; then
    note "redis-server present: $(redis-server --version | head -n 1)"
    return 0
  fi
  if [ "$(id -u)" != "0" ]; then
    note "redis-server missing and not root: the redis peer will be skipped (install it with: sudo apt-get install -y redis-server)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    note "redis-server missing and no apt-get: the redis peer will be skipped"
    return 0
  fi
  note "installing redis-server with apt-get"
  if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq; then
    note "apt-get update failed: the redis peer will be skipped"
    return 0
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; then
    note "apt-get install redis-server failed: the redis peer will be skipped"
    return 0
  fi
  # The package may start a system-wide server on port 6379; the harness
  # starts its own on a free port and never talks to that one.
  if command -v redis-server >/dev/null 2>&1; then
    note "installed $(redis-server --version | head -n 1)"
  else
    note "redis-server still missing after install: the redis peer will be skipped"
  fi
}

install_redis
exit 0
