# SPDX-License-Identifier: ISC
"""Helpers for the TLS / submission / AUTH tests (t11-t18).

    from submission import TernTLS, make_cert, tls_ctx, s_client, ...

    srv = TernTLS(11, "tern")
    cert, key = make_cert(srv.dir, "default", "mx.test.example")
    srv.tls(cert, key)                                 # [tls]
    srv.tls(cert2, key2, name="other", hostnames="mail.other.test")
    srv.limits(auth_max_failures=3)                    # [limits]
    sub = srv.listen("sub", 1, "submission")           # [listen sub] port
    srv.domain("example.test", users=["alice"],
               passwords={"alice": sha512_crypt("pw")})
    srv.start()

TernTLS only adds sections to tern.Tern's config; everything else
(ports, start/stop, Maildir polling, log) is tern.Tern's.
"""

import base64
import os
import re
import smtplib
import socket
import ssl
import subprocess

from tern import Raw, Tern, run


class TernTLS(Tern):
    """A Tern with [tls], [tls NAME], [limits] and more [listen] sections."""

    def __init__(self, test_no, name="tern", **kw):
        super().__init__(test_no, name, **kw)
        self.tls_sections = []   # [(name or None, {key: value})]
        self.limit_values = {}
        self.extra_sections = []  # [(header, {key: value})]

    def tls(self, cert, key, name=None, hostnames=None, ciphers=None):
        kv = {}
        if hostnames is not None:
            kv["hostnames"] = hostnames
        kv["cert"] = cert
        kv["key"] = key
        if ciphers is not None:
            kv["ciphers"] = ciphers
        self.tls_sections.append((name, kv))

    def limits(self, **kw):
        self.limit_values.update({k: str(v) for k, v in kw.items()})

    def listen(self, name, k, role):
        """Adds [listen name] on this test's k-th port; returns the port."""
        port = self.ports(k)
        self.listens.append((name, "%s:%d" % (self.host, port), role))
        return port

    def config_text(self):
        out = [Tern.config_text(self).rstrip("\n")]
        for name, kv in self.tls_sections:
            out += ["", "[tls %s]" % name if name else "[tls]"]
            out += ["%s = %s" % x for x in kv.items()]
        if self.limit_values:
            out += ["", "[limits]"] + ["%s = %s" % x for x in self.limit_values.items()]
        for header, kv in self.extra_sections:
            out += ["", "[%s]" % header] + ["%s = %s" % x for x in kv.items()]
        return "\n".join(out) + "\n"

    def section(self, header, **kv):
        """Adds a further section [header] with key = value lines."""
        self.extra_sections.append((header, {k: str(v) for k, v in kv.items()}))

    def hold_outbound(self):
        """Keeps mail for remote recipients in the queue, without DNS or
        network: if this tern delivers outbound ([relay] is known), its
        smarthost is a closed port of this test (connection refused: the
        recipient is deferred), retries wait an hour, and the resolver is
        another closed port.  A tern without outbound delivery keeps remote
        targets queued anyway.  Returns True if the sections were added."""
        if not outbound_known(self.bin):
            return False
        self.server["resolver"] = "127.0.0.1:%d" % self.ports(18)
        self.section("relay", host="127.0.0.1:%d" % self.ports(19), tls="none")
        self.section("queue", min_retry="1h", max_retry="2h")
        return True

    def hup(self):
        self.proc.send_signal(1)

    def queue_ids(self):
        """Committed message ids in <spool>/queue (no .st journals)."""
        q = os.path.join(self.spool, "queue")
        try:
            return sorted(n for n in os.listdir(q) if not n.endswith(".st"))
        except FileNotFoundError:
            return []

    def queue_file(self, qid):
        with open(os.path.join(self.spool, "queue", qid), "rb") as f:
            return f.read()


_outbound_known = {}


def outbound_known(binary):
    """True if `tern check-config` accepts [relay], [queue] and [server]
    resolver (tern delivers outbound mail itself)."""
    if binary in _outbound_known:
        return _outbound_known[binary]
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="tern-probe-")
    try:
        conf = os.path.join(d, "c.conf")
        with open(conf, "w") as f:
            f.write("[server]\nhostname = probe.test\nspool = %s/s\nmailroot = %s/m\n"
                    "resolver = 127.0.0.1:53\n\n[relay]\nhost = 127.0.0.1:25\ntls = none\n\n"
                    "[queue]\nmin_retry = 1h\nmax_retry = 2h\n\n"
                    "[listen mx]\naddress = 127.0.0.1:2525\n\n[domain probe.test]\n" % (d, d))
        rc, _, _ = run([binary, "check-config", "-c", conf], timeout=30)
        _outbound_known[binary] = rc == 0
    finally:
        shutil.rmtree(d, True)
    return _outbound_known[binary]


def remote_waits_re(rcpt):
    """The log line saying a remote recipient is kept for later: the
    queue's "waits for outbound delivery" (no outbound delivery yet) or a
    delivery attempt with status=deferred."""
    r = re.escape(rcpt)
    return (r"queue remote target waits for outbound delivery rcpt=<%s>"
            r"|deliver rcpt=<?%s>? .*status=deferred" % (r, r))


# --------------------------------------------------------------------------
# certificates


def make_cert(d, base, cn, sans=None, days=3):
    """A self-signed RSA-2048 certificate <d>/<base>.crt and key
    <d>/<base>.key with subject CN=cn (and subjectAltName DNS:sans, default
    cn).  Returns (cert path, key path)."""
    cert = os.path.join(d, base + ".crt")
    key = os.path.join(d, base + ".key")
    sans = sans or [cn]
    rc, out, err = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", str(days),
                        "-subj", "/O=tern test/CN=" + cn,
                        "-addext", "subjectAltName=" + ",".join("DNS:" + s for s in sans)])
    if rc != 0:
        raise RuntimeError("openssl req failed: " + err)
    os.chmod(key, 0o600)
    return cert, key


def cert_subject_cn(pem):
    """The CN of a PEM certificate (text or bytes), or None."""
    if isinstance(pem, str):
        pem = pem.encode()
    r = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
                       input=pem, capture_output=True, timeout=30)
    m = re.search(rb"CN=([^,\n]+)", r.stdout)
    return m.group(1).decode() if m else None


# --------------------------------------------------------------------------
# clients


def tls_ctx(minv=None, maxv=None, cafile=None):
    """A client context; verifies against cafile if given, else not at all."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if minv is not None:
        ctx.minimum_version = minv
    if maxv is not None:
        ctx.maximum_version = maxv
    return ctx


def s_client(port, args=(), stdin=b"QUIT\r\n", host="127.0.0.1", timeout=30):
    """openssl s_client -connect host:port ARGS with stdin; returns
    (exit status, stdout+stderr text).  -ign_eof is not used: s_client ends
    when the server closes after QUIT or when stdin ends."""
    argv = ["openssl", "s_client", "-connect", "%s:%d" % (host, port)] + list(args)
    try:
        r = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return -1, "timeout: %r %r" % (e.stdout, e.stderr)
    return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")


def s_client_cert_cn(port, args=()):
    """The CN of the certificate the server presents to s_client ARGS."""
    rc, out = s_client(port, list(args) + ["-showcerts"])
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    return (cert_subject_cn(m.group(0)) if m else None), rc, out


def b64(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return base64.b64encode(s).decode("ascii")


def plain_token(user, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


def submission(port, starttls=True, host="127.0.0.1", source=None, timeout=30):
    """smtplib on a submission port: EHLO, STARTTLS, EHLO again."""
    kw = {"local_hostname": "client.test", "timeout": timeout}
    if source:
        kw["source_address"] = (source, 0)
    s = smtplib.SMTP(host, port, **kw)
    s.ehlo()
    if starttls:
        s.starttls(context=tls_ctx())
        s.ehlo()
    return s


def submissions(port, host="127.0.0.1", source=None, timeout=30):
    """smtplib over implicit TLS: EHLO done."""
    kw = {"local_hostname": "client.test", "timeout": timeout,
          "context": tls_ctx()}
    if source:
        kw["source_address"] = (source, 0)
    s = smtplib.SMTP_SSL(host, port, **kw)
    s.ehlo()
    return s


def raw_connect(port, host="127.0.0.1", source=None, timeout=30):
    """A plain TCP socket to host:port (bound to source if given)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if source:
        sock.bind((source, 0))
    sock.connect((host, port))
    return sock


def loopback_alias_works(ip="127.0.0.2"):
    """True if a socket can bind to ip (Linux: all of 127/8 is loopback)."""
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((ip, 0))
        s.close()
        return True
    except OSError:
        return False


class RawTLS(Raw):
    """tern.Raw over TLS: STARTTLS (after EHLO) or implicit TLS, then EHLO.

        c = RawTLS(port)                 # EHLO, STARTTLS, EHLO done
        c = RawTLS(port, implicit=True)  # TLS from the first byte, EHLO done
        c.ehlo_reply                     # the EHLO reply inside TLS
    """

    def __init__(self, port, host="127.0.0.1", source=None, implicit=False,
                 timeout=30.0, ctx=None):
        self.sock = raw_connect(port, host, source, timeout)
        self.buf = b""
        ctx = ctx or tls_ctx()
        if implicit:
            self.sock = ctx.wrap_socket(self.sock)
            self.greeting = self.reply()
        else:
            self.greeting = self.reply()
            self.cmd("EHLO client.test")
            code, text = self.cmd("STARTTLS")
            if code != 220:
                raise ValueError("STARTTLS: %d %s" % (code, text))
            if self.buf:
                raise ValueError("bytes after the STARTTLS reply: %r" % self.buf)
            self.sock = ctx.wrap_socket(self.sock)
        self.ehlo_reply = self.cmd("EHLO client.test")

    def auth_plain(self, user, password):
        return self.cmd("AUTH PLAIN " + plain_token(user, password))
