#!/usr/bin/env bash
# render-nginx-conf.sh — writes a copy of nginx-edge.conf with its marked values replaced.
# Usage: render-nginx-conf.sh OUT NAME=VALUE...   (e.g. LISTEN=127.0.0.1:9000 ORIGIN=127.0.0.1:8080)
#
# A line of the template ending in `# @NAME` gets the first argument of its
# directive replaced by VALUE; everything else is copied as is. Unknown names
# and names that mark no line are errors, so a renamed marker cannot be
# silently skipped. TEMPLATE=path overrides the template (default: beside
# this script).
#
# Playback tokens (docs/playback-tokens.md) take three more names, which
# write files beside OUT instead of replacing a marker:
#   GLASSCAST_CONFIG=glasscast.ini  token channels ([channel:X] playback=token)
#                                   and, unless PLAYBACK_SECRETS is given,
#                                   [server] playback-token-secret-file (and
#                                   -old-secret-file) from glasscastd's config
#   TOKEN_CHANNELS=a,b              token channels, listed by hand (added)
#   PLAYBACK_SECRETS=FILE[,OLDFILE] the secret file(s) glasscastd uses
# They write playback-channels.conf and playback-secrets.conf (mode 0600:
# it holds the secret, hex). playback-token.js is always copied beside OUT.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 OUT NAME=VALUE..." >&2
  exit 2
fi
out="$1"
shift
template="${TEMPLATE:-$(dirname "$0")/nginx-edge.conf}"

text="$(cat "$template")"
outdir="$(dirname "$out")"
token_channels=()
secret_files=()
markers=()
for pair in "$@"; do
  name="${pair%%=*}"
  value="${pair#*=}"
  case "$name" in
    GLASSCAST_CONFIG)
      # [channel:X] groups whose playback key is token; the secret files.
      while IFS= read -r ch; do token_channels+=("$ch"); done < <(awk '
        /^[[:space:]]*\[/ { group = $0; gsub(/^[[:space:]]*\[|\][[:space:]]*$/, "", group); next }
        group ~ /^channel:/ && /^[[:space:]]*playback[[:space:]]*=[[:space:]]*token[[:space:]]*$/ {
          print substr(group, 9) }' "$value")
      if [ ${#secret_files[@]} -eq 0 ]; then
        for key in playback-token-secret-file playback-token-old-secret-file; do
          f="$(awk -v key="$key" '
            /^[[:space:]]*\[/ { group = $0; gsub(/^[[:space:]]*\[|\][[:space:]]*$/, "", group); next }
            group == "server" { split($0, kv, "="); k = kv[1]; gsub(/[[:space:]]/, "", k)
              if (k == key) { v = substr($0, index($0, "=") + 1); gsub(/^[[:space:]]+|[[:space:]]+$/, "", v); print v } }' "$value")"
          [ -n "$f" ] && secret_files+=("$f")
        done
      fi
      continue ;;
    TOKEN_CHANNELS)
      IFS=',' read -r -a extra <<<"$value"
      token_channels+=("${extra[@]}")
      continue ;;
    PLAYBACK_SECRETS)
      IFS=',' read -r -a secret_files <<<"$value"
      continue ;;
  esac
  markers+=("$pair")
done
for ch in "${token_channels[@]}"; do
  if ! [[ "$ch" =~ ^[A-Za-z0-9_-]{1,64}$ ]]; then
    echo "$0: bad channel name '$ch'" >&2
    exit 2
  fi
done
if [ ${#token_channels[@]} -gt 0 ] && [ ${#secret_files[@]} -eq 0 ]; then
  echo "$0: token channels need PLAYBACK_SECRETS= (or [server] playback-token-secret-file in GLASSCAST_CONFIG)" >&2
  exit 2
fi

for pair in "${markers[@]}"; do
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

if [ "$(cd "$outdir" && pwd)" != "$(cd "$(dirname "$template")" && pwd)" ]; then
  cp "$(dirname "$0")/playback-token.js" "$outdir/playback-token.js"
fi
if [ ${#token_channels[@]} -gt 0 ]; then
  {
    echo "# Written by render-nginx-conf.sh: channels whose /live/ needs a playback token."
    for ch in "${token_channels[@]}"; do
      printf '~^/live/%s/ %s;\n' "$ch" "$ch"
    done
  } >"$outdir/playback-channels.conf"
  hex=""
  for f in "${secret_files[@]}"; do
    if [ "$(stat -c %s "$f")" -lt 32 ]; then
      echo "$0: $f: a playback token secret needs at least 32 bytes" >&2
      exit 2
    fi
    hex="${hex:+$hex,}$(od -An -v -tx1 "$f" | tr -d ' \n')"
  done
  (
    umask 077
    printf '# Written by render-nginx-conf.sh: the playback token secrets (hex). Keep it 0600.\njs_var $gc_playback_secrets "%s";\n' "$hex" >"$outdir/playback-secrets.conf"
  )
  chmod 600 "$outdir/playback-secrets.conf"
else
  rm -f "$outdir/playback-channels.conf" "$outdir/playback-secrets.conf"
fi
