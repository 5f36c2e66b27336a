#!/usr/bin/env python3
"""Load harness behind peers/bench.sh: same GraphQL bodies, same upstream, one table.

For every scenario and every target (the REST baseline first, then each gateway) it:
  1. checks one response (HTTP 200, no "errors", the expected data is there);
  2. warms up (oha for --warmup, not recorded);
  3. POSTs /__reset to the fake upstream, samples the gateway's RSS and CPU from /proc
     every 100 ms while oha runs for --duration with --connections keep-alive connections;
  4. reads /__stats: upstream requests / client requests;
  5. checks one response again.
The gateway process is found by its listening port (/proc/net/tcp -> socket inode -> pid);
RSS and CPU are summed over that pid and its descendants.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
PEERS = HERE.parent
SCENARIOS = {
    "a": "voiceLog by id, 5 fields",
    "b": "voiceLogs page of 20",
    "c": "voiceLog by id + events",
    "d": "voiceLog, 200 ids in turn",
}
# REST call the baseline row makes for each scenario (the gateway's first/only upstream call).
BASELINE_PATHS = {
    "a": "/api/voice/logs/{id}",
    "b": "/api/voice/logs?page_size=20",
    "c": "/api/voice/logs/{id}/events",
    "d": "/api/voice/logs/{id}",
}
ROTATING_IDS = 200  # scenario d: bodies (or REST URLs) cycle through this many distinct ids
PAGE_SIZE = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# /proc helpers


def listening_pids(port: int) -> list[int]:
    inodes = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(f).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            for fd in (p / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.append(int(p.name))
                    break
        except OSError:
            continue
    return sorted(pids)


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(p.name))
    return kids


def process_tree(roots: list[int]) -> list[int]:
    kids = _children_map()
    seen, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(kids.get(pid, []))
    return sorted(seen)


def rss_kib(pids) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    return total


def cpu_ticks(pids) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except OSError:
            pass
    return total


class Sampler(threading.Thread):
    """Peak RSS (sum over the process tree) and CPU time while a load run is going."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots = roots
        self.stop_ev = threading.Event()
        self.peak_kib = 0
        self.pids = process_tree(roots) if roots else []
        self.cpu0 = cpu_ticks(self.pids)
        self.t0 = time.monotonic()

    def run(self):
        n = 0
        while not self.stop_ev.is_set():
            if n % 10 == 0 and self.roots:  # pick up forked workers
                self.pids = process_tree(self.roots)
            self.peak_kib = max(self.peak_kib, rss_kib(self.pids))
            n += 1
            self.stop_ev.wait(0.1)

    def finish(self):
        self.stop_ev.set()
        self.join()
        wall = time.monotonic() - self.t0
        cpu = (cpu_ticks(self.pids) - self.cpu0) / CLK_TCK
        return self.peak_kib / 1024.0, (100.0 * cpu / wall if wall > 0 else 0.0)


# ---------------------------------------------------------------------------
# HTTP helpers


# What oha 1.16 sends unless told --disable-compression.
LOAD_ACCEPT_ENCODING = "gzip, compress, deflate, br"


def http(method, url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def auth_header() -> str:
    user = os.environ.get("SW_PROJECT_ID", "0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f")
    token = os.environ.get("SW_API_TOKEN", "bench-token")
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


def find_lists(obj, out):
    if isinstance(obj, list):
        out.append(len(obj))
        for x in obj:
            find_lists(x, out)
    elif isinstance(obj, dict):
        for v in obj.values():
            find_lists(v, out)
    return out


def check(scenario: str, status: int, body: bytes, log_id: str, graphql: bool) -> str:
    """'ok' or a short reason."""
    if status != 200:
        return f"HTTP {status}"
    try:
        doc = json.loads(body)
    except ValueError:
        return "not JSON"
    if graphql:
        if doc.get("errors"):
            msg = str(doc["errors"][0].get("message", ""))[:60]
            return f"errors: {msg}"
        if not doc.get("data"):
            return "no data"
    text = body.decode("utf-8", "replace")
    lists = find_lists(doc, [])
    if scenario in ("a", "c", "d") and log_id not in text:
        return "id missing"
    if scenario == "b" and PAGE_SIZE not in lists:
        return f"no list of {PAGE_SIZE}"
    if scenario == "c" and not any(n >= 3 for n in lists):
        return "no events"
    return "ok"


# ---------------------------------------------------------------------------
# load tools


class Oha:
    name = "oha"

    def __init__(self, path):
        self.path = path
        self.version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()

    def run(self, url, method, headers, body_file, duration, conns, lines=False):
        """lines: body_file holds one body per line (POST), or url is a file of URLs (GET)."""
        cmd = [self.path, "-z", duration, "-c", str(conns), "-w", "--no-tui",
               "--output-format", "json", "-m", method]
        for h in headers:
            cmd += ["-H", h]
        if body_file:
            cmd += ["-Z" if lines else "-D", body_file]
        if lines and not body_file:
            cmd.append("--urls-from-file")
        cmd.append(url)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=parse_secs(duration) + 60)
        if p.returncode != 0:
            raise RuntimeError(f"oha failed: {p.stderr[-500:]}")
        d = json.loads(p.stdout)
        codes = {int(k): v for k, v in (d.get("statusCodeDistribution") or {}).items()}
        errs = sum((d.get("errorDistribution") or {}).values())
        responses = sum(codes.values())
        non2xx = sum(v for k, v in codes.items() if not 200 <= k < 300)
        pct = d.get("latencyPercentiles") or {}
        return {
            "rps": d["summary"]["requestsPerSec"],
            "p50_ms": (pct.get("p50") or 0) * 1000,
            "p99_ms": (pct.get("p99") or 0) * 1000,
            "requests": responses + errs,
            "responses": responses,
            "errors": errs + non2xx,
            "size_per_request": d["summary"].get("sizePerRequest"),
            "error_kinds": d.get("errorDistribution") or {},
        }


WRK_LUA = r"""
local body_file = os.getenv("BENCH_BODY_FILE")
local lines_file = os.getenv("BENCH_LINES_FILE")
wrk.method = os.getenv("BENCH_METHOD") or "GET"
if body_file and body_file ~= "" then
  local f = io.open(body_file, "rb"); wrk.body = f:read("*a"); f:close()
end
local hdrs = os.getenv("BENCH_HEADERS") or ""
for k, v in string.gmatch(hdrs, "([^:\n]+):%s*([^\n]+)") do wrk.headers[k] = v end
local nthreads = 0
setup = function(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
if lines_file and lines_file ~= "" then
  local items, i = {}, 0
  init = function(args) i = (tid or 0) * 101 end  -- threads start at different ids
  for l in io.lines(lines_file) do if l ~= "" then items[#items + 1] = l end end
  local is_body = os.getenv("BENCH_LINES_ARE_BODIES") == "1"
  request = function()
    i = i % #items + 1
    if is_body then return wrk.format(nil, nil, nil, items[i]) end
    return wrk.format(nil, items[i])
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


class Wrk:
    name = "wrk"

    def __init__(self, path):
        self.path = path
        p = subprocess.run([path, "-v"], capture_output=True, text=True)
        self.version = (p.stdout + p.stderr).strip().splitlines()[0]
        fd, self.lua = tempfile.mkstemp(suffix=".lua", prefix="bench-wrk-")
        os.write(fd, WRK_LUA.encode())
        os.close(fd)

    def run(self, url, method, headers, body_file, duration, conns, lines=False):
        env = dict(os.environ, BENCH_BODY_FILE="" if lines else (body_file or ""), BENCH_METHOD=method,
                   BENCH_HEADERS="\n".join(headers), BENCH_LINES_FILE="", BENCH_LINES_ARE_BODIES="0")
        if lines and body_file:
            env.update(BENCH_LINES_FILE=body_file, BENCH_LINES_ARE_BODIES="1")
        elif lines:  # url is a file of absolute URLs: wrk needs the base URL and paths
            urls = Path(url).read_text().split()
            sp = urlsplit(urls[0])
            pf = url + ".paths"
            Path(pf).write_text("\n".join(urlsplit(u).path + ("?" + urlsplit(u).query if urlsplit(u).query else "")
                                          for u in urls) + "\n")
            env.update(BENCH_LINES_FILE=pf)
            url = f"{sp.scheme}://{sp.netloc}/"
        cmd = [self.path, "-t", "2", "-c", str(conns), "-d", duration, "--timeout", "10s",
               "-s", self.lua, url]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=parse_secs(duration) + 60)
        m = re.search(r"BENCHJSON (\{.*\})", p.stdout)
        if not m:
            raise RuntimeError(f"wrk failed: {p.stdout[-300:]} {p.stderr[-300:]}")
        d = json.loads(m.group(1))
        errs = d["connect"] + d["read"] + d["write"] + d["timeout"]
        return {
            "rps": d["requests"] / (d["duration_us"] / 1e6),
            "p50_ms": d["p50_us"] / 1000,
            "p99_ms": d["p99_us"] / 1000,
            "requests": d["requests"] + errs,
            "responses": d["requests"],
            "errors": errs + d["status"],
            "size_per_request": None,  # wrk counts header bytes too
            "error_kinds": {},
        }


def parse_secs(s: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", s)
    if not m:
        raise SystemExit(f"bad duration {s!r}")
    v = float(m.group(1))
    return {"ms": v / 1000, "m": v * 60}.get(m.group(2), v)


def pick_tool(name: str):
    if name in ("auto", "oha"):
        path = os.environ.get("OHA") or shutil.which("oha")
        if path:
            return Oha(path)
        if name == "oha":
            raise SystemExit("oha not found (set OHA=/path/to/oha)")
    path = os.environ.get("WRK") or shutil.which("wrk")
    if path:
        return Wrk(path)
    raise SystemExit("neither oha nor wrk found")


# ---------------------------------------------------------------------------
# main


def parse_target(spec: str):
    """NAME=URL[,queries=DIR][,ids=FILE]

    queries: directory of {a,b,c,d}_*.graphql files for this gateway's schema.
    ids: file with one id per line, in the order of the upstream's /__ids (line 1 = the fixed
    id): what this gateway's queries need instead of the native id (e.g. a Relay global id).
    """
    name, _, rest = spec.partition("=")
    if not name or not rest:
        raise SystemExit(f"bad gateway spec {spec!r}: want NAME=URL[,queries=DIR][,ids=FILE]")
    url, *opts = rest.split(",")
    t = {"name": name, "url": url, "queries": str(PEERS / "queries" / "peers")}
    for o in opts:
        k, _, v = o.partition("=")
        if k == "queries":
            t["queries"] = v
        elif k == "ids":
            t["ids"] = [line.strip() for line in Path(v).read_text().splitlines() if line.strip()]
        else:
            raise SystemExit(f"unknown option {k!r} in {spec!r}")
    return t


def load_body(qdir: str, scenario: str, log_id: str) -> bytes:
    """Body of scenario's query file; d falls back to a's query (same shape, other ids)."""
    files = []
    for sc in (scenario, "a") if scenario == "d" else (scenario,):
        files = sorted(Path(qdir).glob(f"{sc}_*.graphql")) or sorted(Path(qdir).glob(f"{sc}.graphql"))
        if files:
            break
    if not files:
        raise SystemExit(f"no query file {scenario}_*.graphql in {qdir}")
    text = files[0].read_text().replace("__ID__", log_id)
    # strip comment lines so the body is what the gateway parses
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")).strip()
    return json.dumps({"query": text}).encode()


def main(argv=None):
    ap = argparse.ArgumentParser(description="GraphQL gateway vs REST baseline load harness")
    ap.add_argument("targets", nargs="*", help="NAME=URL[,queries=DIR][,ids=FILE] per gateway (GraphQL endpoint URL)")
    ap.add_argument("-u", "--upstream", default="http://127.0.0.1:8091", help="fake upstream base URL")
    ap.add_argument("-d", "--duration", default="10s")
    ap.add_argument("-c", "--connections", type=int, default=32)
    ap.add_argument("-w", "--warmup", default="2s", help="warm-up per run, not recorded ('0' = none)")
    ap.add_argument("-s", "--scenarios", default="a,b,c,d")
    ap.add_argument("-o", "--out", help="write the markdown table here too")
    ap.add_argument("--json", help="write raw results as JSON here")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--tool", default="auto", choices=["auto", "oha", "wrk"])
    ap.add_argument("--id", help="voice log id for scenarios a and c (default: first id upstream)")
    args = ap.parse_args(argv)

    upstream = args.upstream.rstrip("/")
    tool = pick_tool(args.tool)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIOS:
            raise SystemExit(f"unknown scenario {s!r}; known: {', '.join(SCENARIOS)}")

    ids = [args.id] if args.id else []
    if not ids or "d" in scenarios:
        n = ROTATING_IDS if "d" in scenarios else 1
        try:
            st, body = http("GET", upstream + f"/__ids?n={n}")
        except OSError as e:
            st, body = str(e), b""
        if st != 200:
            raise SystemExit(f"fake upstream not answering at {upstream}/__ids ({st}); pass --id")
        ids = ([args.id] if args.id else []) + [i for i in json.loads(body) if i != args.id]
    auth = auth_header()

    targets = []
    if not args.no_baseline:
        targets.append({"name": "baseline (REST direct)", "url": upstream, "baseline": True})
    targets += [parse_target(t) for t in args.targets]
    for t in targets:
        port = urlsplit(t["url"]).port or 80
        t["pids"] = listening_pids(port)
        if not t["pids"]:
            print(f"warning: no process found listening on port {port} ({t['name']}); RSS/CPU not measured",
                  file=sys.stderr)
        t["idle_rss_mib"] = rss_kib(process_tree(t["pids"])) / 1024.0 if t["pids"] else None

    tmpdir = tempfile.mkdtemp(prefix="bench-")
    results = []
    started = dt.datetime.now(dt.timezone.utc)
    for s in scenarios:
        for t in targets:
            base = t.get("baseline", False)
            lines = s == "d"
            t_ids = t.get("ids") or ids
            log_id, rot_ids = t_ids[0], t_ids[:ROTATING_IDS]
            stem = os.path.join(tmpdir, f"{t['name']}-{s}".replace("/", "_"))
            if base:
                url = upstream + BASELINE_PATHS[s].replace("{id}", log_id)
                method, headers, bfile, body = "GET", [f"Authorization: {auth}"], None, None
                load_url = url
                if lines:
                    load_url = stem + ".urls"
                    Path(load_url).write_text("".join(upstream + BASELINE_PATHS[s].replace("{id}", i) + "\n"
                                                      for i in rot_ids))
            else:
                url = load_url = t["url"]
                body = load_body(t["queries"], s, log_id)
                bfile = stem + ".json"
                if lines:
                    Path(bfile).write_bytes(b"".join(load_body(t["queries"], s, i) + b"\n" for i in rot_ids))
                else:
                    Path(bfile).write_bytes(body)
                method, headers = "POST", ["Content-Type: application/json"]
            hdrs = dict(h.split(": ", 1) for h in headers)
            st, resp = http(method, url, body, hdrs)
            pre = check(s, st, resp, log_id, not base)
            row = {"scenario": s, "target": t["name"], "url": url, "check": pre,
                   "body_bytes": len(resp)}
            print(f"[bench] {s} {t['name']}: check {pre}", file=sys.stderr, flush=True)
            if pre != "ok":
                row.update(rps=None)
                results.append(row)
                continue
            if parse_secs(args.warmup) > 0:
                tool.run(load_url, method, headers, bfile, args.warmup, args.connections, lines)
            try:
                http("POST", upstream + "/__reset")
            except OSError:
                pass
            sampler = Sampler(t["pids"])
            sampler.start()
            r = tool.run(load_url, method, headers, bfile, args.duration, args.connections, lines)
            peak_mib, cpu_pct = sampler.finish()
            try:  # an upstream without the admin routes gives "-" here
                st2, stats = http("GET", upstream + "/__stats")
                up = json.loads(stats)["requests"] if st2 == 200 else None
            except (OSError, ValueError, KeyError):
                up = None
            st, resp = http(method, url, body, hdrs)
            post = check(s, st, resp, log_id, not base)
            size = r.get("size_per_request")
            # oha sends this Accept-Encoding; a target that compresses sends the load tool
            # fewer bytes than the uncompressed check got, so compare with what oha gets.
            _, sent = http(method, url, body, {**hdrs, "Accept-Encoding": LOAD_ACCEPT_ENCODING})
            size_ok = size is None or lines or abs(size - len(sent)) <= max(2, 0.01 * len(sent))
            row.update(r)
            row.update({
                "upstream_requests": up,
                "upstream_per_request": (up / r["responses"]) if up is not None and r["responses"] else None,
                "peak_rss_mib": peak_mib if t["pids"] else None,
                "cpu_pct": cpu_pct if t["pids"] else None,
                "check": pre if post == "ok" else f"after: {post}",
                "size_ok": size_ok,
            })
            results.append(row)
            print(f"[bench] {s} {t['name']}: {r['rps']:.0f} rps, p50 {r['p50_ms']:.2f} ms, "
                  f"p99 {r['p99_ms']:.2f} ms, errors {r['errors']}, upstream {up}",
                  file=sys.stderr, flush=True)

    md = render(results, targets, scenarios, args, tool, ids[0], started)
    print(md)
    if args.out:
        Path(args.out).write_text(md)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "id": ids[0], "tool": tool.version,
                                               "idle_rss_mib": {t["name"]: t.get("idle_rss_mib") for t in targets},
                                               "results": results}, indent=1))
    shutil.rmtree(tmpdir, ignore_errors=True)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


# The pairs compared (README, "The pairs that are compared"): each switchboard row against
# its like-for-like Tailcall row, with the RPS-per-core ratio each must reach.
PAIRS = [
    ("switchboard", "tailcall-cache-validated", 1.5, "answers reused"),
    ("switchboard-noreuse", "tailcall-cache-validated", 1.5, "executed path, record cache warm"),
    ("switchboard-nocache", "tailcall-validated", 1.0, "cold path, every request upstream"),
]


def ratio_table(results) -> list[str]:
    """Each switchboard row against its like-for-like peer, per scenario: RPS per core and
    p99, as ratios, and whether the pair's target is met (the ratio, and for the 1.5x
    pairs a lower p99 too). Empty when no pair has both rows."""
    rows = {(r["scenario"], r["target"]): r for r in results if r.get("rps") and r.get("cpu_pct")}
    per_core = lambda r: r["rps"] * 100 / r["cpu_pct"]
    out = []
    for subject, yardstick, target, what in PAIRS:
        lines = []
        for scenario in SCENARIOS:
            us, them = rows.get((scenario, subject)), rows.get((scenario, yardstick))
            if not us or not them:
                continue
            ratio = per_core(us) / per_core(them)
            met = ratio >= target and (target < 1.5 or us["p99_ms"] < them["p99_ms"])
            lines.append(
                f"| {scenario} {SCENARIOS[scenario]} | {per_core(us):.0f} | {per_core(them):.0f} | **{ratio:.2f}x** | "
                f"{us['p99_ms']:.2f} | {them['p99_ms']:.2f} | {'yes' if met else 'no'} |")
        if lines:
            out += ["", f"{subject} against {yardstick}, {what} (the target: at least {target}x the RPS per core"
                    + (", and a lower p99" if target >= 1.5 else "") + "):", "",
                    f"| scenario | {subject} RPS/core | {yardstick} RPS/core | ratio | {subject} p99 ms | {yardstick} p99 ms | met |",
                    "|---|---:|---:|---:|---:|---:|---|"] + lines
    return out


def render(results, targets, scenarios, args, tool, log_id, started) -> str:
    out = [
        f"Run {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu_model()}); "
        f"{tool.version}; {args.duration} per run after {args.warmup} warm-up, "
        f"{args.connections} connections, HTTP/1.1 keep-alive; upstream {args.upstream}; id {log_id}.",
        "",
        "| scenario | target | RPS | p50 ms | p99 ms | errors % | upstream req / client req | peak RSS MiB | CPU % | RPS per core | check |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if r.get("rps") is None:
            out.append(f"| {r['scenario']} {SCENARIOS[r['scenario']]} | {r['target']} | - | - | - | - | - | - | - | - | {r['check']} |")
            continue
        err = 100.0 * r["errors"] / r["requests"] if r["requests"] else 0.0
        chk = r["check"] + ("" if r.get("size_ok", True) else " (avg body size differs: errors under load?)")
        out.append(
            f"| {r['scenario']} {SCENARIOS[r['scenario']]} | {r['target']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {err:.2f} | {fmt(r['upstream_per_request'], '.3f')} | "
            f"{fmt(r['peak_rss_mib'], '.0f')} | {fmt(r['cpu_pct'], '.0f')} | "
            f"{fmt(r['rps'] * 100 / r['cpu_pct'] if r.get('cpu_pct') else None, '.0f')} | {chk} |")
    out += ratio_table(results)
    out += [
        "",
        "RSS before the first run (MiB): " + ", ".join(
            f"{t['name']} {fmt(t.get('idle_rss_mib'), '.0f')}" for t in targets) + ".",
        "",
        "RPS/p50/p99 from the load tool; errors = transport errors + non-2xx; "
        "upstream req / client req = fake upstream /__stats requests during the timed run / responses; "
        "peak RSS and CPU % (100 = one core) summed over the process tree listening on the target's port, "
        "sampled every 100 ms; RPS per core = RPS / (CPU % / 100), the target's own CPU only (the load "
        "tool, the upstream and the target share the machine); check = one request before and after the run (HTTP 200, no GraphQL errors, "
        "expected id / list of 20 / events present).",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
