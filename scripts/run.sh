#!/usr/bin/env bash
# run.sh is the quick start (make run): it builds rpc-server and http-server
# into ./bin, starts both, waits until the gateway is ready and says where to
# point curl. Ctrl-C or SIGTERM stops them, the gateway first, and waits for
# both; if either dies, the other is stopped and run.sh exits non-zero.
#
# It needs only Go and bash. Configuration is the servers' own environment,
# passed through unchanged:
#   PIGEONHOLE_HTTP_ADDR  gateway address             (default :8080; 127.0.0.1 with auth off)
#   PIGEONHOLE_RPC_ADDR   message-service address     (default :8888; 127.0.0.1 with auth off)
#   PIGEONHOLE_DATA_DIR   embedded store directory    (default ./data)
#   PIGEONHOLE_MYSQL      MySQL DSN; set, it replaces the embedded store
#   PIGEONHOLE_SERVICE    where the gateway finds the service
#                         (default: 127.0.0.1 and the port of PIGEONHOLE_RPC_ADDR)
# and PIGEONHOLE_BIN_DIR (default ./bin), GO (default go), GOFLAGS.
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
BIN_DIR=${PIGEONHOLE_BIN_DIR:-bin}
READY_TIMEOUT=${READY_TIMEOUT:-60}

say() { printf 'run.sh: %s\n' "$*" >&2; }

# local_host turns the host of a listen address into one to connect to.
local_host() {
	case "$1" in "" | 0.0.0.0 | "[::]" | "::") echo "$2" ;; *) echo "$1" ;; esac
}

# The servers' own defaults: every interface with --auth jwt, loopback
# without authentication.
default_host=127.0.0.1
if [ "${PIGEONHOLE_AUTH:-off}" = jwt ]; then default_host=; fi
http_addr=${PIGEONHOLE_HTTP_ADDR:-$default_host:8080}
rpc_addr=${PIGEONHOLE_RPC_ADDR:-$default_host:8888}
http_host=$(local_host "${http_addr%:*}" localhost)
http_port=${http_addr##*:}
base_url="http://$http_host:$http_port"
export PIGEONHOLE_SERVICE=${PIGEONHOLE_SERVICE:-$(local_host "${rpc_addr%:*}" 127.0.0.1):${rpc_addr##*:}}

rpc_pid=
gw_pid=
sleep_pid=

# ready answers whether GET /readyz is 200, with bash's /dev/tcp (no curl
# needed).
ready() {
	(
		exec 3<>"/dev/tcp/$http_host/$http_port" || exit 1
		printf 'GET /readyz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$http_host" >&3
		IFS=' ' read -r -t 2 _ status _ <&3 || exit 1
		[ "$status" = 200 ]
	) 2>/dev/null
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# stop_one sends SIGTERM to one server by pid and returns its exit status.
stop_one() {
	local name=$1 pid=$2 status=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || status=$?
	if [ "$status" -eq 0 ]; then say "$name stopped"; else say "$name exited with status $status"; fi
	return "$status"
}

# shutdown stops the gateway, then the service, and exits: 0 when both
# stopped cleanly, else 1 (or $1 when given).
shutdown() {
	trap '' INT TERM
	local status=0
	[ -z "$sleep_pid" ] || kill "$sleep_pid" 2>/dev/null || true
	stop_one http-server "$gw_pid" || status=1
	stop_one rpc-server "$rpc_pid" || status=1
	exit "${1:-$status}"
}
trap 'say "stopping"; shutdown' INT TERM

say "building into $BIN_DIR/"
"$GO" build -o "$BIN_DIR/" ./rpc-server ./http-server

if [ -n "${PIGEONHOLE_MYSQL:-}" ]; then
	store="MySQL (PIGEONHOLE_MYSQL)"
else
	store="embedded SQLite in ${PIGEONHOLE_DATA_DIR:-./data}"
fi
say "starting rpc-server on $rpc_addr, $store"
# Its own process group: Ctrl-C then reaches only this script and the
# gateway, so the service outlives the gateway and is stopped after it.
set -m
"$BIN_DIR/rpc-server" &
rpc_pid=$!
set +m
say "starting http-server on $http_addr, calling $PIGEONHOLE_SERVICE"
"$BIN_DIR/http-server" &
gw_pid=$!
say "rpc-server pid $rpc_pid, http-server pid $gw_pid"

# check_alive stops everything and exits 1 if either server has died.
check_alive() {
	alive "$rpc_pid" && alive "$gw_pid" && return 0
	if alive "$gw_pid"; then
		say "rpc-server (pid $rpc_pid) exited; stopping http-server"
	elif alive "$rpc_pid"; then
		say "http-server (pid $gw_pid) exited; stopping rpc-server"
	else
		say "rpc-server and http-server exited"
	fi
	shutdown 1
}

# Ready means our gateway answers: it is alive after /readyz said 200 (a
# stray server on the same port would answer too, and ours would have
# exited failing to bind).
deadline=$((SECONDS + READY_TIMEOUT))
while :; do
	check_alive
	if ready; then
		sleep 0.2
		check_alive
		break
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		say "$base_url/readyz not ready after ${READY_TIMEOUT}s"
		shutdown 1
	fi
	sleep 0.2
done

cat >&2 <<EOF

pigeonhole is ready at $base_url  (store: $store)

  curl $base_url/ping
  curl -X POST $base_url/api/send -H 'Content-Type: application/json' \\
       -d '{"chat": "a1:a2", "text": "hello", "sender": "a1"}'
  curl '$base_url/api/pull?chat=a1:a2&cursor=0&limit=10'
  curl -X GET $base_url/api/pull -H 'Content-Type: application/json' \\
       -d '{"chat": "a1:a2", "cursor": 0, "limit": 1, "reverse": false}'   # the original's way

Ctrl-C stops both servers.

EOF

# Wake up every half second (an interruptible wait, so signals are handled
# at once) and stop everything if either server has died.
while :; do
	sleep 0.5 &
	sleep_pid=$!
	wait "$sleep_pid" || true
	sleep_pid=
	check_alive
done
