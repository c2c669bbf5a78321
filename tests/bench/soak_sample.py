#!/usr/bin/python3
"""soak_sample.py DARKSCOPE ENDPOINT PID START_DAY DAYS_CSV CKPT_CSV [OVERVIEW_EVERY]

Samples a running `darkscope run --endpoint ENDPOINT` (process PID) while a
long stream goes through it, until the process ends.  Asks `darkscope query
status` a few times a second; each time the newest day any shard holds
(status last_day) advances, writes one row to DAYS_CSV: the simulated day
(days since START_DAY), the process RSS (/proc/PID/status VmRSS), how
many shards answered (a shard busy past the query service's timeout does
not: its store columns are then left empty), the shards' store memory,
records received, sources, evicted days, and the latency of
`status` and (every OVERVIEW_EVERY days) of `overview` and `daily`, each
timed end to end through the darkscope CLI.  Each checkpoint a shard
writes (status checkpoints.written grows) adds a row to CKPT_CSV: its pause
of the data path (the fork) and its duration (the child's write)."""
import csv, datetime, json, subprocess, sys, time

ds, ep, pid, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
days_path, ckpt_path = sys.argv[5], sys.argv[6]
every = int(sys.argv[7]) if len(sys.argv) > 7 else 7
day0 = datetime.date.fromisoformat(start)


def query(q):
    """(seconds, parsed JSON or None) of one `darkscope query Q --json`."""
    t0 = time.perf_counter()
    p = subprocess.run([ds, "query", "--endpoint", ep, "--timeout-ms", "20000", q, "--json"],
                       capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        return dt, None
    try:
        return dt, json.loads(p.stdout)
    except ValueError:
        return dt, None


def rss_kb():
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


days = open(days_path, "w", newline="")
dw = csv.writer(days)
dw.writerow(["day", "last_day", "wall_s", "rss_mb", "shards_ok", "store_mb", "records", "sources",
             "evicted_days", "expired_records", "status_ms", "overview_ms", "daily_ms",
             "checkpoints", "ckpt_failed"])
ckpts = open(ckpt_path, "w", newline="")
cw = csv.writer(ckpts)
cw.writerow(["wall_s", "day", "shard", "pause_ms", "duration_ms", "max_pause_ms"])
t_start = time.time()
last_day = None
written = {}
while alive():
    st_s, st = query("status")
    if not st or "shards" not in st:
        time.sleep(0.2)
        continue
    stores = [s["status"]["store"] for s in st["shards"] if s.get("ok")]
    lds = [s["last_day"] for s in stores if s.get("last_day")]
    newest = max(lds) if lds else None
    day = (datetime.date.fromisoformat(newest) - day0).days if newest else None
    for s in st["shards"]:
        if not s.get("ok"):
            continue
        c = s["status"].get("checkpoints") or {}
        k = s["shard"]
        n = c.get("written", 0) + c.get("failed", 0)
        if n > written.get(k, 0):
            cw.writerow([f"{time.time() - t_start:.1f}", day, k, c.get("last_pause_ms"),
                         c.get("last_duration_ms"), c.get("max_pause_ms")])
            ckpts.flush()
        written[k] = n
    if newest and newest != last_day:
        last_day = newest
        ov_ms = dl_ms = ""
        if day % every == 0:
            t, o = query("overview")
            ov_ms = f"{t * 1000:.1f}" if o else "fail"
            t, o = query("daily")
            dl_ms = f"{t * 1000:.1f}" if o else "fail"
        r = rss_kb()
        ck = [s["status"].get("checkpoints") or {} for s in st["shards"] if s.get("ok")]
        whole = len(stores) == len(st["shards"])
        dw.writerow([day, newest, f"{time.time() - t_start:.1f}",
                     f"{r / 1024:.1f}" if r else "", len(stores),
                     f"{sum(s.get('memory_bytes', 0) for s in stores) / 2**20:.1f}" if whole else "",
                     sum(s.get("records", 0) for s in stores) if whole else "",
                     sum(s.get("sources", 0) for s in stores) if whole else "",
                     max(s.get("evicted_days", 0) for s in stores),
                     sum(s.get("expired_records", 0) for s in stores) if whole else "",
                     f"{st_s * 1000:.1f}", ov_ms, dl_ms,
                     sum(c.get("written", 0) for c in ck), sum(c.get("failed", 0) for c in ck)])
        days.flush()
    time.sleep(0.2)
days.close()
ckpts.close()
