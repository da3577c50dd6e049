#!/usr/bin/env bash
# install-deps.sh installs the Debian packages the tests need (MariaDB for
# the MySQL store, etcd for discovery, chromium for the web client's
# tests) when they are missing and this user can install them. It never removes or reconfigures anything, and it does
# not start services: the tests start their own throwaway servers. With the
# argument "deploy" it installs what make check-deploy needs instead.
set -euo pipefail

need=()
if [ "${1:-}" = deploy ]; then
  # make check-deploy validates docker-compose.yml with docker-compose.
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
else
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
  command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
  # The web client's tests drive Debian's chromium headless.
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
  exit 0
fi
echo "install-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# Installing must not start the packaged services: tests run their own.
policy=/usr/sbin/policy-rc.d
created_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
[ -n "$created_policy" ] && rm -f "$policy"
exit 0
