# SPDX-License-Identifier: ISC
"""A private dnsmasq: the DNS server tern's outbound tests point
[server] resolver at.

    dns = Dnsmasq(dir, port)                   # 127.0.0.1:port, udp+tcp
    dns.mx("dest.test", "mx1.dest.test", 10)   # --mx-host
    dns.host("mx1.dest.test", "127.0.0.11")    # --host-record (A, AAAA)
    dns.cname("alias.test", "dest.test")       # --cname
    dns.null_mx("nullmx.test")                 # MX 0 . (RFC 7505)
    dns.servfail("broken.test")                # answers SERVFAIL
    dns.start()       # foreground dnsmasq, waits until it answers
    dns.query("dest.test", "MX")               # -> [(10, "mx1.dest.test")]
    dns.stop()        # by PID

It reads no /etc/resolv.conf and no /etc/hosts, answers only on
127.0.0.1:port and forwards nothing: every name under the zones given in
local_zones (default: test, example) that has no record is NXDOMAIN
(--local=/test/).  A name made to fail is forwarded to a dead port on
127.0.0.1, which makes dnsmasq answer SERVFAIL (or REFUSED, see
servfail()); tern must treat both as temporary (deferred).
"""

import os
import random
import socket
import struct
import threading

from tern import spawn, stop_proc, wait_until

DNSMASQ = "/usr/sbin/dnsmasq"


class Dnsmasq:
    def __init__(self, base, port, local_zones=("test", "example"),
                 dead_port=None):
        """dead_port: a port on 127.0.0.1 where nothing listens (for
        servfail()); default port+1 is NOT assumed free, so pass one the
        test owns."""
        self.base = base
        self.port = port
        self.dead_port = dead_port
        self.local_zones = list(local_zones)
        self.args = []
        self.proc = None
        self.upstream = None
        os.makedirs(base, exist_ok=True)
        self.log_path = os.path.join(base, "dnsmasq.log")
        self.pid_path = os.path.join(base, "dnsmasq.pid")

    # ---- records ---------------------------------------------------------

    def mx(self, domain, target, pref):
        self.args.append("--mx-host=%s,%s,%d" % (domain, target, pref))

    def host(self, name, *addrs):
        """A and/or AAAA records for name (any number of addresses)."""
        self.args.append("--host-record=%s,%s" % (name, ",".join(addrs)))

    def cname(self, alias, target):
        self.args.append("--cname=%s,%s" % (alias, target))

    def null_mx(self, domain):
        """MX 0 . : RDATA = preference 0 (2 octets) + the root label."""
        self.args.append("--dns-rr=%s,15,000000" % domain)

    def txt(self, name, text):
        self.args.append("--txt-record=%s,%s" % (name, text))

    def servfail(self, domain):
        """Queries for domain (and below) are forwarded to an upstream on
        127.0.0.1:dead_port run by this process (a thread) that answers
        every query SERVFAIL; dnsmasq passes the SERVFAIL on.  tern must
        treat it as temporary (deferred, 4.4.3)."""
        if self.dead_port is None:
            raise ValueError("Dnsmasq(dead_port=...) is needed for servfail()")
        if self.upstream is None:
            self.upstream = ServfailUpstream(self.dead_port)
        self.args.append("--server=/%s/127.0.0.1#%d" % (domain, self.dead_port))

    def no_answer(self, domain, port):
        """Queries for domain go to 127.0.0.1:port, where nothing must
        listen: dnsmasq gets no answer and the client times out."""
        self.args.append("--server=/%s/127.0.0.1#%d" % (domain, port))

    # ---- process ---------------------------------------------------------

    def argv(self):
        return [DNSMASQ, "--keep-in-foreground",
                "--no-resolv", "--no-hosts", "--no-poll", "--conf-file=/dev/null",
                "--bind-interfaces", "--listen-address=127.0.0.1",
                "--port=%d" % self.port, "--pid-file=" + self.pid_path,
                "--user=" + _dnsmasq_user(), "--log-facility=" + self.log_path,
                "--log-queries", "--cache-size=0", "--max-ttl=0",
                "--local-ttl=0", "--neg-ttl=0"] + \
            ["--local=/%s/" % z for z in self.local_zones] + self.args

    def start(self, timeout=15.0):
        """Starts dnsmasq in the foreground; True once it answers a query
        over UDP."""
        argv = self.argv()
        with open(os.path.join(self.base, "dnsmasq.argv"), "w") as f:
            f.write("\n".join(argv) + "\n")
        if self.upstream is not None:
            self.upstream.start()
        self.proc = spawn(argv, os.path.join(self.base, "dnsmasq.out"))

        def up():
            if self.proc.poll() is not None:
                return "dead"
            try:
                return self.query("probe.invalid-zone-check.test", "A", timeout=0.3,
                                  rcode=True) is not None
            except OSError:
                return False
        return wait_until(up, timeout) is True

    def stop(self):
        if self.proc is not None:
            stop_proc(self.proc, 5)
        if self.upstream is not None:
            self.upstream.stop()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def queries_for(self, name):
        """How many queries dnsmasq logged for name (any type)."""
        n = 0
        for line in self.log().splitlines():
            if "query[" in line and (" %s from " % name) in line:
                n += 1
        return n

    # ---- a tiny stub resolver (for checks; tests never need dig) --------

    def query(self, name, qtype="A", timeout=2.0, rcode=False):
        """Asks this dnsmasq.  Returns a list of answers: A/AAAA: address
        strings; MX: (pref, host) with host "" for the root; CNAME: names.
        rcode=True: returns (rcode, answers).  None on timeout."""
        return dns_query("127.0.0.1", self.port, name, qtype, timeout, rcode)


class ServfailUpstream:
    """A thread answering every DNS query on 127.0.0.1:port (UDP) with
    SERVFAIL; counts the queries it saw."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.count = 0
        self.thread = None

    def start(self):
        if self.sock is not None:
            return
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                msg, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(msg) < 12:
                continue
            self.count += 1
            qid, flags = struct.unpack("!HH", msg[:4])
            # QR, opcode copied, RD copied, RA, rcode 2; question echoed
            flags = 0x8000 | (flags & 0x7900) | 0x0080 | 2
            qd = struct.unpack("!H", msg[4:6])[0]
            off = 12
            if qd:
                _, off = _read_name(msg, 12)
                off += 4
            reply = struct.pack("!HHHHHH", qid, flags, 1 if qd else 0, 0, 0, 0) + msg[12:off]
            try:
                self.sock.sendto(reply, peer)
            except OSError:
                pass

    def stop(self):
        self.running = False
        if self.thread is not None:
            self.thread.join(2)
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _dnsmasq_user():
    import pwd
    for u in ("dnsmasq", "nobody"):
        try:
            pwd.getpwnam(u)
            return u
        except KeyError:
            pass
    return "root"


TYPES = {"A": 1, "NS": 2, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED"}


def _qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def _read_name(msg, off):
    labels = []
    jumped = False
    end = off
    for _ in range(128):
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            ptr = struct.unpack("!H", msg[off:off + 2])[0] & 0x3FFF
            if not jumped:
                end = off + 2
            jumped = True
            off = ptr
            continue
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    if not jumped:
        end = off
    return ".".join(labels), end


def dns_query(server, port, name, qtype="A", timeout=2.0, rcode=False):
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + _qname(name) + \
        struct.pack("!HH", TYPES[qtype], 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (server, port))
        while True:
            try:
                msg, _ = s.recvfrom(4096)
            except socket.timeout:
                return None
            if len(msg) >= 12 and struct.unpack("!H", msg[:2])[0] == qid:
                break
    finally:
        s.close()
    _, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    rc = flags & 0xF
    off = 12
    for _ in range(qd):
        _, off = _read_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        _, off = _read_name(msg, off)
        t, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rd = msg[off:off + rdlen]
        if t == 1:
            answers.append(socket.inet_ntop(socket.AF_INET, rd))
        elif t == 28:
            answers.append(socket.inet_ntop(socket.AF_INET6, rd))
        elif t == 15:
            pref = struct.unpack("!H", rd[:2])[0]
            host, _ = _read_name(msg, off + 2)
            answers.append((pref, host))
        elif t == 5:
            answers.append(_read_name(msg, off)[0])
        off += rdlen
    if rcode:
        return RCODES.get(rc, str(rc)), answers
    return answers
