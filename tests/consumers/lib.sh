# Shared part of the consumer tests (K1-K3); source it, do not run it.
#
# Reuses the bmapfs integration helpers (mount, cleanup trap, ok/no,
# summary) and builds what the consumer tests add: bmapctl and the
# examples.  Every test prints exactly one closing "N passed, N failed".
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
DMA_WRITER=$top/examples/dma_writer

need_consumers() {
	need "$@"
	make -s -C "$top/tools" >/dev/null &&
		make -s -C "$top/examples" >/dev/null || die "build failed"
	[ -x "$BMAPCTL" ] || die "bmapctl was not built"
	[ -x "$DMA_WRITER" ] || die "dma_writer was not built"
}

# settle CMD...: poll CMD every 0.1 s until it succeeds, 10 s at most.
settle() {
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# timed CMD...: run CMD, set $took_ms to its duration; CMD's status.
timed() {
	local t0 rc
	t0=$(date +%s%N)
	"$@"
	rc=$?
	took_ms=$((($(date +%s%N) - t0) / 1000000))
	return $rc
}
