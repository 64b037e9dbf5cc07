#!/bin/sh
# Run every libFuzzer target for a bounded time on a copy of its seed
# corpus (so the tree is never modified).  Usage: run.sh BUILDDIR
# FUZZ_SECONDS (default 60) bounds each target.  Exit non-zero on the first
# crash, leak or sanitizer report.
set -e
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-60}
work=$(mktemp -d "${TMPDIR:-/tmp}/secmsg-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
for t in frame msg proto records batch keyfile authkeys config x25519 route \
    ctlproto storerec dmsg proxyv2 natsproto bus libsecmsg; do
	bin="$build/tests/fuzz/fuzz_$t"
	if [ ! -x "$bin" ]; then
		echo "fuzz_$t: not built" >&2
		exit 1
	fi
	mkdir -p "$work/$t"
	cp "$src/corpus/$t"/* "$work/$t/" 2>/dev/null || true
	echo "fuzz_$t: ${secs}s"
	# -timeout: one input may take at most 10 s; -rss_limit_mb bounds
	# memory; artifacts go to the work folder and are shown on failure.
	if ! (cd "$work" && "$bin" -max_total_time="$secs" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$work/crash-$t-" "$work/$t" \
	    > "$work/$t.log" 2>&1); then
		tail -n 40 "$work/$t.log"
		ls -la "$work"/crash-* 2>/dev/null
		exit 1
	fi
	grep -E '^stat::number_of_executed_units' "$work/$t.log" || true
done
