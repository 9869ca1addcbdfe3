#!/bin/sh
# Starts pbatunnel, Prometheus and Grafana (deploy/compose.yaml) in one
# command, from anywhere:
#
#   sh deploy/up.sh            # arguments go to "docker compose up"
#
# The first run makes the token pbatunnel requires beyond loopback and
# Prometheus sends when it scrapes: 32 random bytes in hex, in
# deploy/prometheus/pbatunnel.token (git-ignored), which later runs reuse.
# The file is readable by all on this machine: Prometheus reads it in its
# container as another user. Open the dashboard with that token.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
token_file="$here/prometheus/pbatunnel.token"
if [ ! -s "$token_file" ]; then
	token=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$token" >"$token_file.new"
	chmod 644 "$token_file.new"
	mv "$token_file.new" "$token_file"
	echo "up.sh: made the token in $token_file" >&2
fi
PBATUNNEL_AUTH_TOKEN=$(tr -d ' \n' <"$token_file")
export PBATUNNEL_AUTH_TOKEN
exec docker compose -f "$here/compose.yaml" up --build "$@"
