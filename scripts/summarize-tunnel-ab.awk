# Summarizes the output of bench-tunnel-ab.sh: for every build, benchmark
# and metric, the median of the rounds and their range.
#
#   awk -f scripts/summarize-tunnel-ab.awk /tmp/ab.txt
#
# A benchmark line reads "BUILD BenchmarkName-N  ITERS  V1 UNIT1  V2 UNIT2 ...".

/^# load/ {
	print
	next
}

NF >= 4 && $2 ~ /^Benchmark/ {
	name = $2
	sub(/-[0-9]+$/, "", name)
	for (i = 4; i + 1 <= NF; i += 2) {
		key = $1 " " name " " $(i + 1)
		if (!(key in n)) {
			order[++keys] = key
		}
		v[key, ++n[key]] = $i
	}
}

END {
	for (k = 1; k <= keys; k++) {
		key = order[k]
		m = n[key]
		for (i = 1; i <= m; i++) {
			s[i] = v[key, i] + 0
		}
		# insertion sort: a handful of rounds
		for (i = 2; i <= m; i++) {
			x = s[i]
			for (j = i - 1; j >= 1 && s[j] > x; j--) {
				s[j + 1] = s[j]
			}
			s[j + 1] = x
		}
		med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
		printf "%-80s median %10.1f  range %10.1f – %-10.1f n=%d\n", key, med, s[1], s[m], m
	}
}
