#!/usr/bin/env bash
# Fuzzes the parsers of untrusted bytes with libFuzzer, SECONDS each (default 60), one after another:
#   tests/fuzz/run_fuzz.sh [SECONDS] [TARGET...] [libFuzzer flags...]
# TARGETs (default: all): record_reader (the record store's reader), binlog_decoder (binlog files,
# events, rows, JSON, payloads), config (project JSON, validation, resolution), row_filter (row
# filters on typed rows), ddl (DDL parsing and rewriting); see tests/fuzz/CMakeLists.txt.
# Configures build-fuzz with Clang and -DDUOSYNC_FUZZ=ON, builds only the chosen <TARGET>_fuzz
# (and the few sources of src/ they need, not the whole core), and runs each over a copy of its
# seed corpus (new inputs stay in the copy, the repository's corpus is not written), with its
# dictionary tests/fuzz/TARGET.dict. Prints each target's final stats (stat::number_of_executed_units
# is its executions); fails when any target finds a crash, leak, UB or timeout, after running the
# others; the input that did it is kept in build-fuzz/fuzz-artifacts/TARGET-*, the whole log in
# build-fuzz/fuzz-TARGET.log. Needs clang and libclang-rt-dev.
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (build parallelism, default 2);
# DUOSYNC_FUZZ_TMPDIR: where record_reader's scratch store lives (default /dev/shm, else TMPDIR).
set -euo pipefail
all_targets=(record_reader binlog_decoder config row_filter ddl)
seconds=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
targets=()
flags=()
for arg in "$@"; do
  if [[ $arg == -* ]]; then
    flags+=("$arg")
  elif [[ " ${all_targets[*]} " == *" $arg "* ]]; then
    targets+=("$arg")
  else
    echo "unknown fuzz target '$arg' (known: ${all_targets[*]})" >&2
    exit 2
  fi
done
if [[ ${#targets[@]} -eq 0 ]]; then targets=("${all_targets[@]}"); fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

# Per target: its seed corpus and the longest input worth trying.
corpus_of() { if [[ $1 == record_reader ]]; then echo corpus; else echo "corpus_$1"; fi; }
max_len_of() {
  case $1 in
    record_reader|binlog_decoder) echo 65536 ;;
    config) echo 16384 ;;
    *) echo 4096 ;;  # a row filter or a DDL statement
  esac
}

echo "== configuring $build (clang, DUOSYNC_FUZZ=ON)"
mkdir -p "$build"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDUOSYNC_FUZZ=ON -DDUOSYNC_BUILD_TESTS=ON -DDUOSYNC_BUILD_BENCH=OFF >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log"; exit 1; }
if ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang' "$build/CMakeCache.txt"; then
  echo "$build was configured with a compiler other than clang; remove it and run again" >&2
  exit 1
fi
binaries=()
for t in "${targets[@]}"; do binaries+=("${t}_fuzz"); done
echo "== building ${binaries[*]}"
cmake --build "$build" --target "${binaries[@]}" -j "${FUZZ_JOBS:-2}"

work=$(mktemp -d "${TMPDIR:-/tmp}/duosync-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz-artifacts"
failed=()
for t in "${targets[@]}"; do
  corpus=$(corpus_of "$t")
  mkdir -p "$work/$t"
  cp "$root/tests/fuzz/$corpus"/* "$work/$t/"
  log="$build/fuzz-$t.log"
  echo "== fuzzing $t for ${seconds}s"
  rc=0
  (cd "$work" && "$build/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -max_len="$(max_len_of "$t")" \
    -timeout=10 -dict="$root/tests/fuzz/$t.dict" -artifact_prefix="$build/fuzz-artifacts/$t-" \
    -print_final_stats=1 "${flags[@]}" "$work/$t") >"$log" 2>&1 || rc=$?
  # The full libFuzzer log is in $log; its final stats here, its end on a failure.
  if [[ $rc -ne 0 ]]; then tail -n 150 "$log" >&2; else grep -E '^(stat::|Done )' "$log" || true; fi
  echo "== $t: corpus grew from $(ls "$root/tests/fuzz/$corpus" | wc -l) to $(ls "$work/$t" | wc -l) inputs"
  if [[ $rc -ne 0 ]]; then
    echo "$t FAILED (exit $rc); the input is in $build/fuzz-artifacts/, the log in $log:" >&2
    ls -t "$build/fuzz-artifacts/" | grep "^$t-" | head -5 >&2 || true
    failed+=("$t")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "== fuzzing FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "== no crash in ${seconds}s each: ${targets[*]}"
