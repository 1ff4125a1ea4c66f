#!/bin/bash
# fuzz.sh - every libFuzzer target of fuzz/ (docs/dev/fuzzing.md) runs over
# its seed corpus (fuzz/corpus/NAME) and then fuzzes for a few seconds
# (FUZZ_CHECK_SECONDS, default 3): any crash, ASan or UBSan report, leak,
# timeout or out-of-memory is a failure.  Builds the clang tree
# ($BUILD/clang) first when `make check` has not (make fuzz-build).  Needs no
# server.  One line per target, then "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
if ! make -s --no-print-directory BUILD="$BUILD" fuzz-build >/dev/null; then
    echo "not ok - make fuzz-build failed"
    echo "0 passed, 1 failed"
    exit 1
fi
exec fuzz/run --check
