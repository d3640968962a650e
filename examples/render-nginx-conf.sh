#!/usr/bin/env bash
# render-nginx-conf.sh — writes a copy of nginx-edge.conf with its marked values replaced.
# Usage: render-nginx-conf.sh OUT NAME=VALUE...   (e.g. LISTEN=127.0.0.1:9000 ORIGIN=127.0.0.1:8080)
#
# A line of the template ending in `# @NAME` gets the first argument of its
# directive replaced by VALUE; everything else is copied as is. Unknown names
# and names that mark no line are errors, so a renamed marker cannot be
# silently skipped. TEMPLATE=path overrides the template (default: beside
# this script).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 OUT NAME=VALUE..." >&2
  exit 2
fi
out="$1"
shift
template="${TEMPLATE:-$(dirname "$0")/nginx-edge.conf}"

text="$(cat "$template")"
for pair in "$@"; do
  name="${pair%%=*}"
  value="${pair#*=}"
  if [ "$name" = "$pair" ] || ! [[ "$name" =~ ^[A-Z_]+$ ]]; then
    echo "$0: expected NAME=VALUE, got '$pair'" >&2
    exit 2
  fi
  if [[ "$value" =~ [[:space:]\;\#\|\\] ]]; then
    printf '%s: value of %s must not contain spaces, ";", "#", "|" or a backslash\n' "$0" "$name" >&2
    exit 2
  fi
  if ! grep -qE "# @${name}\$" <<<"$text"; then
    echo "$0: no line of $template is marked @$name" >&2
    exit 2
  fi
  text="$(sed -E "s|^([[:space:]]*[a-z_]+[[:space:]]+)[^[:space:];]+(.*# @${name})\$|\1${value}\2|" <<<"$text")"
done
printf '%s\n' "$text" >"$out"
