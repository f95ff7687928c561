#!/usr/bin/python3
"""A stand-in for cAdvisor in the real-engine test (Debian has no cAdvisor package).

:8080/healthz answers "ok"; :8080/metrics has container_* series for every running Docker
container (labels id, name, image like cAdvisor's), from the Docker API on
/var/run/docker.sock and the cgroup files under /sys/fs/cgroup (v1 or v2). Command-line flags
are accepted and ignored, except --port.
"""
import http.client
import json
import os
import signal
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "v0.49.1"
CGROUP = "/sys/fs/cgroup"
START = time.time()


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self._path)


def _containers():
    try:
        conn = _UnixConnection("/var/run/docker.sock")
        conn.request("GET", "/containers/json")
        return json.loads(conn.getresponse().read())
    except (OSError, ValueError, http.client.HTTPException):
        return []


def _read(*parts):
    try:
        with open(os.path.join(*parts)) as f:
            return f.read().strip()
    except OSError:
        return None


def _first(paths):
    for p in paths:
        v = _read(p)
        if v is not None:
            return v
    return None


def _stats(cid):
    """(cpu seconds, memory usage, working set, memory limit, quota, period) or Nones."""
    v1 = [os.path.join(CGROUP, "%s", "docker", cid), os.path.join(CGROUP, "%s", "system.slice", "docker-%s.scope" % cid)]
    v2 = [os.path.join(CGROUP, "system.slice", "docker-%s.scope" % cid), os.path.join(CGROUP, "docker", cid)]
    cpu = mem = ws = limit = quota = period = None
    usage = _first([os.path.join(p % "cpuacct", "cpuacct.usage") for p in v1 if "%s" in p] +
                   [os.path.join(p % "cpu,cpuacct", "cpuacct.usage") for p in v1])
    if usage is not None:
        cpu = int(usage) / 1e9
        mem_raw = _first([os.path.join(p % "memory", "memory.usage_in_bytes") for p in v1])
        mem = int(mem_raw) if mem_raw else None
        stat = _first([os.path.join(p % "memory", "memory.stat") for p in v1]) or ""
        inactive = dict(line.split() for line in stat.splitlines() if line).get("total_inactive_file", "0")
        ws = max(0, (mem or 0) - int(inactive)) if mem is not None else None
        lim = _first([os.path.join(p % "memory", "memory.limit_in_bytes") for p in v1])
        limit = int(lim) if lim and int(lim) < 2 ** 62 else 0
        q = _first([os.path.join(p % "cpu", "cpu.cfs_quota_us") for p in v1] + [os.path.join(p % "cpu,cpuacct", "cpu.cfs_quota_us") for p in v1])
        pr = _first([os.path.join(p % "cpu", "cpu.cfs_period_us") for p in v1] + [os.path.join(p % "cpu,cpuacct", "cpu.cfs_period_us") for p in v1])
        quota = int(q) if q and int(q) > 0 else None
        period = int(pr) if pr else None
        return cpu, mem, ws, limit, quota, period
    for p in v2:
        stat = _read(p, "cpu.stat")
        if stat is None:
            continue
        fields = dict(line.split() for line in stat.splitlines() if line)
        cpu = int(fields.get("usage_usec", 0)) / 1e6
        mem = int(_read(p, "memory.current") or 0)
        mstat = dict(line.split() for line in (_read(p, "memory.stat") or "").splitlines() if line)
        ws = max(0, mem - int(mstat.get("inactive_file", 0)))
        lim = _read(p, "memory.max") or "max"
        limit = 0 if lim == "max" else int(lim)
        cpumax = (_read(p, "cpu.max") or "max 100000").split()
        quota = None if cpumax[0] == "max" else int(cpumax[0])
        period = int(cpumax[1])
        return cpu, mem, ws, limit, quota, period
    return None


def _esc(v):
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics():
    now = time.time()
    lines = []
    series = {}

    def add(name, help_, kind, labels, value):
        if value is None:
            return
        if name not in series:
            series[name] = []
            lines.append("# HELP %s %s" % (name, help_))
            lines.append("# TYPE %s %s" % (name, kind))
        label_text = ",".join('%s="%s"' % (k, _esc(v)) for k, v in labels.items())
        lines.append("%s{%s} %s" % (name, label_text, repr(float(value)) if isinstance(value, float) else value))

    add("cadvisor_version_info", "A metric with a constant '1' value labeled by versions.", "gauge",
        {"cadvisorVersion": VERSION + "-imitation", "kernelVersion": os.uname().release, "osVersion": "Debian GNU/Linux 12 (bookworm)"}, 1)
    for c in _containers():
        cid = c.get("Id", "")
        s = _stats(cid)
        labels = {"id": "/docker/" + cid, "image": c.get("Image", ""), "name": (c.get("Names") or ["/"])[0].lstrip("/")}
        add("container_last_seen", "Last time a container was seen by the exporter", "gauge", labels, int(now))
        add("container_start_time_seconds", "Start time of the container since unix epoch in seconds.", "gauge", labels, c.get("Created"))
        if s is None:
            continue
        cpu, mem, ws, limit, quota, period = s
        add("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", "counter", {**labels, "cpu": "total"}, cpu)
        add("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed", "gauge", labels, mem)
        add("container_memory_working_set_bytes", "Current working set in bytes.", "gauge", labels, ws)
        add("container_spec_memory_limit_bytes", "Memory limit for the container.", "gauge", labels, limit)
        add("container_spec_cpu_quota", "CPU quota of the container.", "gauge", labels, quota)
        add("container_spec_cpu_period", "CPU period of the container.", "gauge", labels, period)
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    server_version = "cAdvisor-imitation/" + VERSION

    def do_GET(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            body, ctype, status = "ok", "text/plain; charset=utf-8", 200
        elif path == "/metrics":
            body, ctype, status = metrics(), "text/plain; version=0.0.4; charset=utf-8", 200
        else:
            body, ctype, status = "404 page not found\n", "text/plain; charset=utf-8", 404
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        pass


def main(argv):
    port = 8080
    for arg in argv:
        if arg.lstrip("-").startswith("port="):
            port = int(arg.split("=", 1)[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.stderr.write("I0000 cadvisor imitation %s listening on :%d (flags ignored: %s)\n" % (VERSION, port, " ".join(argv)))
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
