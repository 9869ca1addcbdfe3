#!/usr/bin/env bash
# Compares the HTTP tunnel of two builds of package tunnel in one run.
#
#   go test -c -o /tmp/tunnel-old.test ./tunnel     # at the old commit
#   go test -c -o /tmp/tunnel-new.test ./tunnel     # at the new one
#   flock /tmp/bench.lock bash scripts/bench-tunnel-ab.sh \
#       /tmp/tunnel-old.test /tmp/tunnel-new.test 5 > /tmp/ab.txt
#
# Each round runs the HTTP benchmarks of the old binary, then of the new
# one, then the bare httputil.ReverseProxy floor (BenchmarkHTTPRelayFloor,
# the same code in both): every benchmark alternates direct calls and
# proxied ones within itself, and the rounds alternate the two builds, so
# that a change in the machine's load hits both alike. The raw benchmark
# lines go to stdout, each prefixed with the build's name; the load
# average of each round goes to stderr and, as "# load" lines, to stdout.
# summarize-tunnel-ab.awk turns the output into medians and ranges.
set -euo pipefail

old=${1:?usage: bench-tunnel-ab.sh OLD.test NEW.test [ROUNDS] [BENCHTIME]}
new=${2:?usage: bench-tunnel-ab.sh OLD.test NEW.test [ROUNDS] [BENCHTIME]}
rounds=${3:-5}
benchtime=${4:-2s}

bench() { # name binary pattern
	"$2" -test.run '^$' -test.bench "$3" -test.benchtime "$benchtime" \
		-test.count 1 -test.timeout 600s | sed -n "s/^Benchmark/$1 Benchmark/p"
}

for round in $(seq 1 "$rounds"); do
	echo "# load round $round start $(cut -d' ' -f1-3 /proc/loadavg)"
	bench old "$old" 'BenchmarkHTTP(RoundTrip|RawRoundTrip|Throughput)$'
	bench new "$new" 'BenchmarkHTTP(RoundTrip|RawRoundTrip|Throughput)$'
	bench floor "$new" 'BenchmarkHTTPRelayFloor$'
	echo "# load round $round end $(cut -d' ' -f1-3 /proc/loadavg)"
done
