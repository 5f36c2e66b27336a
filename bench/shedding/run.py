#!/usr/bin/env python3
"""Issue 34's shedding cases, against a switchboard binary (stdlib only).

    python3 bench/shedding/run.py target/release/switchboard [--case window|breaker|all]

Starts the binary's emulator (`switchboard emulate`) and a gateway in front of it
(SignalWire only, cache off: every request goes upstream), drives 32 keep-alive clients
for the case's length, and injects a fault into the emulator while they run:

- window:  SignalWire answers 429 with Retry-After: 3 from t=2 s to t=4 s.
- breaker: SignalWire answers 503 from t=2 s to t=4 s (the circuit opens), then recovers.

Prints, per 500 ms, the requests answered (with data / with an error) and their longest
latency, then the longest latency of the run and, for `breaker`, how long after the fault
cleared the first answer with data came back.
"""
import http.client, json, os, socket, subprocess, sys, tempfile, threading, time

QUERY = json.dumps({"query": "{ signalWireVoiceLogs(first: 5) { edges { node { id } } } }"}).encode()
CLIENTS = 32


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, path="/healthz", timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port}")


def control(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, path, body=json.dumps(body).encode() if body else None,
              headers={"content-type": "application/json"})
    c.getresponse().read()


def run_case(binary, case, length=None):
    length = length or {"window": 10.0, "breaker": 16.0}[case]
    emu_port, gw_port = free_port(), free_port()
    emulator = subprocess.Popen([binary, "emulate", "--listen", f"127.0.0.1:{emu_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(emu_port, "/__emulator/stats")
    config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    config.write(f"""[server]
listen = "127.0.0.1:{gw_port}"
[cache]
max_bytes = 0
[providers.signalwire]
space_url = "http://127.0.0.1:{emu_port}"
project_id = "demo-project"
api_token = "demo-token"
""")
    config.close()
    gateway = subprocess.Popen([binary, "--config", config.name], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
    try:
        wait_for(gw_port)
        records, lock, stop = [], threading.Lock(), threading.Event()
        start = time.monotonic()

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", gw_port, timeout=60)
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    conn.request("POST", "/graphql", body=QUERY, headers={"content-type": "application/json"})
                    answer = json.loads(conn.getresponse().read())
                    ok = bool(answer.get("data")) and not answer.get("errors")
                except (OSError, http.client.HTTPException, ValueError):
                    conn = http.client.HTTPConnection("127.0.0.1", gw_port, timeout=60)
                    ok = False
                done = time.monotonic()
                with lock:
                    records.append((sent - start, done - start, ok))

        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        kind = {"window": {"kind": "status", "status": 429, "retry_after_seconds": 3},
                "breaker": {"kind": "status", "status": 503}}[case]
        time.sleep(2.0 - (time.monotonic() - start))
        control(emu_port, "POST", "/__emulator/faults", {**kind, "path_prefix": "/api/"})
        time.sleep(4.0 - (time.monotonic() - start))
        control(emu_port, "DELETE", "/__emulator/faults")
        cleared = time.monotonic() - start
        time.sleep(max(0.0, length - (time.monotonic() - start)))
        stop.set()
        for t in threads:
            t.join(timeout=70)
    finally:
        gateway.terminate()
        emulator.terminate()
        gateway.wait()
        emulator.wait()
        os.unlink(config.name)
    print(f"\n== {case}: {os.path.basename(os.path.dirname(os.path.dirname(binary)))} {binary}")
    print("  t (s)   data  error  longest (ms)")
    for b in range(int(length * 2)):
        lo, hi = b / 2, b / 2 + 0.5
        inside = [r for r in records if lo <= r[1] < hi]
        data = sum(1 for r in inside if r[2])
        longest = max((r[1] - r[0] for r in inside), default=0) * 1000
        print(f"  {lo:4.1f}  {data:6d} {len(inside) - data:6d}  {longest:10.0f}")
    longest = max(r[1] - r[0] for r in records)
    print(f"  longest wait of any request: {longest * 1000:.0f} ms; requests: {len(records)}")
    if case == "breaker":
        back = min((r[1] for r in records if r[2] and r[0] >= cleared), default=None)
        print(f"  first answer with data after the fault cleared: "
              + (f"{(back - cleared) * 1000:.0f} ms" if back else "none within the run"))


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/switchboard")
    case = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--case" else "all"
    for c in (["window", "breaker"] if case == "all" else [case]):
        run_case(binary, c)


if __name__ == "__main__":
    main()
