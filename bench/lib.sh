# bench/lib.sh - sourced by the bench scripts: how many runs, and the
# statistics every bench prints the same way.
#
# The rule (docs/dev/STATUS.md, "Benchmarks"): every measurement runs
# BENCH_RUNS times (default 3, at least 1) in one invocation; the script
# prints every run's raw figures, then the median of the per-run ratios
# with its range, then the contract line "ratio: X.XX" (that median).
# A figure quoted in the docs is such a median, with its range, date and
# command.
#
#   bench_runs             sets RUNS from BENCH_RUNS (exits 2 when it is not
#                          a whole number from 1 to 99)
#   bench_stats V...       prints "median min max" of the numbers V...
#                          (median of an even count: mean of the middle two)
#   bench_med V...         prints the median of V..., with bench_fmt's format
#   bench_range V...       prints "median (min-max)" with FORMAT (default %.2f)
#   bench_ratio_summary V...  the closing two lines for the per-run ratios V...
#
# bench_stats, bench_med and bench_range take an optional first argument
# -f FORMAT (printf format of one number, e.g. %.0f).

bench_runs() {
    RUNS=${BENCH_RUNS:-3}
    case "$RUNS" in
        ''|*[!0-9]*) echo "BENCH_RUNS must be a whole number (1-99), not '$RUNS'" >&2; exit 2 ;;
    esac
    RUNS=$((10#$RUNS))
    [ "$RUNS" -ge 1 ] && [ "$RUNS" -le 99 ] ||
        { echo "BENCH_RUNS must be from 1 to 99" >&2; exit 2; }
}

# bench__stats FORMAT V... - "median min max", each with FORMAT
bench__stats() {
    local fmt=$1
    shift
    printf '%s\n' "$@" | LC_ALL=C sort -g | LC_ALL=C awk -v f="$fmt" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "? ? ?"; exit }
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf f " " f " " f "\n", m, v[1], v[NR]
        }'
}

bench__fmt() { BENCH_FMT=%.2f; [ "${1:-}" = -f ] && BENCH_FMT=$2; }

bench_stats() {
    local n=0
    bench__fmt "$@"; [ "${1:-}" = -f ] && shift 2
    n=$#
    [ "$n" -gt 0 ] || { echo "? ? ?"; return; }
    bench__stats "$BENCH_FMT" "$@"
}

bench_med() {
    local m lo hi
    bench__fmt "$@"; [ "${1:-}" = -f ] && shift 2
    read -r m lo hi < <(bench__stats "$BENCH_FMT" "$@")
    echo "$m"
}

bench_range() {
    local m lo hi
    bench__fmt "$@"; [ "${1:-}" = -f ] && shift 2
    read -r m lo hi < <(bench__stats "$BENCH_FMT" "$@")
    echo "$m ($lo-$hi)"
}

# bench_sync_ms DIR - milliseconds per synchronous 4 KiB write (O_DSYNC,
# 100 writes) to a file in DIR: how fast this disk commits right now, for
# benches whose peers commit every change (postgrey, dovecot-lda, fsync).
bench_sync_ms() {
    local out s
    out=$(LC_ALL=C dd if=/dev/zero of="$1/.bench-sync" bs=4k count=100 oflag=dsync 2>&1)
    rm -f "$1/.bench-sync"
    s=$(printf '%s\n' "$out" | sed -n 's/.* copied, \([0-9.e+-]*\) s,.*/\1/p')
    [ -n "$s" ] || { echo "?"; return; }
    awk -v s="$s" 'BEGIN { printf "%.2f", s * 1000 / 100 }'
}

bench_ratio_summary() {
    local m lo hi
    read -r m lo hi < <(bench__stats %.2f "$@")
    echo "median ratio $m (range $lo-$hi over $# runs)"
    echo "ratio: $m"
}
