#!/usr/bin/env python3
# channels-bench.py — the runs of tests/bench/channels-bench.sh: N concurrent WHIP channels on one glasscastd
# (127.0.0.1, port 0), N gc-whip-publish publishers of a pre-encoded clip, CPU of each process from /proc.
"""One run per channel count: start glasscastd with N channels, start N
publishers of the clip, wait until every channel is live, warm up, then
measure CPU time (utime + stime from /proc/PID/stat) of glasscastd, of every
glasscast-worker (glasscastd's children) and of the publishers over the
window, while polling GET /api/v1/channels once a second for state, fps,
bitrate and last part time. After the window, tests/tools/hlscheck.py
(--live --media) checks every channel's folder. Everything is stopped and
the temp folder (on /dev/shm) removed at the end of each run.

Python 3 stdlib only; reuses tests/integration/whip/whiplib.py.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "whip"))
import whiplib  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
KEY = "channels-bench-key"

# [worker] pipeline variants; "transcode" is glasscastd's default
# (orchestrator/config.h GC_CONFIG_DEFAULT_PIPELINE).
PIPELINES = {
    "transcode": None,
    "opus-passthrough": "whipserversrc name=src src.video_0 ! queue ! llhlssink name=sink "
                        "location={location} src.audio_0 ! queue ! sink.",
    "audio-dropped": "whipserversrc name=src src.video_0 ! queue ! llhlssink name=sink "
                     "location={location} src.audio_0 ! queue ! fakesink sync=false async=false",
}

# A channel is healthy when, at every poll of the window, it is live, its
# newest part is under STALL_S old, and over the window its median fps and
# mean bitrate are near the clip's, with no new WHIP session (no restart).
STALL_S = 1.0
FPS_MIN, FPS_MAX = 27.0, 33.0
BITRATE_MIN = 2.0e6


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def cpu_ticks(pid):
    """utime + stime of pid (all its threads), in clock ticks; None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def system_busy():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def worker_channels(gc):
    """{pid: channel} of glasscastd's glasscast-worker children."""
    out = {}
    for pid in gc.workers():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"--channel" in argv:
            out[pid] = argv[argv.index(b"--channel") + 1].decode()
    return out


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None


def run(args, n):
    tmp = tempfile.mkdtemp(prefix=f"gc-chbench-{n}-", dir=args.tmp_parent)
    channels = {f"ch{i:03d}": KEY for i in range(n)}
    extra = ""
    if PIPELINES[args.audio]:
        extra = "pipeline=" + PIPELINES[args.audio]
    ctx = whiplib.Context(tmp, "channels-bench")
    result = {"n": n, "ok": False, "why": []}
    try:
        gc = ctx.glasscastd(channels, extra=extra)
        log(f"N={n}: glasscastd pid {gc.proc.pid} on port {gc.port}, audio={args.audio}, tmp {tmp}")
        pubs = {}
        for i, ch in enumerate(channels):
            logf = os.path.join(tmp, f"publisher-{ch}.log")
            cmd = [whiplib.PUBLISH, f"http://127.0.0.1:{gc.port}/whip/{ch}", "--token", KEY,
                   "--file", args.clip, "--ice-address", "127.0.0.1"]
            p = whiplib.Publisher.__new__(whiplib.Publisher)
            p.log_path = logf
            p.log = open(logf, "w")
            p.proc = subprocess.Popen(cmd, stdout=p.log, stderr=subprocess.STDOUT)
            ctx.publishers.append(p)
            pubs[ch] = p
            time.sleep(args.stagger)

        # All live, with stats, within the ramp timeout.
        t_ramp = time.monotonic()
        deadline = t_ramp + args.ramp_timeout
        while True:
            chs = {c["name"]: c for c in gc.request("GET", "/api/v1/channels").json()["channels"]}
            live = [c for c in chs.values() if c["state"] == "live" and c["stats"]
                    and (c["stats"].get("fps") or 0) > 0 and c["last_part_time"]]
            if len(live) == n:
                break
            dead = [ch for ch, p in pubs.items() if p.proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                result["why"].append(f"only {len(live)}/{n} live after "
                                     f"{time.monotonic() - t_ramp:.0f} s (publishers exited: {dead[:5]})")
                for ch in dead[:2]:
                    log(f"--- {ch} publisher log ---\n{pubs[ch].log_text()}")
                log(f"--- glasscastd log ---\n{gc.log_text()[-3000:]}")
                return result
            time.sleep(0.2)
        log(f"N={n}: all {n} live {time.monotonic() - t_ramp:.1f} s after the last publisher started; "
            f"warm-up {args.warmup} s")
        time.sleep(args.warmup)

        workers = worker_channels(gc)
        if len(workers) != n:
            result["why"].append(f"{len(workers)} workers for {n} channels")
        pids = {"glasscastd": [gc.proc.pid], "workers": list(workers),
                "publishers": [p.proc.pid for p in pubs.values()]}
        t0 = time.monotonic()
        c0 = {pid: cpu_ticks(pid) for group in pids.values() for pid in group}
        s0 = system_busy()
        load0 = loadavg()
        sessions0 = {c["name"]: c["sessions"] for c in gc.request("GET", "/api/v1/channels").json()["channels"]}

        samples = {ch: [] for ch in channels}
        worst_age = {ch: 0.0 for ch in channels}
        not_live = {ch: 0 for ch in channels}
        while time.monotonic() - t0 < args.window:
            time.sleep(1.0)
            now = datetime.now(timezone.utc)
            for c in gc.request("GET", "/api/v1/channels").json()["channels"]:
                ch = c["name"]
                if c["state"] != "live" or not c["stats"]:
                    not_live[ch] += 1
                    continue
                samples[ch].append((c["stats"].get("fps") or 0.0, c["stats"].get("bitrate") or 0.0))
                lp = parse_time(c["last_part_time"])
                if lp:
                    worst_age[ch] = max(worst_age[ch], (now - lp).total_seconds())
        wall = time.monotonic() - t0
        c1 = {pid: cpu_ticks(pid) for pid in c0}
        s1 = system_busy()
        load1 = loadavg()
        sessions1 = {c["name"]: c["sessions"] for c in gc.request("GET", "/api/v1/channels").json()["channels"]}

        def pct(pid):
            if c0[pid] is None or c1[pid] is None:
                return None
            return 100.0 * (c1[pid] - c0[pid]) / CLK_TCK / wall

        gcd = pct(gc.proc.pid)
        wk = {workers[pid]: pct(pid) for pid in workers}
        pub = [pct(pid) for pid in pids["publishers"]]
        if None in wk.values() or None in pub or gcd is None:
            result["why"].append("a process exited during the window")
        wkv = [v for v in wk.values() if v is not None]
        pubv = [v for v in pub if v is not None]
        system = 100.0 * (s1[0] - s0[0]) / max(1, s1[1] - s0[1]) * os.cpu_count()

        # Health of each channel.
        bad = []
        fps_all, br_all = [], []
        for ch in channels:
            s = samples[ch]
            fps = statistics.median([f for f, _ in s]) if s else 0.0
            br = statistics.mean([b for _, b in s]) if s else 0.0
            fps_all.append(fps)
            br_all.append(br)
            why = []
            if not_live[ch]:
                why.append(f"not live at {not_live[ch]} polls")
            if not FPS_MIN <= fps <= FPS_MAX:
                why.append(f"fps {fps:.1f}")
            if br < BITRATE_MIN:
                why.append(f"bitrate {br / 1e6:.2f} Mbit/s")
            if worst_age[ch] > STALL_S:
                why.append(f"stall: newest part {worst_age[ch]:.2f} s old")
            if sessions1.get(ch) != sessions0.get(ch):
                why.append("republished")
            if why:
                bad.append(f"{ch}: {', '.join(why)}")
        result["stream_bad"] = len(bad)
        result["hlscheck_bad"] = 0
        if not args.no_hlscheck:
            for ch in channels:
                v = whiplib.hlscheck_folder(os.path.join(gc.media, ch), live=True)
                if v:
                    result["hlscheck_bad"] += 1
                    bad.append(f"{ch}: hlscheck: {v[0]}" + (f" (+{len(v) - 1} more)" if len(v) > 1 else ""))
        result["why"] += bad
        if result["why"]:
            # Why workers ended or channels went offline, from glasscastd's log.
            with open(gc.log_path, errors="replace") as f:
                lines = [l for l in f.read().splitlines()
                         if any(w in l for w in ("exit", "heartbeat", "kill", "offline", "error", "warn"))]
            result["log"] = lines[-12:]

        per_ch = statistics.mean(wkv) if wkv else 0.0
        result.update(
            ok=not result["why"], wall=wall, load=f"{load0}->{load1}", gcd=gcd,
            worker_mean=per_ch, worker_min=min(wkv, default=0), worker_max=max(wkv, default=0),
            gcd_share=(gcd or 0) / n, per_channel=per_ch + (gcd or 0) / n,
            pub_mean=statistics.mean(pubv) if pubv else 0.0,
            pub_total=sum(pubv), server_total=(gcd or 0) + sum(wkv),
            measured_total=(gcd or 0) + sum(wkv) + sum(pubv), system=system,
            fps_min=min(fps_all), fps_median=statistics.median(fps_all),
            br_mean=statistics.mean(br_all), worst_part_age=max(worst_age.values()))
        return result
    finally:
        # SIGINT every publisher at once (each DELETEs its session), then
        # glasscastd's SIGTERM stops what is left.
        for p in ctx.publishers:
            if p.proc.poll() is None:
                p.proc.send_signal(whiplib.signal.SIGINT)
        end = time.monotonic() + 10
        for p in ctx.publishers:
            try:
                p.proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()
        ctx.close(quiet=True)
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", required=True)
    ap.add_argument("--channels", default="1,5,10,20")
    ap.add_argument("--window", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--stagger", type=float, default=0.25, help="seconds between publisher starts")
    ap.add_argument("--ramp-timeout", type=float, default=40)
    ap.add_argument("--audio", choices=sorted(PIPELINES), default="transcode")
    ap.add_argument("--stop-on-fail", action="store_true")
    ap.add_argument("--no-hlscheck", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--tmp-parent", default="/dev/shm")
    args = ap.parse_args()

    ncpu = os.cpu_count()
    log(f"{ncpu} CPUs, load average {loadavg()}, clip {args.clip}, window {args.window:.0f} s, "
        f"audio={args.audio}")
    print("CPU figures are % of one core, from utime+stime over the window.", flush=True)
    best = 0
    rows = []
    for n in [int(x) for x in args.channels.split(",")]:
        r = run(args, n)
        rows.append(r)
        if "wall" in r:
            log(f"RESULT n={n} healthy={'yes' if r['ok'] else 'no'} "
                f"streams_unhealthy={r['stream_bad']}/{n} hlscheck_failed={r['hlscheck_bad']}/{n} "
                f"load={r['load']} "
                f"glasscastd={r['gcd']:.2f}% worker_mean={r['worker_mean']:.2f}% "
                f"(min {r['worker_min']:.2f} max {r['worker_max']:.2f}) "
                f"per_channel={r['per_channel']:.2f}% publisher_mean={r['pub_mean']:.2f}% "
                f"server_total={r['server_total']:.1f}% publishers_total={r['pub_total']:.1f}% "
                f"measured_total={r['measured_total']:.1f}% machine_busy={r['system']:.1f}% "
                f"fps_min={r['fps_min']:.1f} fps_median={r['fps_median']:.1f} "
                f"bitrate_mean={r['br_mean'] / 1e6:.2f}Mbit/s worst_part_age={r['worst_part_age']:.2f}s")
        else:
            log(f"RESULT n={n} healthy=no (no measurement)")
        for w in r["why"][:10]:
            log(f"   unhealthy: {w}")
        for line in r.get("log", []):
            log(f"   glasscastd: {line[:300]}")
        if r["ok"]:
            best = n
        elif args.stop_on_fail:
            break
    print("== summary", flush=True)
    for r in rows:
        if "wall" not in r:
            continue
        cores = (r["n"] * r["worker_mean"] + r["gcd"]) / 100
        fit = (100 * ncpu - r["gcd"]) / r["worker_mean"] if r["worker_mean"] else 0
        print(f"   N={r['n']:3d} {'healthy  ' if r['ok'] else 'UNHEALTHY'} "
              f"server cores needed = N x {r['worker_mean']:.2f}% + glasscastd {r['gcd']:.2f}% "
              f"= {cores:.2f} cores; publishers {r['pub_total'] / 100:.2f} cores; "
              f"measured total {r['measured_total'] / 100:.2f} cores; "
              f"extrapolated channels on {ncpu} cores without publishers: {fit:.0f}", flush=True)
    print(f"== largest healthy N measured (publishers on the same box): {best}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
