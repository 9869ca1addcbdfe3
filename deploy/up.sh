#!/bin/sh
# Starts pbatunnel, Prometheus and Grafana (deploy/compose.yaml) in one
# command, from anywhere:
#
#   sh deploy/up.sh            # arguments go to "docker compose up"
#
# The first run makes the token pbatunnel requires beyond loopback and
# Prometheus sends when it scrapes: 32 random bytes in hex, in
# deploy/prometheus/pbatunnel.token (git-ignored), which later runs reuse.
# The file is readable by all on this machine (up.sh makes it so if it was
# written by hand without): Prometheus reads it in its container as
# another user. Open the dashboard with that token.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
token_file="$here/prometheus/pbatunnel.token"
if [ ! -s "$token_file" ]; then
	token=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$token" >"$token_file.new"
	chmod 644 "$token_file.new"
	mv "$token_file.new" "$token_file"
	echo "up.sh: made the token in $token_file" >&2
elif [ -n "$(find "$token_file" ! -perm -0004)" ]; then
	# Written by hand under a umask that keeps it from others: Prometheus
	# could not read it, and every scrape would fail.
	chmod a+r "$token_file"
	echo "up.sh: made $token_file readable by all, for Prometheus' user in its container" >&2
fi
# Prometheus trims the white space around the token it reads from the
# file: so does this, so that a token saved with a Windows line end (\r\n)
# is the same on both sides, where pbatunnel would refuse one with a \r.
PBATUNNEL_AUTH_TOKEN=$(tr -d '[:space:]' <"$token_file")
export PBATUNNEL_AUTH_TOKEN
exec docker compose -f "$here/compose.yaml" up --build "$@"
