#!/usr/bin/env bash
# Runs careshed's libFuzzer targets one after the other (the machine is shared: one process, -jobs=1).
# usage: tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS TARGET...
# Each target starts from its committed seed corpus (tests/fuzz/corpus/<target>, read-only) plus a working
# corpus in BUILD_DIR/fuzz-corpus/<target> that grows across runs. A crash, leak, sanitizer report, timeout
# (>25 s for one input) or out-of-memory (>2 GB) stops the target, leaves the input in
# BUILD_DIR/fuzz-artifacts/<target>/ and makes this script exit 1 after all targets ran. The last
# libFuzzer statistics (execs, exec/s, cov, ft) of each target are printed as a summary.
# Leaks: libFuzzer's per-input leak check (-detect_leaks=1) re-runs every input whose mallocs and frees do not
# balance under LeakSanitizer, a scan of the whole heap; GDAL's drivers keep caches across inputs, so for the GDAL
# targets that scan ran on most inputs and dominated the time (docs/fuzzing.md). The timed run therefore fuzzes with
# -detect_leaks=0 (FUZZ_DETECT_LEAKS=1 restores the per-input check), and a leak pass then runs every input of the
# final corpus once more, in batches of 100 per process, with LeakSanitizer checking the heap at each process's exit:
# a leak that any corpus input causes is still found (not one that only an input never kept would cause).
set -u
build=$(cd "$1" && pwd); seconds=$2; shift 2
src=$(cd "$(dirname "$0")" && pwd)
failed=()
summary=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/lsan.supp:print_suppressions=0}
for t in "$@"; do
  exe=$build/tests/fuzz/$t
  [ -x "$exe" ] || { echo "missing fuzz target $exe (build it with make fuzz)"; failed+=("$t"); continue; }
  work=$build/fuzz-corpus/$t; art=$build/fuzz-artifacts/$t; log=$build/fuzz-logs/$t.log
  mkdir -p "$work" "$art" "$(dirname "$log")"
  seeds=()
  [ -d "$src/corpus/$t" ] && seeds=("$src/corpus/$t")
  dict=()
  [ -f "$src/$t.dict" ] && dict=(-dict="$src/$t.dict")
  echo "== $t: ${seconds}s"
  (cd "$art" && TMPDIR=$art "$exe" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -detect_leaks="${FUZZ_DETECT_LEAKS:-0}" -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "$work" \
      "${seeds[@]}") >"$log" 2>&1
  rc=$?
  # The leak pass over the final corpus (see the top of this file).
  leak_log=$build/fuzz-logs/$t.leaks.log
  : >"$leak_log"
  leak_inputs=0
  if [ $rc -eq 0 ]; then
    (cd "$art" && find "$work" "${seeds[@]}" -type f -print0 | sort -z | \
       TMPDIR=$art xargs -0 -n 100 "$exe" -timeout=25 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
       -artifact_prefix="$art/") >>"$leak_log" 2>&1
    leak_rc=$?
    leak_inputs=$(grep -c '^Running: ' "$leak_log")
    if [ $leak_rc -ne 0 ]; then
      rc=$leak_rc
      cat "$leak_log" >>"$log"
    fi
  fi
  stats=$(grep -E '^#[0-9]+' "$log" | tail -1)
  execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  rate=$(grep -E 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
  line="$t: rc=$rc execs=${execs:-?} exec/s=${rate:-?} leak pass: ${leak_inputs:-0} inputs; last: ${stats}"
  echo "$line"
  summary+="$line"$'\n'
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -5
  fi
done
echo "---- fuzz summary ----"
printf '%s' "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (inputs in $build/fuzz-artifacts/, logs in $build/fuzz-logs/)"
  exit 1
fi
