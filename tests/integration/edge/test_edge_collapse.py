#!/usr/bin/env python3
# test_edge_collapse.py — 200 viewers blocked on the same next part through the nginx edge
# (examples/nginx-edge.conf) cost the origin ONE request, and all 200 get that part when it appears.
"""Each of VIEWERS connections asks the edge, before the part exists, for

  - the blocking playlist reload  media.m3u8?_HLS_msn=N&_HLS_part=M
  - the preload hint               part-N.M.m4s

of the same future part, as LL-HLS players at the live edge do. Expected:
the origin answers exactly one request for each URL (counted twice: by the
origin's /metrics and by nginx's log of requests it sent upstream), and every
viewer gets 200 with the same bytes once the part is written.

With --late, the 200 viewers block (playlist reload only) on a part 0.6-1 s
away, longer than the viewer tier's 250 ms lock timeout: every waiter gives up
waiting there and goes to the collapsing tier, which must still send the
origin one request.
"""

import asyncio
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from edgelib import (CHANNEL, RENDITION, SKIP, EdgeStack, Skip, StackError, exit_on_sigterm, log,  # noqa: E402
                     origin_counters, origin_requests)

VIEWERS = 200


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def preload_hint(playlist_path):
    """(msn, part) named by EXT-X-PRELOAD-HINT: the next part, not written yet."""
    with open(playlist_path) as f:
        text = f.read()
    m = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-(\d+)\.(\d+)\.m4s"', text)
    check(m, f"no preload hint in {playlist_path}:\n{text[-600:]}")
    return int(m.group(1)), int(m.group(2))


async def next_hint(playlist_path):
    """Waits for the playlist to move on (a part was just written) and returns the new hint:
    a part about one part duration (200 ms) away, so every request is sent before it exists."""
    first = preload_hint(playlist_path)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        await asyncio.sleep(0.003)
        hint = preload_hint(playlist_path)
        if hint != first:
            return hint
    raise Failure(f"the preload hint stayed at {first} for 5 s")


async def fetch(port, opened, go, sent):
    """One viewer's request on its own connection, sent when go gives its path;
    (status, headers, body, time of last byte)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened.append(1)
    path = await go.get()
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    sent.append(time.time())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
    length = int(headers.get("content-length", "-1"))
    body = await (reader.readexactly(length) if length >= 0 else reader.read())
    done = time.time()
    writer.close()
    return path, status, headers, body, done


async def late_target(playlist_path):
    """(msn + 1, 0), chosen while part 0 or 1 of segment msn is the hint: 0.6-1 s ahead, within
    the origin's limits (one segment beyond the one being written, a 3 s hold)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        msn, part = preload_hint(playlist_path)
        if part <= 1:
            return msn + 1, 0
        await asyncio.sleep(0.003)
    raise Failure("the preload hint never pointed at the start of a segment")


async def crowd(port, playlist_path, n, late):
    """Opens n connections, waits for a fresh preload hint (msn, part), then writes on each
    connection, alternately, the blocking reload for that part and the part itself
    (late: only the blocking reload, for a part 0.6-1 s away)."""
    opened, sent = [], []
    go = asyncio.Queue()
    tasks = [asyncio.create_task(fetch(port, opened, go, sent)) for _ in range(n)]
    deadline = time.monotonic() + 10
    while len(opened) < n and time.monotonic() < deadline and not any(t.done() for t in tasks):
        await asyncio.sleep(0.01)
    msn, part = await (late_target(playlist_path) if late else next_hint(playlist_path))
    for i in range(n):
        go.put_nowait(PLAYLIST_URL.format(msn=msn, part=part) if late or i % 2 == 0 else
                      PART_URL.format(msn=msn, part=part))
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    return (msn, part), results, sent


BASE = f"/live/{CHANNEL}/{RENDITION}"
PLAYLIST_URL = BASE + "/media.m3u8?_HLS_msn={msn}&_HLS_part={part}"
PART_URL = BASE + "/part-{msn}.{part}.m4s"


class NotBlocked(Exception):
    """A request left after its part was written: the crowd did not test blocking (a busy
    machine); it is run again rather than failed."""


def run_crowd(stack, late):
    port = int(stack.edge_url.rsplit(":", 1)[1])
    urls_per_viewer = 1 if late else 2
    before = origin_counters(stack.origin_url)
    (msn, part), results, sent = asyncio.run(crowd(port, stack.media_playlist_path(),
                                                   urls_per_viewer * VIEWERS, late))
    after = origin_counters(stack.origin_url)
    part_name = f"part-{msn}.{part}.m4s"
    part_file = os.path.join(stack.channel_dir, RENDITION, part_name)

    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise Failure(f"{len(errors)} of {len(results)} requests failed, e.g. {errors[0]!r}")
    check(os.path.exists(part_file), f"{part_name} does not exist after every request was answered")
    part_time = os.stat(part_file).st_mtime
    if max(sent) >= part_time:
        raise NotBlocked(f"the last request was sent {max(sent) - part_time:.3f} s after "
                         f"{part_name} was written")
    return msn, part, results, before, after, part_file, part_time


def test(stack, late):
    for attempt in range(3):
        try:
            msn, part, results, before, after, part_file, part_time = run_crowd(stack, late)
            break
        except NotBlocked as e:
            log(f"{e}: not every viewer was blocked; again")
    else:
        raise Failure("in 3 tries, the requests could not all be sent before the part appeared")
    playlist_url = PLAYLIST_URL.format(msn=msn, part=part)
    part_url = PART_URL.format(msn=msn, part=part)
    part_name = os.path.basename(part_file)

    urls = (playlist_url,) if late else (playlist_url, part_url)
    log(f"{VIEWERS} viewers x {urls}")
    for url in urls:
        answers = [r[1:] for r in results if r[0] == url]
        check(len(answers) == VIEWERS, f"{url}: {len(answers)} answers, expected {VIEWERS}")
        statuses = sorted({r[0] for r in answers})
        check(statuses == [200], f"{url}: statuses {statuses}, expected only 200")
        bodies = {r[2] for r in answers}
        check(len(bodies) == 1, f"{url}: {len(bodies)} different bodies among {VIEWERS} viewers")
        cache = {}
        for r in answers:
            cache[r[1].get("x-cache-status")] = cache.get(r[1].get("x-cache-status"), 0) + 1
        delays = sorted(r[3] - part_time for r in answers)
        log(f"{url}: {VIEWERS} x 200, X-Cache-Status {cache}, last byte after the part was written: "
            f"min {delays[0] * 1000:.0f} ms, median {delays[len(delays) // 2] * 1000:.0f} ms, "
            f"max {delays[-1] * 1000:.0f} ms")
        # HIT: answered by the viewer tier's cache (its first request, or a lock
        # waiter); MISS: passed on to the collapsing tier, which still sends the
        # origin only one request (checked below).
        check(set(cache) <= {"HIT", "MISS"} and cache.get("MISS", 0) >= 1,
              f"{url}: unexpected X-Cache-Status values {cache}")
        if late:
            check(cache.get("MISS", 0) > 1, f"{url}: {cache}: no waiter outlived the viewer tier's "
                  "lock timeout, so this did not test the collapsing tier")
    playlist_body = [r[3] for r in results if r[0] == playlist_url][0].decode()
    check(f'URI="{part_name}"' in playlist_body, f"the blocking reload's playlist does not list {part_name}")
    if not late:
        with open(part_file, "rb") as f:
            check([r[3] for r in results if r[0] == part_url][0] == f.read(),
                  f"the body served for {part_name} differs from the file")

    # The origin's view: one request per URL, each held until the part appeared.
    # (The second scrape also counts the first one.)
    served = origin_requests(after) - origin_requests(before) - 1
    held = after["glasscast_origin_held_requests_total"] - before["glasscast_origin_held_requests_total"]
    log(f"origin: {served:.0f} requests answered, {held:.0f} held, during the crowd")
    check(served == len(urls), f"the origin answered {served:.0f} requests for {len(urls)} URL(s)")
    check(held == len(urls), f"the origin held {held:.0f} requests; expected {len(urls)}")

    # nginx's view: the collapsing tier's log of origin requests names each URL once.
    upstream = stack.upstream_log()
    for url in urls:
        lines = [ln for ln in upstream if f'"{url}"' in ln]
        tries = sum(ln.split(" up=", 1)[1].split(" ", 1)[0].count(",") + 1 for ln in lines)
        check(len(lines) == 1 and tries == 1,
              f"nginx sent {url} upstream {tries} time(s) in {len(lines)} log line(s):\n" + "\n".join(lines))


def main():
    late = "--late" in sys.argv[1:]
    exit_on_sigterm()
    tmp = tempfile.mkdtemp(prefix="gc-edge-collapse-")
    code = 0
    try:
        with EdgeStack(tmp) as stack:
            try:
                test(stack, late)
            except Failure as e:
                print(f"FAIL: {e}", flush=True)
                print(f"nginx error log:\n{stack._read(os.path.join(stack.nginx_prefix, 'logs', 'error.log'))}")
                code = 1
    except Skip as e:
        print(f"SKIP: {e}", flush=True)
        code = SKIP
    except StackError as e:
        print(f"FAIL: {e}", flush=True)
        code = 1
    finally:
        if os.environ.get("GC_KEEP_TMP"):
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if code == 0:
        print(f"PASS: edge-collapse{'-late' if late else ''}", flush=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
