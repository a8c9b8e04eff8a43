# SPDX-License-Identifier: ISC
"""bench/run's body: see docs/benchmarks.md."""

import os
import pwd
import re
import socket
import subprocess
import sys
import time

from tern import Tern, wait_until, record_pid
from postfix import Postfix

N = int(os.environ.get("BENCH_MESSAGES", "5000"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "20"))
SIZE = int(os.environ.get("BENCH_SIZE", "5120"))
IDLE = int(os.environ.get("BENCH_IDLE", "5000"))
ONLY = os.environ.get("BENCH_ONLY", "")
TMP = os.environ["TERN_TEST_DIR"]
PORT_TERN, PORT_POSTFIX = 24500, 24501
SENDER, RCPT = "sender@bench.example", "user@bench.example"
results = {}


def count(d):
    try:
        return len(os.listdir(d))
    except FileNotFoundError:
        return 0


def smtp_source(port):
    argv = ["smtp-source", "-m", str(N), "-s", str(SESSIONS), "-l", str(SIZE),
            "-f", SENDER, "-t", RCPT, "127.0.0.1:%d" % port]
    print("# " + " ".join(argv), flush=True)
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure(port, newdir, label):
    """Runs smtp-source; returns messages/s from its start until N files
    are in newdir."""
    before = count(newdir)
    t0 = time.monotonic()
    p = smtp_source(port)
    record_pid(p.pid)
    # Poll new/; give up if nothing arrives for 30 s.
    last = [before, time.monotonic()]
    def progress():
        n = count(newdir)
        if n != last[0]:
            last[:] = [n, time.monotonic()]
        if time.monotonic() - last[1] > 30:
            return "stalled"
        return n - before >= N
    done = wait_until(progress, 900, interval=0.02) is True
    secs = time.monotonic() - t0
    _, err = p.communicate(timeout=120)
    if p.returncode != 0 or not done:
        print("# %s: smtp-source exit %d, %d/%d delivered: %s" %
              (label, p.returncode, count(newdir) - before, N, err.decode()[-500:]), flush=True)
        return None
    rate = N / secs
    print("%-8s %d messages of %d bytes, %d sessions: %.2f s, %.0f msg/s" %
          (label, N, SIZE, SESSIONS, secs, rate), flush=True)
    return rate


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def bench_tern():
    srv = Tern(0, "tern", max_sessions=IDLE + 1000, max_sessions_per_ip=IDLE + 1000,
               max_message_size="50M", log_level="warn")
    srv.port = PORT_TERN
    srv.listens = [("mx", "127.0.0.1:%d" % PORT_TERN, "mx")]
    srv.domain("bench.example", users=["user"])
    if not srv.start():
        sys.exit("bench: tern did not start")
    newdir = srv.maildir("bench.example", "user") + "/new"
    if ONLY in ("", "tern"):
        results["tern"] = measure(PORT_TERN, newdir, "tern")
    if ONLY in ("", "memory"):
        memory(srv)
    srv.stop()


def memory(srv):
    pid = srv.proc.pid
    base = rss_kb(pid)
    socks = []
    t0 = time.monotonic()
    try:
        for i in range(IDLE):
            s = socket.create_connection(("127.0.0.1", PORT_TERN), timeout=30)
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(512)
                if not chunk:
                    raise OSError("closed after %d connections" % i)
                buf += chunk
            if not buf.startswith(b"220"):
                raise OSError("connection %d greeted with %r" % (i, buf[:80]))
            socks.append(s)
    except OSError as e:
        print("# memory: %s" % e, flush=True)
    secs = time.monotonic() - t0
    time.sleep(1.0)
    held = rss_kb(pid)
    alive = srv.alive()
    print("memory   %d idle connections (opened in %.1f s): VmRSS %d KB before, %d KB holding, "
          "%.1f KB per connection%s" % (len(socks), secs, base, held,
                                          (held - base) / max(1, len(socks)),
                                          "" if alive else " (tern died)"), flush=True)
    results["memory"] = (len(socks), base, held)
    for s in socks:
        s.close()


def bench_postfix():
    base = os.path.join(TMP, "postfix")
    vmail = os.path.join(base, "vmail")
    os.makedirs(vmail, exist_ok=True)
    pw = pwd.getpwnam("nobody")
    os.chown(vmail, pw.pw_uid, pw.pw_gid)
    maps = os.path.join(base, "vmailbox")
    with open(maps, "w") as f:
        f.write("user@bench.example bench.example/user/\n")
    pf = Postfix(base, PORT_POSTFIX, extra={
        "virtual_mailbox_domains": "bench.example",
        "virtual_mailbox_base": vmail,
        "virtual_mailbox_maps": "texthash:" + maps,
        "virtual_uid_maps": "static:%d" % pw.pw_uid,
        "virtual_gid_maps": "static:%d" % pw.pw_gid,
        "virtual_minimum_uid": "1",
        "message_size_limit": "52428800",
        "virtual_mailbox_limit": "0",
        "queue_run_delay": "300s",
    }, hostname="bench-postfix.test.example")
    try:
        if not pf.start():
            print("# postfix did not start", flush=True)
            return
        results["postfix"] = measure(PORT_POSTFIX, os.path.join(vmail, "bench.example/user/new"),
                                     "postfix")
    finally:
        pf.stop()


print("# tern: %s" % os.environ["TERN_BIN"], flush=True)
print("# cpus: %d, %s" % (os.cpu_count(), open("/proc/loadavg").read().strip()), flush=True)
if ONLY in ("", "tern", "memory"):
    bench_tern()
if ONLY in ("", "postfix"):
    bench_postfix()
if results.get("tern") and results.get("postfix"):
    print("ratio    tern/postfix = %.2f" % (results["tern"] / results["postfix"]), flush=True)
