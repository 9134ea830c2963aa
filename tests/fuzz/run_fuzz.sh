#!/usr/bin/env bash
# Fuzzes the record store's reader with libFuzzer for SECONDS (default 60):
#   tests/fuzz/run_fuzz.sh [SECONDS] [libFuzzer flags...]
# Configures build-fuzz with Clang and -DDUOSYNC_FUZZ=ON, builds only record_reader_fuzz (not
# the whole core), and runs it over a copy of tests/fuzz/corpus (new inputs stay in the copy, the
# repository's corpus is not written). Fails when the fuzzer finds a crash, leak, UB or timeout;
# the input that did it is kept in build-fuzz/fuzz-artifacts/. Needs clang and libclang-rt-dev.
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (build parallelism, default 2);
# DUOSYNC_FUZZ_TMPDIR: where the target's scratch store lives (default /dev/shm, else TMPDIR).
set -euo pipefail
seconds=${1:-60}
if [[ $# -gt 0 ]]; then shift; fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

echo "== configuring $build (clang, DUOSYNC_FUZZ=ON)"
mkdir -p "$build"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDUOSYNC_FUZZ=ON -DDUOSYNC_BUILD_TESTS=ON -DDUOSYNC_BUILD_BENCH=OFF >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log"; exit 1; }
if ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang' "$build/CMakeCache.txt"; then
  echo "$build was configured with a compiler other than clang; remove it and run again" >&2
  exit 1
fi
echo "== building record_reader_fuzz"
cmake --build "$build" --target record_reader_fuzz -j "${FUZZ_JOBS:-2}"

work=$(mktemp -d "${TMPDIR:-/tmp}/duosync-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$build/fuzz-artifacts"
cp "$root"/tests/fuzz/corpus/* "$work/corpus/"
# Tokens of the segment format, so mutations find them quickly.
cat >"$work/segment.dict" <<'DICT'
"duoseg1\x0a"
"duosync-end\x0a"
"\x00\x00\x00\x40"
"\x01\x00\x00\x40"
"\xff\xff\xff\xff"
DICT

echo "== fuzzing for ${seconds}s"
rc=0
(cd "$work" && "$build/tests/fuzz/record_reader_fuzz" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
  -dict="$work/segment.dict" -artifact_prefix="$build/fuzz-artifacts/" -print_final_stats=1 \
  "$@" "$work/corpus") >"$build/fuzz.log" 2>&1 || rc=$?
# The full libFuzzer log is in $build/fuzz.log; its final stats here, all of it on a failure.
if [[ $rc -ne 0 ]]; then cat "$build/fuzz.log" >&2; else grep -E '^(stat::|Done )' "$build/fuzz.log" || true; fi
echo "== corpus grew from $(ls "$root"/tests/fuzz/corpus | wc -l) to $(ls "$work/corpus" | wc -l) inputs"
if [[ $rc -ne 0 ]]; then
  echo "record_reader_fuzz FAILED (exit $rc); the input is in $build/fuzz-artifacts/:" >&2
  ls -t "$build/fuzz-artifacts/" | head -5 >&2
  exit "$rc"
fi
echo "== no crash in ${seconds}s"
