# SPDX-License-Identifier: ISC
"""bench/run's body: see docs/benchmarks.md.

Parts (BENCH_ONLY selects one): tern and postfix (receive into Maildir),
memory (idle connections), relay (smtp-source -> tern or Postfix ->
smtp-sink, outbound throughput; BENCH_ONLY=relay runs both servers)."""

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time

from tern import Tern, wait_until, record_pid, spawn, stop_proc, wait_port
from postfix import Postfix

N = int(os.environ.get("BENCH_MESSAGES", "5000"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "20"))
SIZE = int(os.environ.get("BENCH_SIZE", "5120"))
IDLE = int(os.environ.get("BENCH_IDLE", "5000"))
ONLY = os.environ.get("BENCH_ONLY", "")
TMP = os.environ["TERN_TEST_DIR"]
PORT_TERN, PORT_POSTFIX, PORT_SINK = 24500, 24501, 24502
SENDER, RCPT = "sender@bench.example", "user@bench.example"
RELAY_CONNS = int(os.environ.get("BENCH_RELAY_CONNECTIONS", "20"))
FS = os.environ.get("BENCH_FS", "image")
results = {}


def fresh_fs(label):
    """A directory for one server's run.  BENCH_FS=image (the
    default, as root): a new ext4 file system (mkfs.ext4 defaults, with
    its journal, but its inode tables written at once rather than by a
    kernel thread during the run) in a 2 GiB sparse image under TMP,
    loop-mounted, so
    that each server starts from the same empty file system whatever the
    machine did before; BENCH_FS=tmp, or no root: a directory in TMP."""
    d = os.path.join(TMP, label + "-fs")
    os.makedirs(d, exist_ok=True)
    if FS == "tmp" or os.getuid() != 0 or shutil.which("mkfs.ext4") is None:
        print("# %s: file system of %s" % (label, TMP), flush=True)
        return d
    img = os.path.join(TMP, label + "-fs.img")
    with open(img, "wb") as f:
        f.truncate(2 << 30)
    ok = subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                         img]).returncode == 0
    # Direct I/O to the image: the loop device does not keep a second
    # copy of each block in the page cache, and a flush reaches the disk.
    dev = subprocess.run(["losetup", "--find", "--show", "--direct-io=on", img],
                         capture_output=True, text=True) if ok else None
    ok = ok and dev.returncode == 0 and \
        subprocess.run(["mount", dev.stdout.strip(), d]).returncode == 0
    if not ok:
        print("# %s: no fresh file system (mkfs or mount failed), using %s" % (label, TMP),
              flush=True)
        return d
    os.chmod(d, 0o755)
    print("# %s: a fresh ext4 file system (2 GiB image, loop-mounted at %s)" % (label, d),
          flush=True)
    return d


def release_fs(d):
    if os.path.ismount(d):
        subprocess.run(["umount", d])
    img = d + ".img"
    if os.path.exists(img):
        out = subprocess.run(["losetup", "-j", img], capture_output=True, text=True).stdout
        for line in out.splitlines():
            subprocess.run(["losetup", "-d", line.split(":")[0]])


def count(d):
    try:
        return len(os.listdir(d))
    except FileNotFoundError:
        return 0


def io_pressure():
    """The share of the last 10 s in which some task waited for I/O (%),
    or None without /proc/pressure (PSI)."""
    try:
        with open("/proc/pressure/io") as f:
            return float(re.search(r"some avg10=([0-9.]+)", f.read()).group(1))
    except (OSError, AttributeError, ValueError):
        return None


def settle(label):
    """Waits (at most 120 s) until the disk is quiet: the previous run's
    unmount or deletions must not write back during this one."""
    t0 = time.monotonic()
    p = io_pressure()
    while p is not None and p > 1.0 and time.monotonic() - t0 < 120:
        time.sleep(1)
        p = io_pressure()
    if p is not None:
        print("# %s: waited %.0f s for a quiet disk (I/O pressure %.1f %%)" %
              (label, time.monotonic() - t0, p), flush=True)


def smtp_source(port, rcpt=RCPT):
    argv = ["smtp-source", "-m", str(N), "-s", str(SESSIONS), "-l", str(SIZE),
            "-f", SENDER, "-t", rcpt, "127.0.0.1:%d" % port]
    print("# " + " ".join(argv), flush=True)
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure(port, newdir, label):
    """Runs smtp-source; returns messages/s from its start until N files
    are in newdir."""
    settle(label)
    before = count(newdir)
    t0 = time.monotonic()
    p = smtp_source(port)
    record_pid(p.pid)
    # Poll new/; give up if nothing arrives for 30 s.
    last = [before, time.monotonic()]
    sent = [None]
    def progress():
        if sent[0] is None and p.poll() is not None:
            sent[0] = time.monotonic() - t0
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
    print("%-8s %d messages of %d bytes, %d sessions: %.2f s, %.0f msg/s "
          "(smtp-source done after %.2f s)" %
          (label, N, SIZE, SESSIONS, secs, rate, sent[0] if sent[0] is not None else secs),
          flush=True)
    return rate


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def bench_tern():
    fs = fresh_fs("tern")
    srv = Tern(0, os.path.join(fs, "tern"), max_sessions=IDLE + 1000,
               max_sessions_per_ip=IDLE + 1000, max_message_size="50M", log_level="warn")
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
    release_fs(fs)


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
    fs = fresh_fs("postfix")
    base = os.path.join(fs, "postfix")
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
        release_fs(fs)


# --------------------------------------------------------------------------
# relay: smtp-source -> server -> smtp-sink


def sink_start(label):
    """smtp-sink on 127.0.0.1:PORT_SINK counting messages (-c)."""
    out = os.path.join(TMP, "sink-%s.out" % label)
    argv = ["smtp-sink", "-c", "-u", "nobody", "127.0.0.1:%d" % PORT_SINK, "1024"]
    if os.getuid() != 0:
        argv = ["smtp-sink", "-c", "127.0.0.1:%d" % PORT_SINK, "1024"]
    p = spawn(argv, out)
    if not wait_port("127.0.0.1", PORT_SINK, 15, p):
        print("# smtp-sink did not start", flush=True)
        return None, out
    return p, out


def sink_count(out):
    """Messages smtp-sink has received (its last "mesg=N" counter)."""
    try:
        with open(out, "rb") as f:
            f.seek(max(0, os.path.getsize(out) - 4096))
            m = re.findall(rb"mesg=(\d+)", f.read())
    except OSError:
        return 0
    return int(m[-1]) if m else 0


def measure_relay(port, rcpt, out, label, drained):
    """messages/s from smtp-source's start until smtp-sink has N more
    messages; drained() must then be true (the server's queue empty)."""
    settle("relay-" + label)
    before = sink_count(out)
    t0 = time.monotonic()
    p = smtp_source(port, rcpt)
    record_pid(p.pid)
    last = [before, time.monotonic()]

    def progress():
        n = sink_count(out)
        if n != last[0]:
            last[:] = [n, time.monotonic()]
        if time.monotonic() - last[1] > 30:
            return "stalled"
        return n - before >= N
    done = wait_until(progress, 900, interval=0.02) is True
    secs = time.monotonic() - t0
    _, err = p.communicate(timeout=120)
    if p.returncode != 0 or not done:
        print("# relay %s: smtp-source exit %d, %d/%d at the sink: %s" %
              (label, p.returncode, sink_count(out) - before, N, err.decode()[-500:]), flush=True)
        return None
    if not wait_until(drained, 30):
        print("# relay %s: queue not empty after the sink had all messages" % label, flush=True)
    rate = N / secs
    print("relay-%-7s %d messages of %d bytes, %d sessions in, to smtp-sink: %.2f s, %.0f msg/s" %
          (label, N, SIZE, SESSIONS, secs, rate), flush=True)
    return rate


def bench_relay_tern():
    from outbound import TernOut, outbound_supported
    ok, why = outbound_supported(os.environ["TERN_BIN"])
    if not ok:
        print("# relay tern: skipped, this tern has no outbound delivery: %s" %
              why.splitlines()[0] if why else "", flush=True)
        return
    sink, out = sink_start("tern")
    if sink is None:
        return
    fs = fresh_fs("tern-relay")
    srv = TernOut(0, os.path.join(fs, "tern-relay"), max_sessions=1000,
                  max_sessions_per_ip=1000, max_message_size="50M", log_level="warn")
    srv.port = PORT_TERN
    srv.listens = [("mx", "127.0.0.1:%d" % PORT_TERN, "mx")]
    srv.domain("bench.example", users=["user"], aliases={"relay": ["user@sink.test"]})
    srv.queue(mx_port=25, max_connections=100, max_connections_per_domain=RELAY_CONNS)
    srv.relay(host="127.0.0.1:%d" % PORT_SINK, tls="none")
    try:
        if not srv.start():
            print("# relay tern: tern did not start", flush=True)
            return
        results["relay-tern"] = measure_relay(PORT_TERN, "relay@bench.example", out, "tern",
                                              lambda: srv.queue_ids() == [])
        srv.stop()
    finally:
        stop_proc(sink, 5)
        release_fs(fs)


def bench_relay_postfix():
    sink, out = sink_start("postfix")
    if sink is None:
        return
    fs = fresh_fs("postfix-relay")
    pf = Postfix(os.path.join(fs, "postfix-relay"), PORT_POSTFIX,
                 relayhost="[127.0.0.1]:%d" % PORT_SINK, extra={
                     "default_transport": "smtp",
                     "queue_run_delay": "300s",
                     "default_destination_concurrency_limit": str(RELAY_CONNS),
                 }, hostname="bench-postfix-relay.test.example")
    try:
        if not pf.start():
            print("# relay postfix: postfix did not start", flush=True)
            return
        results["relay-postfix"] = measure_relay(PORT_POSTFIX, "user@sink.test", out, "postfix",
                                                 lambda: pf.queue_count() == 0)
    finally:
        pf.stop()
        stop_proc(sink, 5)
        release_fs(fs)


print("# tern: %s" % os.environ["TERN_BIN"], flush=True)
print("# cpus: %d, %s" % (os.cpu_count(), open("/proc/loadavg").read().strip()), flush=True)
if ONLY in ("", "tern", "memory"):
    bench_tern()
if ONLY in ("", "postfix"):
    bench_postfix()
if results.get("tern") and results.get("postfix"):
    print("ratio    tern/postfix = %.2f" % (results["tern"] / results["postfix"]), flush=True)
if ONLY in ("", "relay"):
    bench_relay_tern()
    bench_relay_postfix()
if results.get("relay-tern") and results.get("relay-postfix"):
    print("ratio    relay tern/postfix = %.2f" %
          (results["relay-tern"] / results["relay-postfix"]), flush=True)
