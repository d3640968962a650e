#!/usr/bin/env bash
# test.sh — sets everything up and runs the whole test suite; .ci/run calls this.
#   1. installs the Debian packages (scripts/install-deps.sh)
#   2. checks formatting
#   3. builds with -Werror and runs every suite (unit, elements, integration)
#   4. rebuilds with AddressSanitizer + UndefinedBehaviorSanitizer and runs unit + elements
#   5. builds the libFuzzer targets with clang and runs each briefly over its seeds
# Ends with one line "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || exit 1

passed=0
failed=0
status=0

# Adds a meson run's results (meson-logs/testlog.json) to the totals.
count_results() {
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || return 0
  read -r p f < <(python3 - "$log" <<'PY'
import json, sys
p = f = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL", "SKIP"):
        p += 1
    else:
        f += 1
print(p, f)
PY
)
  passed=$((passed + p))
  failed=$((failed + f))
}

step() { printf '\n=== %s ===\n' "$*"; }

step "format"
if ! bash scripts/check-format.sh; then
  status=1
  failed=$((failed + 1))
else
  passed=$((passed + 1))
fi

step "build (-Werror) and all suites"
rm -rf build/ci
if meson setup build/ci --werror -Dbenchmarks=true && ninja -C build/ci; then
  meson test -C build/ci --print-errorlogs --num-processes 2 || status=1
  count_results build/ci
else
  status=1
  failed=$((failed + 1))
fi

step "AddressSanitizer + UndefinedBehaviorSanitizer: unit and elements"
rm -rf build/asan
if meson setup build/asan --werror -Db_sanitize=address,undefined -Db_lundef=false \
     -Dbenchmarks=false && ninja -C build/asan; then
  # Plugins built with ASan must be scanned inside the ASan-linked test
  # process, not by the uninstrumented gst-plugin-scanner.
  GST_REGISTRY_FORK=no \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp" \
    meson test -C build/asan --suite unit --suite elements --print-errorlogs --num-processes 2 || status=1
  count_results build/asan
else
  status=1
  failed=$((failed + 1))
fi

step "fuzz targets (libFuzzer, clang)"
rm -rf build/fuzz
if CC=clang meson setup build/fuzz -Dfuzzing=true -Dbenchmarks=false >/dev/null && ninja -C build/fuzz; then
  while read -r name exe seeds; do
    [ -n "$name" ] || continue
    corpus=$(mktemp -d)
    if "$exe" -max_total_time="${FUZZ_SECONDS:-30}" -print_final_stats=1 -artifact_prefix="build/fuzz/$name-" "$corpus" "$seeds" >"build/fuzz/$name.log" 2>&1; then
      echo "fuzz $name: ok ($(grep -E 'stat::number_of_executed_units' "build/fuzz/$name.log" | awk '{print $2}') runs)"
      passed=$((passed + 1))
    else
      echo "fuzz $name: FAILED"; tail -n 40 "build/fuzz/$name.log"
      failed=$((failed + 1)); status=1
    fi
    rm -rf "$corpus"
  done < build/fuzz/tests/fuzz-targets.txt
else
  status=1
  failed=$((failed + 1))
fi

printf '\n%s passed, %s failed\n' "$passed" "$failed"
exit $status
