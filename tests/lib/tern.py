# SPDX-License-Identifier: ISC
"""Helpers for tern's integration tests (run with /usr/bin/python3).

A test script does:

    sys.path.insert(0, os.path.join(os.environ["TERN_ROOT"], "tests/lib"))
    from tern import Tap, Tern, Raw

    t = Tap()
    srv = Tern(test_no=2, name="smtplib")        # temp dir, ports
    srv.domain("example.test", users=["alice", "bob"],
               aliases={"sales": ["alice", "bob"]}, catch_all=None)
    srv.start()                                  # writes config, waits for port
    ... drive it ...
    t.ok(srv.wait_maildir("example.test", "alice", 1), "delivered")
    srv.stop()
    t.done()                                     # exits 0 iff all ok

Every process started here is recorded in $TERN_TEST_DIR/pids (one PID a
line) so the run.sh trap can stop it even if Python dies; Python stops them
itself on normal exit or SIGTERM.
"""

import atexit
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def tern_bin():
    """The tern binary under test: $TERN_BIN, else build/san/tern."""
    b = os.environ.get("TERN_BIN") or os.path.join(ROOT, "build/san/tern")
    return os.path.abspath(b)


# --------------------------------------------------------------------------
# TAP-ish output


class Tap:
    """Prints "ok - desc" / "not ok - desc" lines; done() exits."""

    def __init__(self):
        self.n_ok = 0
        self.n_fail = 0

    def ok(self, cond, desc, diag=None):
        desc = desc.replace("\n", " ")
        if cond:
            self.n_ok += 1
            print("ok - " + desc, flush=True)
        else:
            self.n_fail += 1
            print("not ok - " + desc, flush=True)
            if diag is not None:
                self.diag(diag)
        return bool(cond)

    def eq(self, got, want, desc, diag=None):
        d = "got %r, want %r" % (got, want)
        if diag is not None:
            d += "\n" + str(diag)
        return self.ok(got == want, desc, d)

    def reply(self, got, code, enh, desc):
        """got: (code, text) from smtplib or Raw.  Asserts the code and that
        the text starts with the enhanced status code enh (None: any)."""
        gcode, text = got[0], got[1]
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        good = gcode == code
        if enh is not None:
            good = good and text.startswith(enh)
        return self.ok(good, desc, "got %r %r, want %d %s" % (gcode, text, code, enh))

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("#   " + line, flush=True)

    def skip(self, desc, why):
        self.n_ok += 1
        print("ok - %s # SKIP %s" % (desc, why), flush=True)

    def done(self):
        print("# %d ok, %d not ok" % (self.n_ok, self.n_fail), flush=True)
        sys.exit(1 if self.n_fail else 0)


def wait_until(pred, timeout=10.0, interval=0.02):
    """Polls pred() until it returns a true value or timeout seconds pass.
    Returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)


def port_open(host, port, timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host, port, timeout=15.0, proc=None):
    """Waits until host:port accepts a TCP connection (False if proc dies)."""
    def probe():
        if proc is not None and proc.poll() is not None:
            return "dead"
        return port_open(host, port)
    return wait_until(probe, timeout) is True


def wait_port_closed(host, port, timeout=10.0):
    return wait_until(lambda: not port_open(host, port), timeout)


# --------------------------------------------------------------------------
# process bookkeeping

_pidfile = None
_procs = []


def test_dir():
    """The test's private temp dir: $TERN_TEST_DIR (made by run.sh), else a
    new one removed at exit."""
    d = os.environ.get("TERN_TEST_DIR")
    if d:
        os.makedirs(d, exist_ok=True)
        return d
    d = tempfile.mkdtemp(prefix="tern-test-")
    if not os.environ.get("KEEP"):
        atexit.register(shutil.rmtree, d, True)
    os.environ["TERN_TEST_DIR"] = d
    return d


def record_pid(pid):
    global _pidfile
    if _pidfile is None:
        _pidfile = os.path.join(test_dir(), "pids")
    with open(_pidfile, "a") as f:
        f.write("%d\n" % pid)


def spawn(argv, log_path=None, **kw):
    """Starts argv (stdout+stderr to log_path), records its PID."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, **kw)
    if log_path:
        out.close()
    record_pid(p.pid)
    _procs.append(p)
    return p


def stop_proc(p, timeout=10.0):
    """SIGTERM, then SIGKILL after timeout.  Returns the exit status."""
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    return p.returncode


def _stop_all():
    for p in _procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass


atexit.register(_stop_all)


def _on_term(signum, frame):
    _stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_term)


def run(argv, input=None, timeout=60):
    """Runs a command, returns (exit status, stdout text, stderr text)."""
    r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout)
    return (r.returncode, r.stdout.decode("utf-8", "replace"),
            r.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------------------
# tern instance


def sha512_crypt(password):
    """A {SHA512-CRYPT} hash (via doveadm if there, else python crypt)."""
    if shutil.which("doveadm"):
        rc, out, _ = run(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", password])
        if rc == 0 and out.startswith("{SHA512-CRYPT}"):
            return out.strip()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import crypt
    return "{SHA512-CRYPT}" + crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


class Tern:
    """One tern server with a private directory and config.

    Ports: test number NN owns 127.0.0.1 ports 21000 + NN*20 .. +19
    (TERN_PORT_BASE overrides the 21000)."""

    def __init__(self, test_no, name="tern", host="127.0.0.1", run_as=None,
                 **server):
        """run_as: a user name; when the tests run as root, tern runs as
        that user (setpriv) and owns its directory, e.g. so that Dovecot,
        which refuses uid 0, can read the Maildirs."""
        self.test_no = test_no
        self.run_as = run_as if os.getuid() == 0 else None
        self.host = host
        base = int(os.environ.get("TERN_PORT_BASE", "21000"))
        self.port_base = base + test_no * 20
        self.port = self.port_base
        self.dir = os.path.join(test_dir(), name)
        os.makedirs(self.dir, exist_ok=True)
        self.spool = os.path.join(self.dir, "spool")
        self.mailroot = os.path.join(self.dir, "mail")
        self.conf = os.path.join(self.dir, "tern.conf")
        self.log_path = os.path.join(self.dir, "tern.log")
        self.hostname = "mx.test.example"
        self.server = {
            "hostname": self.hostname,
            "spool": self.spool,
            "mailroot": self.mailroot,
            "log_level": "info",
            # Never the machine's nameserver: a closed port of this test
            # (queries are refused, remote mail is deferred).  Outbound
            # tests point it at their private dnsmasq instead.
            "resolver": "127.0.0.1:%d" % (self.port_base + 18),
        }
        self.server.update({k: str(v) for k, v in server.items()})
        self.domains = []  # [(name, lines)]
        self.listens = [("mx", "%s:%d" % (host, self.port), "mx")]
        self.proc = None
        self.bin = tern_bin()

    def ports(self, k):
        """The k-th port this test owns (0 is tern's mx port)."""
        assert 0 <= k < 20
        return self.port_base + k

    def domain(self, name, users=(), aliases=None, catch_all=None,
               passwords=None):
        """Adds [domain name] with a users file (users: names; passwords:
        {name: hash-with-scheme}) and an aliases file."""
        lines = []
        upath = os.path.join(self.dir, name + ".users")
        with open(upath, "w") as f:
            for u in users:
                h = (passwords or {}).get(u)
                f.write("%s:%s\n" % (u, h) if h else "%s\n" % u)
        lines.append("users = " + upath)
        if aliases is not None:
            apath = os.path.join(self.dir, name + ".aliases")
            with open(apath, "w") as f:
                for a, targets in aliases.items():
                    f.write("%s: %s\n" % (a, ", ".join(targets)))
            lines.append("aliases = " + apath)
        if catch_all:
            lines.append("catch_all = " + catch_all)
        self.domains.append((name, lines))
        return upath

    def config_text(self):
        out = ["[server]"]
        out += ["%s = %s" % kv for kv in self.server.items()]
        for name, addr, role in self.listens:
            out += ["", "[listen %s]" % name, "address = " + addr, "role = " + role]
        for name, lines in self.domains:
            out += ["", "[domain %s]" % name] + lines
        return "\n".join(out) + "\n"

    def write_config(self):
        with open(self.conf, "w") as f:
            f.write(self.config_text())
        return self.conf

    def start(self, timeout=20.0, write=True):
        """Writes the config, starts `tern serve -c conf`, waits for the
        port.  Returns True when it accepts connections."""
        if write:
            self.write_config()
        with open(self.log_path, "ab") as f:
            f.write(b"--- start\n")
        argv = [self.bin, "serve", "-c", self.conf]
        if self.run_as:
            import pwd
            pw = pwd.getpwnam(self.run_as)
            for dp, dns, fns in os.walk(self.dir):
                for x in [dp] + [os.path.join(dp, n) for n in fns]:
                    os.lchown(x, pw.pw_uid, pw.pw_gid)
            p = os.path.abspath(self.dir)
            while p != "/":
                st = os.stat(p)
                if not st.st_mode & 0o001:
                    os.chmod(p, st.st_mode | 0o005)
                p = os.path.dirname(p)
            argv = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                    "--clear-groups", "--"] + argv
        self.proc = spawn(argv, self.log_path, cwd=self.dir)
        up = wait_port(self.host, self.port, timeout, self.proc)
        if up:
            up = self.greets()
        if not up:
            sys.stdout.write("# tern did not come up; log:\n")
            self.show_log(40)
        return up

    def greets(self, timeout=10.0):
        """One probe session: 220 greeting, QUIT, 221, closed by tern (so
        the probe no longer counts against session limits)."""
        try:
            with Raw(self.host, self.port, timeout=timeout) as c:
                if c.greeting[0] != 220:
                    return False
                if c.cmd("QUIT")[0] != 221:
                    return False
                return c.closed_by_peer(timeout) and self.alive()
        except (OSError, EOFError, ValueError):
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM (SIGKILL after timeout); returns the exit status."""
        if self.proc is None:
            return None
        rc = stop_proc(self.proc, timeout)
        return rc

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def show_log(self, n=30):
        for line in self.log().splitlines()[-n:]:
            print("#   | " + line)
        sys.stdout.flush()

    def sanitizer_report(self):
        """Any ASan/UBSan/LSan report in the log."""
        m = re.search(r"(==\d+==ERROR: \w+Sanitizer.*|runtime error:.*|"
                      r"SUMMARY: \w+Sanitizer.*)", self.log())
        return m.group(0) if m else None

    # ---- mailboxes -------------------------------------------------------

    def maildir(self, domain, user):
        return os.path.join(self.mailroot, domain, user)

    def maildir_files(self, domain, user, sub="new"):
        return sorted(glob.glob(os.path.join(self.maildir(domain, user), sub, "*")))

    def all_maildir_files(self):
        """Every message file (new/ and cur/) in every Maildir."""
        return sorted(glob.glob(os.path.join(self.mailroot, "*", "*", "new", "*")) +
                      glob.glob(os.path.join(self.mailroot, "*", "*", "cur", "*")))

    def wait_maildir(self, domain, user, n, timeout=15.0):
        """Waits until new/ holds at least n files; returns the file list
        (or [] on timeout)."""
        def probe():
            fs = self.maildir_files(domain, user)
            return fs if len(fs) >= n else None
        return wait_until(probe, timeout) or []

    def read_messages(self, domain, user):
        out = []
        for p in self.maildir_files(domain, user):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def spool_files(self):
        out = []
        for dp, _, fs in os.walk(self.spool):
            out += [os.path.join(dp, f) for f in fs]
        return sorted(out)

    def spool_tmp_files(self):
        """Names in the spool's tmp/ other than spare files (r + the id of
        a removed message, kept by a running server for reuse:
        docs/spool.md)."""
        d = os.path.join(self.spool, "tmp")
        names = sorted(os.listdir(d)) if os.path.isdir(d) else []
        return [n for n in names if not re.match(r"^r[0-9a-f]{24}$", n)]

    def tmp_files(self):
        """Files left in any Maildir tmp/."""
        return sorted(glob.glob(os.path.join(self.mailroot, "*", "*", "tmp", "*")))


def message(sender, rcpt, subject, body="Hello.\r\n", msgid=None, extra=""):
    """A small RFC 5322 message with CRLF line endings, as bytes."""
    msgid = msgid or "<%s.%d@test.example>" % (subject.replace(" ", "-"), time.monotonic_ns())
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: %s\r\n%s\r\n%s" %
            (sender, rcpt, subject, msgid, extra, body)).encode("utf-8")


def header(msg, name):
    """First header name: value of msg (bytes), or None."""
    m = re.search(rb"(?im)^" + re.escape(name.encode()) + rb":[ \t]*(.*?)\r?$", msg)
    return m.group(1).decode("utf-8", "replace") if m else None


def split_delivered(msg):
    """Splits a delivered message into (tern's prepended header block,
    the rest).  tern prepends Return-Path, Delivered-To and Received
    (with folded continuation lines); the rest is the original message
    as stored."""
    lines = msg.split(b"\n")
    i = 0
    seen_received = False
    while i < len(lines):
        ln = lines[i]
        if ln.startswith((b" ", b"\t")) and i > 0:
            i += 1
            continue
        if re.match(rb"(?i)(return-path|delivered-to|received|x-original-to):", ln):
            if ln.lower().startswith(b"received:"):
                if seen_received:
                    break
                seen_received = True
            i += 1
            continue
        break
    return b"\n".join(lines[:i]) + b"\n", b"\n".join(lines[i:])


# --------------------------------------------------------------------------
# raw SMTP client (byte-exact)


class Raw:
    """A raw SMTP client: send bytes exactly, read replies.

        c = Raw(host, port)
        code, text = c.greeting
        c.send(b"EHLO x\\r\\n"); code, text = c.reply()
    """

    def __init__(self, host, port, timeout=15.0, greet=True):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.greeting = self.reply() if greet else None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; partial %r" % self.buf)
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r")

    def reply(self):
        """Reads one (possibly multi-line) reply: (code, text) where text is
        the lines' text joined with \\n (after "NNN-"/"NNN ")."""
        texts = []
        while True:
            line = self._line()
            m = re.match(rb"^(\d{3})([ -])(.*)$", line)
            if not m:
                if len(line) == 3 and line.isdigit():
                    return int(line), "\n".join(texts)
                raise ValueError("bad reply line %r" % line)
            texts.append(m.group(3).decode("utf-8", "replace"))
            if m.group(2) == b" ":
                return int(m.group(1)), "\n".join(texts)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        """Sends one command line (CRLF added) and returns its reply."""
        self.send(line.encode("utf-8") + b"\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply()

    def closed_by_peer(self, timeout=5.0):
        """True if the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def send_raw_message(host, port, sender, rcpts, data_bytes, ehlo="client.test"):
    """One transaction over Raw.  data_bytes is sent as-is after 354 (the
    caller includes the final CRLF.CRLF).  Returns the list of replies."""
    with Raw(host, port) as c:
        out = [c.greeting]
        out.append(c.cmd("EHLO " + ehlo))
        out.append(c.cmd("MAIL FROM:<%s>" % sender))
        for r in rcpts:
            out.append(c.cmd("RCPT TO:<%s>" % r))
        out.append(c.cmd("DATA"))
        if out[-1][0] == 354:
            c.send(data_bytes)
            out.append(c.reply())
        try:
            out.append(c.cmd("QUIT"))
        except (EOFError, OSError):
            pass
        return out
