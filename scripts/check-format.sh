#!/usr/bin/env bash
# check-format.sh — fails when a tracked .c/.h file differs from what clang-format
# (with the repo's .clang-format) would write. Fix with: clang-format -i FILE.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(git ls-files '*.c' '*.h')
[ ${#files[@]} -gt 0 ] || { echo "check-format: no C files"; exit 0; }
if clang-format --dry-run --Werror "${files[@]}"; then
  echo "check-format: ${#files[@]} files follow .clang-format"
else
  echo "check-format: run 'clang-format -i' on the files above" >&2
  exit 1
fi
