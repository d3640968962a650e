#!/usr/bin/env bash
# edge-load.sh — the LL-HLS edge load benchmark: a live llhlssink writer, `glasscastd --origin`, nginx with
# examples/nginx-edge.conf (2 workers) and llhls-load viewers, on 127.0.0.1; plus the plain-nginx ceiling (wrk).
#
# Usage: tests/bench/edge-load.sh [options]
#   --build DIR          meson build folder (default: build)
#   --viewers LIST       comma-separated viewer counts, run in order (default 1000,2000,3000,4000,5000)
#   --duration S         seconds measured per run, after ramp and warm-up (default 30)
#   --ramp S             seconds over which viewers join (default 10)
#   --set DIRECTIVE=VAL  change a directive of the rendered edge config (repeatable),
#                        e.g. --set proxy_cache_lock_timeout=250ms
#   --no-hints           viewers never request the preload hint (llhls-load --no-hints)
#   --stop-on-fail       stop at the first viewer count that misses the bar
# Prints one line per run and a summary; docs/benchmarks.md ("LL-HLS edge load") has the
# figures and how to read them. Everything runs on this machine and stops by itself.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# ---- inner part: runs inside edgelib.py with the stack up (EDGE_URL etc. set) ----
if [ "${1:-}" = "--inner" ]; then
  shift
  load="$1" duration="$2" ramp="$3" viewers="$4" stop_on_fail="$5" hints="$6"
  load_opts=()
  [ "$hints" = no ] && load_opts=(--no-hints)
  url="$EDGE_URL/live/$CHANNEL/$RENDITION/media.m3u8"
  common=(--url "$url" --media-dir "$MEDIA_DIR/$CHANNEL/$RENDITION"
          --origin-metrics "$ORIGIN_URL/metrics" --upstream-log "$NGINX_PREFIX/logs/upstream.log"
          --origin-pid "$ORIGIN_PID" --edge-pid "$NGINX_PID" --quiet "${load_opts[@]}")
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

  echo "== plain nginx ceiling: wrk -t1 -c200 -d10s, 20 KB static file, same nginx (2 workers)"
  wrk_out="$(wrk -t1 -c200 -d10s "$EDGE_URL/static/20k.bin")"
  ceiling="$(awk '/Requests\/sec/ {print $2}' <<<"$wrk_out")"
  echo "   $ceiling requests/s"

  echo "== one viewer (the origin's single-viewer figure)"
  one="$("$load" "${common[@]}" --viewers 1 --duration 20 --ramp 0 --warmup 3 | grep '^RESULT')"
  echo "   $one"
  base_origin="$(field origin_rps "$one")"
  per_viewer="$(field edge_rps "$one")"
  ceiling_viewers="$(awk -v c="$ceiling" -v p="$per_viewer" 'BEGIN {printf "%d", c / p}')"
  echo "   one viewer: $per_viewer requests/s at the edge, $base_origin at the origin;" \
       "the wrk ceiling is worth ~$ceiling_viewers such viewers"

  best=0
  for n in ${viewers//,/ }; do
    echo "== $n viewers"
    r="$("$load" "${common[@]}" --viewers "$n" --duration "$duration" --ramp "$ramp" --warmup 5 |
         grep '^RESULT')" || true
    echo "   $r"
    [ -n "$r" ] || { echo "   llhls-load failed"; break; }
    verdict="$(awk -v stalls="$(field stalls "$r")" -v errors="$(field errors "$r")" \
                   -v p99="$(field p99_ms "$r")" -v o="$(field origin_rps "$r")" -v b="$base_origin" \
                   -v live="$(field live_viewers "$r")" -v n="$n" 'BEGIN {
        why = "";
        if (stalls > 0) why = why " stalls=" stalls;
        if (errors > 0) why = why " errors=" errors;
        if (p99 < 0 || p99 >= 300) why = why " p99=" p99 "ms";
        if (o > 1.10 * b) why = why sprintf(" origin=%.1f/s>%.1f/s(+10%%)", o, 1.10 * b);
        if (live < n) why = why " live=" live "/" n;
        print (why == "" ? "MEETS" : "MISSES" why);
      }')"
    echo "   $n viewers: $verdict the bar (0 stalls, 0 errors, p99 < 300 ms, origin <= +10%)"
    echo "   $n viewers = $(awk -v n="$n" -v c="$ceiling_viewers" 'BEGIN {printf "%.0f%%", 100 * n / c}') of the wrk ceiling's viewers"
    if [[ "$verdict" == MEETS* ]]; then
      best="$n"
    elif [ "$stop_on_fail" = 1 ]; then
      break
    fi
  done
  echo "== largest viewer count meeting the bar: $best" \
       "($(awk -v n="$best" -v c="$ceiling_viewers" 'BEGIN {printf "%.0f%%", 100 * n / c}') of the plain-nginx ceiling of ~$ceiling_viewers viewers)"
  exit 0
fi

# ---- outer part: set up and start the stack ----
build="$root/build"
viewers="1000,2000,3000,4000,5000"
duration=30
ramp=10
stop_on_fail=0
hints=yes
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$(cd "$2" && pwd)"; shift 2 ;;
    --viewers) viewers="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --ramp) ramp="$2"; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    --stop-on-fail) stop_on_fail=1; shift ;;
    --no-hints) hints=no; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "edge-load.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

load="$build/tests/bench/llhls-load"
export GLASSCASTD="${GLASSCASTD:-$build/orchestrator/glasscastd}"
export GST_PLUGIN_PATH="$build/plugins/llhls${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
for f in "$load" "$GLASSCASTD"; do
  [ -x "$f" ] || { echo "edge-load.sh: $f not built (ninja -C $build)" >&2; exit 77; }
done
command -v wrk >/dev/null || { echo "edge-load.sh: wrk missing (scripts/install-deps.sh)" >&2; exit 77; }

static="$(mktemp -d)"
trap 'rm -rf "$static"' EXIT
head -c 20480 /dev/urandom >"$static/20k.bin"

echo "edge-load: $(nproc) cores, $(uname -r), nginx $(nginx -v 2>&1 | sed 's/.*\///'), viewers $viewers," \
     "${duration}s per run, edge config changes: ${sets[*]:-none}, preload-hint requests: $hints"
python3 "$root/tests/integration/edge/edgelib.py" run --workers 2 --serve "static=$static" "${sets[@]}" \
  -- "$0" --inner "$load" "$duration" "$ramp" "$viewers" "$stop_on_fail" "$hints"
