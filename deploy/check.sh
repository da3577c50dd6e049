#!/usr/bin/env bash
# check.sh validates the deployment files offline (`make check-deploy`):
#
#   1. docker-compose.yml     docker-compose config -q (Compose 1.29, or the
#                             "docker compose" plugin); neither needs an engine
#   2. .github/workflows      actionlint, pinned in scripts/tools/go.mod
#   3. deploy/validate        Dockerfiles through BuildKit's parser and linter;
#                             deploy/k8s rendered by kustomize's library and
#                             decoded strictly into k8s.io/api types; then
#                             the images, compose and manifests cross-checked
#   4. the images' Go builds  each Dockerfile's COPY lines replayed into an
#                             empty directory (minus .dockerignore), then its
#                             go mod download and static go build run there
#
# The images themselves can only be built where a Docker engine runs; step 4
# is the part of their build that can go wrong in this repository.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf 'check-deploy: %s\n' "$*"; }

# replay_copies DOCKERFILE DIR copies into DIR what DOCKERFILE's COPY lines
# take from the build context (the repository root), with Docker's meaning
# of "COPY src... dest/", then deletes what .dockerignore excludes.
replay_copies() {
	local dockerfile=$1 dir=$2 line src f
	local -a words
	shopt -s nullglob globstar dotglob
	while read -r line; do
		read -ra words <<<"$line"
		local dest=${words[-1]}
		mkdir -p "$dir/$dest"
		for src in "${words[@]:1:${#words[@]}-2}"; do
			[[ $src == --* ]] && continue # a flag such as --chown
			for f in $src; do
				if [ -d "$f" ]; then cp -a "$f/." "$dir/$dest"; else cp -a "$f" "$dir/$dest"; fi
			done
		done
	done < <(grep -E '^COPY[[:space:]]' "$dockerfile" | grep -v -e '--from=')
	while read -r line; do
		case $line in '' | '#'* | *..*) continue ;; esac
		for f in "$dir"/$line; do rm -rf "$f"; done
	done <.dockerignore
	shopt -u nullglob globstar dotglob
}

step "docker-compose.yml"
if command -v docker-compose >/dev/null 2>&1; then
	docker-compose -f docker-compose.yml config -q
elif docker compose version >/dev/null 2>&1; then
	docker compose -f docker-compose.yml config -q
else
	step "SKIPPED: neither docker-compose nor the docker compose plugin is installed (Debian: apt-get install docker-compose)"
fi

step "GitHub Actions workflows (actionlint)"
# Resolved from scripts/tools, run from the root, so that it reads this
# repository's workflows. scripts/tools is outside go.work: GOWORK=off.
actionlint=$(GOWORK=off go -C scripts/tools tool -n actionlint)
"$actionlint" .github/workflows/*.yml

step "Dockerfiles, compose and Kubernetes manifests agree (deploy/validate)"
GOWORK=off go -C deploy/validate vet ./...
GOWORK=off go -C deploy/validate test -count=1 ./...
GOWORK=off go -C deploy/validate run . -root ../.. ../k8s/base ../k8s/overlays/example

step "images' Go builds, from exactly the files each Dockerfile copies"
# No Docker engine is needed for the part of an image build that can go
# wrong in this repository: each Dockerfile's COPY lines (those not from
# another stage) are replayed into an empty directory, .dockerignore is
# applied, and the Dockerfile's Go commands run there. A source the image
# lacks, or a module the download step misses, fails here as it would in
# `docker build`.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for dockerfile in rpc-server/Dockerfile http-server/Dockerfile; do
	program=$(dirname "$dockerfile")
	context="$scratch/$program"
	mkdir -p "$context"
	replay_copies "$dockerfile" "$context"
	(
		cd "$context"
		go mod download
		# Everything the build needs must have been downloaded above.
		GOPROXY=off GOFLAGS=-mod=readonly CGO_ENABLED=0 \
			go build -trimpath -ldflags='-s -w' -o "$scratch/bin/$program" "./$program"
	)
	# A static binary has no program interpreter: it runs on distroless/static.
	if command -v readelf >/dev/null 2>&1 && readelf -l "$scratch/bin/$program" | grep -q 'program interpreter'; then
		echo "check-deploy: $program is dynamically linked" >&2
		exit 1
	fi
done
step "ok"
