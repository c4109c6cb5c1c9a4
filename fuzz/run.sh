#!/bin/bash
# fuzz/run.sh DIR SECONDS — run every fuzz target in DIR for SECONDS each,
# starting from fuzz/corpus/<target>/ (new inputs go to a scratch corpus,
# the seeds in the repository are left alone). Prints one line per target
# (executions, corpus size) and fails if any target finds a crash.
set -u
dir=$(cd "$1" && pwd)
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pom-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export FUZZ_CA=$scratch/ca.pem
bash "$here/../tests/lib/mkcerts.sh" "$scratch/pki" && cp "$scratch/pki/ca.pem" "$FUZZ_CA" || exit 1
status=0
for bin in "$dir"/fuzz_*; do
	name=$(basename "$bin")
	mkdir -p "$scratch/$name" "$here/corpus/$name"
	log=$scratch/$name.log
	if (cd "$scratch" && "$bin" -max_total_time="$secs" -print_final_stats=1 \
		-close_fd_mask=2 -timeout=10 -rss_limit_mb=2048 \
		"$scratch/$name" "$here/corpus/$name" >"$log" 2>&1); then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		printf '%-16s ok   %10s executions in %ss, %s, %s new inputs\n' "$name" "$execs" \
			"$secs" "${cov:-cov: ?}" "$(ls "$scratch/$name" | wc -l)"
	else
		status=1
		printf '%-16s FAIL (see below)\n' "$name"
		tail -40 "$log"
	fi
done
exit $status
