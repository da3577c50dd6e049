#!/usr/bin/env bash
# gen.sh regenerates all generated code from the two IDLs at the repository
# root, from scratch, with generators pinned as Go module tools:
#
#   idl_rpc.thrift -> rpc-server/kitex_gen   (kitex, pinned in rpc-server/go.mod)
#   idl_http.proto -> http-server/pb         (buf, pinned in scripts/tools/go.mod;
#                                             protoc-gen-go, pinned in http-server/go.mod)
#
# Each generator is pinned next to the runtime it must match, so generated code
# and the library it calls always agree. The output is deterministic: CI runs
# this script and then `git diff --exit-code`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Kitex. It runs in a scratch module with rpc-server's module path, so that
# only kitex_gen is taken back and nothing else kitex might write (go.mod
# edits, scaffolding) can reach the tree. No -service: only kitex_gen, never
# handler.go/main.go/build.sh.
kitex=$(go -C rpc-server tool -n kitex)
rpc_module=github.com/pigeonhole-im/pigeonhole/rpc-server
mkdir "$scratch/kitex"
printf 'module %s\n\ngo 1.26\n' "$rpc_module" >"$scratch/kitex/go.mod"
# kitex prints an unterminated success banner; show its output only on failure.
if ! log=$(cd "$scratch/kitex" && GOWORK=off "$kitex" -module "$rpc_module" "$root/idl_rpc.thrift" 2>&1); then
	printf '%s\n' "$log" >&2
	exit 1
fi
rm -rf rpc-server/kitex_gen
mv "$scratch/kitex/kitex_gen" rpc-server/kitex_gen

# Protobuf. buf is the compiler: it is pure Go, so the result does not depend
# on a system protoc (protoc-gen-go records buf's version as "(unknown)").
# scripts/tools is outside go.work so buf's dependencies stay out of the
# workspace's build list; hence GOWORK=off for that one lookup.
buf=$(GOWORK=off go -C scripts/tools tool -n buf)
rm -rf http-server/pb
"$buf" generate --template scripts/buf.gen.yaml

echo "gen.sh: regenerated rpc-server/kitex_gen and http-server/pb" >&2
