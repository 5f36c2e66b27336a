#!/usr/bin/env python3
"""Issue 35's figures, against a switchboard binary in demo mode (stdlib only).

    python3 bench/export/run.py target/release/switchboard [--runs 3] [--no-cache] [--page-first]

Starts the binary with no config (demo mode: the gateway and its built-in emulator in one
process, on a free port) and measures:

- exports of the whole demo timeline (`GET /export/call-logs`, NDJSON then CSV): rows,
  seconds and rows per second, read as fast as the client can; the first run reads the
  emulator, later runs the gateway's caches;
- the process's RSS (VmRSS, sampled every 10 ms) before and at its peak during each
  export: the growth is what an export holds (the emulator's transient buffers included);
- with `--no-cache` (`cache.max_bytes = 0`), every run reads the emulator and the RSS
  growth is the export's own (with the cache, the first run also fills the cache, which
  `cache.max_bytes` bounds); a last NDJSON run then reads slowly (16 KiB every 5 ms), so
  the gateway waits on the client (backpressure) for most of it;
- with `--page-first`, `callLogs` is paged to its end (100 a page) before the exports:
  the RSS growth of reading the timeline without an export, to compare with;
- a month's `callLogStats` (October 2026, by provider, status and day): the first answer,
  then the median and the slowest of 20 repeats (served from the cache).
"""
import http.client, json, os, socket, statistics, subprocess, sys, threading, time, urllib.parse

STATS = """query { callLogStats(filter: {createdAfter: "2026-09-30T23:59:59.999Z", createdBefore: "2026-11-01T00:00:00Z"},
  groupBy: [PROVIDER, STATUS, PERIOD], interval: DAY) {
  complete buckets { key { provider status periodStart } count durationSeconds cost { amount currency } }
  totals { count durationSeconds cost { amount currency } } } }"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Peak:
    """Samples a process's RSS every 10 ms while in use."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def __enter__(self):
        self.before = rss_kib(self.pid)
        self.peak = self.before
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))


def export(port, fmt, slow=False):
    """Reads one whole export (16 KiB every 5 ms when `slow`); returns (rows, seconds,
    bytes, last line)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.monotonic()
    c.request("GET", f"/export/call-logs?format={fmt}")
    r = c.getresponse()
    if r.status != 200:
        raise SystemExit(f"export answered {r.status}: {r.read()[:300]}")
    lines, size, tail = 0, 0, b""
    while True:
        chunk = r.read1(16384 if slow else 65536)
        if slow:
            time.sleep(0.005)
        if not chunk:
            break
        size += len(chunk)
        lines += chunk.count(b"\n")
        tail = (tail + chunk)[-4096:]
    seconds = time.monotonic() - started
    last = tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].decode()
    rows = lines - (1 if fmt == "csv" else 0)
    return rows, seconds, size, last


def graphql(port, query):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    body = json.dumps({"query": query}).encode()
    started = time.monotonic()
    c.request("POST", "/graphql", body=body, headers={"content-type": "application/json"})
    answer = json.loads(c.getresponse().read())
    return answer, (time.monotonic() - started) * 1000


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    port = free_port()
    env = {**os.environ, "RUST_LOG": "warn", "SWITCHBOARD__SERVER__LISTEN": f"127.0.0.1:{port}"}
    env.pop("SWITCHBOARD_CONFIG", None)
    no_cache = "--no-cache" in sys.argv
    if no_cache:
        env["SWITCHBOARD__CACHE__MAX_BYTES"] = "0"
    process = subprocess.Popen([binary], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd="/")
    try:
        wait_for(port)
        time.sleep(1)
        print(f"idle RSS {rss_kib(process.pid) / 1024:.1f} MiB")
        if "--page-first" in sys.argv:
            # The same reads as an export, through `callLogs` pages of 100: what reading the
            # timeline itself costs in RSS (the emulator's share included), for comparison.
            with Peak(process.pid) as peak:
                after, rows, started = None, 0, time.monotonic()
                while True:
                    page = "query($a: String) { callLogs(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id } } } }"
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                    c.request("POST", "/graphql", body=json.dumps({"query": page, "variables": {"a": after}}).encode(),
                              headers={"content-type": "application/json"})
                    data = json.loads(c.getresponse().read())["data"]["callLogs"]
                    rows += len(data["edges"])
                    if not data["pageInfo"]["hasNextPage"]:
                        break
                    after = data["pageInfo"]["endCursor"]
            print(f"callLogs paged through first: {rows} rows in {time.monotonic() - started:.2f} s; "
                  f"RSS {peak.before / 1024:.1f} -> peak {peak.peak / 1024:.1f} MiB (+{(peak.peak - peak.before) / 1024:.1f})")
        for fmt in ["ndjson", "csv"]:
            for run in range(runs):
                with Peak(process.pid) as peak:
                    rows, seconds, size, last = export(port, fmt)
                print(f"{fmt} run {run + 1}: {rows} rows, {size / 1e6:.1f} MB in {seconds:.2f} s = "
                      f"{rows / seconds:,.0f} rows/s; RSS {peak.before / 1024:.1f} -> peak {peak.peak / 1024:.1f} MiB "
                      f"(+{(peak.peak - peak.before) / 1024:.1f})")
                if "INCOMPLETE" in last or "ExportError" in last:
                    print(f"  incomplete: {last[:300]}")
        if no_cache:
            with Peak(process.pid) as peak:
                rows, seconds, size, last = export(port, "ndjson", slow=True)
            print(f"ndjson read slowly: {rows} rows in {seconds:.2f} s; RSS {peak.before / 1024:.1f} -> peak "
                  f"{peak.peak / 1024:.1f} MiB (+{(peak.peak - peak.before) / 1024:.1f})")
            return
        answer, first = graphql(port, STATS)
        stats = answer.get("data", {}).get("callLogStats") or {}
        print(f"callLogStats, October 2026 by provider, status and day: first answer {first:.1f} ms, "
              f"{len(stats.get('buckets', []))} buckets, {stats.get('totals', {}).get('count')} calls, "
              f"complete {stats.get('complete')}, errors {answer.get('errors')}")
        times = [graphql(port, STATS)[1] for _ in range(20)]
        print(f"  repeated 20 times: median {statistics.median(times):.1f} ms, slowest {max(times):.1f} ms")
        print(f"  totals: {json.dumps(stats.get('totals'))}")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
