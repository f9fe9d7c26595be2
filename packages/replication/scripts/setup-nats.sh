#!/usr/bin/env bash
# Installs nats-server from Debian's package, which the replication tests
# and the README's replication example run (three nodes on loopback).
#
# Invariants: apt-get runs only when nats-server is missing and we are root;
# it exits 0 when nats-server is there afterwards and 1 otherwise, saying why.
set -u

note() { printf 'setup-nats: %s\n' "$*"; }

bin=$(command -v nats-server || echo /usr/sbin/nats-server)
if [ -x "$bin" ]; then
  note "nats-server present: $("$bin" --version)"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  note "nats-server missing and not root: install it with: sudo apt-get install -y nats-server"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  note "nats-server missing and no apt-get: install nats-server 2.9 or later from https://nats.io"
  exit 1
fi
note "installing nats-server with apt-get"
DEBIAN_FRONTEND=noninteractive apt-get update -qq || { note "apt-get update failed"; exit 1; }
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nats-server >/dev/null ||
  { note "apt-get install nats-server failed"; exit 1; }
# The package may start a system-wide server on port 4222; the tests start their own on free ports.
if [ -x /usr/sbin/nats-server ]; then
  note "installed $(/usr/sbin/nats-server --version)"
  exit 0
fi
note "nats-server still missing after install"
exit 1
