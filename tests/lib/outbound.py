# SPDX-License-Identifier: ISC
"""Helpers for the outbound delivery tests (t20-t29) and the relay bench.

    from outbound import TernOut, inject, deliver_lines, parse_dsn, ...

    srv = TernOut(20, "tern")            # tern.Tern + [queue], [relay], [tls]
    dns = srv.dnsmasq()                  # Dnsmasq on srv.ports(1), resolver set
    dns.mx("dest.test", "mx1.dest.test", 10); dns.host("mx1.dest.test", "127.0.0.11")
    mx1 = srv.scripted("127.0.0.11", "mx1", rcpt={...})   # on mx_port
    srv.domain("example.test", users=["alice"], aliases={"fwd": ["u@dest.test"]})
    srv.queue(min_retry="1s")
    dns.start(); mx1.start(); srv.start()
    mid = inject(srv, "alice@example.test", ["fwd@example.test"], "subject")
    lines = srv.wait_deliver(rcpt="u@dest.test", status="sent")

Ports of test NN (base = 21000 + NN*20): +0 tern's mx listener, +1
dnsmasq, +2 the SERVFAIL upstream, +3 mx_port (every MX host listens on
its own 127.0.0.x at this port), +4.. free for the test.

Mail for remote domains enters tern through aliases with remote targets
in a served domain, sent by a plain MX client: no TLS or AUTH needed.
Bounces go to a local sender (alice@example.test), so they land in a
Maildir where the test parses them with the email package.
"""

import email
import email.policy
import os
import re
import smtplib
import time

from tern import Tern, run, wait_until, message
from dnsmasq import Dnsmasq
from scripted_smtp import ScriptedSMTP

DELIVER_RE = re.compile(
    r"(?P<qid>\S+) deliver rcpt=<?(?P<rcpt>[^ >]*)>? relay=(?P<relay>\S+) "
    r"delay=(?P<delay>\S+) dsn=(?P<dsn>\S+) status=(?P<status>\w+)"
    r"(?: tls=(?P<tls>\"[^\"]*\"|\S*))?(?: reply=\"(?P<reply>.*)\")?")


def outbound_supported(tern_bin=None):
    """(True, text) if tern's check-config knows [relay], [queue] and
    [server] resolver and the binary has the remote delivery agent in it
    (its " relay=" log format); else (False, why)."""
    import tempfile
    from tern import tern_bin as default_bin
    b = tern_bin or default_bin()
    d = tempfile.mkdtemp(prefix="tern-outbound-probe-")
    try:
        with open(os.path.join(d, "u"), "w") as f:
            f.write("alice\n")
        conf = os.path.join(d, "c.conf")
        with open(conf, "w") as f:
            f.write("[server]\nhostname = probe.test\nspool = %s/s\nmailroot = %s/m\n"
                    "resolver = 127.0.0.1:53\n\n[queue]\nmin_retry = 2s\nmax_retry = 1h\n"
                    "mx_port = 25\n\n[relay]\nhost = 127.0.0.1:25\ntls = none\n\n"
                    "[listen mx]\naddress = 127.0.0.1:2525\n\n"
                    "[domain probe.test]\nusers = %s/u\n" % (d, d, d))
        rc, out, err = run([b, "check-config", "-c", conf], timeout=30)
        if rc != 0:
            return False, (out + err).strip()
        with open(b, "rb") as f:
            if b" relay=" not in f.read():
                return False, "no remote delivery agent linked into %s (no \" relay=\" log format)" % b
        return True, (out + err).strip()
    finally:
        import shutil
        shutil.rmtree(d, True)


class TernOut(Tern):
    """A tern.Tern with [queue], [relay] and [tls] sections and a private
    dnsmasq as its resolver."""

    def __init__(self, test_no, name="tern", **server):
        server.setdefault("log_level", "info")
        super().__init__(test_no, name, **server)
        self.mx_port = self.ports(3)
        self.queue_values = {"mx_port": str(self.mx_port), "min_retry": "1s",
                             "max_retry": "2s"}
        self.relay_values = None
        self.tls_values = None
        self.extra_sections = []
        self.servers = []
        self.dns = None

    def queue(self, **kw):
        self.queue_values.update({k: str(v) for k, v in kw.items()})
        if "mx_port" in kw:
            self.mx_port = int(kw["mx_port"])

    def relay(self, **kw):
        self.relay_values = {k: str(v) for k, v in kw.items()}

    def tls(self, cert, key):
        self.tls_values = {"cert": cert, "key": key}

    def config_text(self):
        out = [Tern.config_text(self).rstrip("\n")]
        out += ["", "[queue]"] + ["%s = %s" % kv for kv in self.queue_values.items()]
        if self.relay_values is not None:
            out += ["", "[relay]"] + ["%s = %s" % kv for kv in self.relay_values.items()]
        if self.tls_values is not None:
            out += ["", "[tls]"] + ["%s = %s" % kv for kv in self.tls_values.items()]
        for name, kv in self.extra_sections:
            out += ["", "[%s]" % name] + ["%s = %s" % x for x in kv.items()]
        return "\n".join(out) + "\n"

    def dnsmasq(self, **kw):
        """The test's dnsmasq on ports(1) (SERVFAIL upstream on ports(2));
        sets [server] resolver."""
        self.dns = Dnsmasq(os.path.join(self.dir, "..", "dnsmasq"), self.ports(1),
                           dead_port=self.ports(2), **kw)
        self.server["resolver"] = "127.0.0.1:%d" % self.ports(1)
        return self.dns

    def scripted(self, ip, name, port=None, **kw):
        """A ScriptedSMTP on ip:mx_port (not started)."""
        s = ScriptedSMTP(ip, port or self.mx_port,
                         os.path.join(self.dir, "..", "dest-" + name), name=name, **kw)
        self.servers.append(s)
        return s

    # ---- log -----------------------------------------------------------

    def deliver_lines(self, **match):
        """Parsed "<qid> deliver ..." log lines (dicts), filtered by
        equal fields (rcpt is compared case-insensitively)."""
        out = []
        for line in self.log().splitlines():
            m = DELIVER_RE.search(line)
            if not m:
                continue
            d = m.groupdict()
            d["line"] = line
            if all((d.get(k) or "").lower() == str(v).lower() for k, v in match.items()):
                out.append(d)
        return out

    def wait_deliver(self, n=1, timeout=30.0, **match):
        """Waits for at least n matching deliver lines; returns them
        (fewer on timeout)."""
        r = wait_until(lambda: (lambda ls: ls if len(ls) >= n else None)(
            self.deliver_lines(**match)), timeout)
        return r or self.deliver_lines(**match)

    def removed(self, qid):
        return re.search(r"(?m)\b%s queue removed\b" % re.escape(qid), self.log()) is not None

    def wait_removed(self, qid, timeout=30.0):
        return wait_until(lambda: self.removed(qid), timeout)

    def queue_ids(self):
        """Committed message ids in <spool>/queue (no .st journals)."""
        q = os.path.join(self.spool, "queue")
        try:
            return sorted(n for n in os.listdir(q) if not n.endswith(".st") and
                          not n.startswith("."))
        except FileNotFoundError:
            return []


# --------------------------------------------------------------------------
# injecting mail

_n = [0]


def new_msgid(tag):
    _n[0] += 1
    return "<%s-%d-%d.%d@t.example>" % (tag, _n[0], os.getpid(), time.monotonic_ns() % 10**9)


class Injected:
    """What inject() did: msgid, data (bytes), qid (tern's queue id from
    the 250 reply, or None), refused ({rcpt: (code, text)}), error (an
    exception text or None), reply (the DATA reply)."""

    def __init__(self, msgid, data):
        self.msgid = msgid
        self.data = data
        self.qid = None
        self.refused = {}
        self.error = None
        self.reply = None

    @property
    def ok(self):
        return self.error is None and self.qid is not None and not self.refused

    def __repr__(self):
        return "Injected(%s qid=%s refused=%r error=%r reply=%r)" % (
            self.msgid, self.qid, self.refused, self.error, self.reply)


def inject(srv, sender, rcpts, subject, body="Hello from tern's outbound tests.\r\n",
           extra="", msgid=None, host=None, port=None, data=None, mail_options=()):
    """Sends one message to tern's mx listener with smtplib (MAIL, RCPT
    each, DATA).  Returns an Injected."""
    msgid = msgid or new_msgid(subject.split()[0] if subject else "m")
    if data is None:
        data = message(sender or "mailer-daemon@remote.example", rcpts[0], subject,
                       body=body, msgid=msgid, extra=extra)
    r = Injected(msgid, data)
    try:
        with smtplib.SMTP(host or srv.host, port or srv.port, local_hostname="client.test",
                          timeout=30) as s:
            s.ehlo()
            code, text = s.mail(sender, list(mail_options))
            if code != 250:
                r.error = "MAIL: %d %s" % (code, text)
                return r
            for rc in rcpts:
                code, text = s.rcpt(rc)
                if code not in (250, 251):
                    r.refused[rc] = (code, text.decode("utf-8", "replace"))
            if len(r.refused) == len(rcpts):
                r.error = "all recipients refused"
                return r
            code, text = s.data(data)
            text = text.decode("utf-8", "replace")
            r.reply = "%d %s" % (code, text)
            if code == 250:
                r.qid = qid_from_reply(text)
            else:
                r.error = "DATA: " + r.reply
    except Exception as e:
        r.error = "%s: %s" % (type(e).__name__, e)
    return r


def qid_from_reply(text):
    """The queue id in tern's 250 reply to DATA ("... queued as ID")."""
    m = re.search(r"queued as (\S+)", text)
    return m.group(1) if m else None


# --------------------------------------------------------------------------
# DSNs (RFC 3464)


def parse_dsn(raw):
    """Parses a delivered bounce (bytes, LF or CRLF).  Returns a dict:
    msg (email.message.EmailMessage), content_type, report_type, from,
    to, return_path, per_message (dict, lowercase keys), recipients
    ([dict] per recipient block), text (first part), original (bytes of
    the returned message or headers part, or None), original_type."""
    msg = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.compat32)
    out = {"msg": msg, "content_type": msg.get_content_type(),
           "report_type": msg.get_param("report-type"),
           "from": msg.get("From"), "to": msg.get("To"), "subject": msg.get("Subject"),
           "return_path": msg.get("Return-Path"), "auto_submitted": msg.get("Auto-Submitted"),
           "per_message": {}, "recipients": [], "text": None, "original": None,
           "original_type": None, "parts": []}
    if not msg.is_multipart():
        return out
    parts = msg.get_payload()
    out["parts"] = [p.get_content_type() for p in parts]
    if parts and parts[0].get_content_type() == "text/plain":
        out["text"] = parts[0].get_payload(decode=True).decode("utf-8", "replace")
    for p in parts:
        ct = p.get_content_type()
        if ct in ("message/delivery-status", "message/global-delivery-status"):
            blocks = _status_blocks(p)
            if blocks:
                out["per_message"] = blocks[0]
                out["recipients"] = blocks[1:]
        elif ct in ("message/rfc822", "text/rfc822-headers", "message/global",
                    "message/global-headers"):
            out["original_type"] = ct
            pl = p.get_payload()
            if isinstance(pl, list) and pl:
                out["original"] = pl[0].as_bytes()
            elif isinstance(pl, str):
                out["original"] = pl.encode("utf-8", "replace")
            else:
                out["original"] = p.get_payload(decode=True)
    return out


def _status_blocks(part):
    """The delivery-status part's field blocks, as dicts with lowercase
    keys (continuation lines joined)."""
    pl = part.get_payload()
    if isinstance(pl, list):
        # compat32 parses message/delivery-status into a list of Messages
        blocks = []
        for m in pl:
            blocks.append({k.lower(): " ".join(str(v).split()) for k, v in m.items()})
        return [b for b in blocks if b]
    text = pl if isinstance(pl, str) else pl.decode("utf-8", "replace")
    blocks, cur, last = [], {}, None
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if cur:
                blocks.append(cur)
            cur, last = {}, None
            continue
        if line[0] in " \t" and last:
            cur[last] += " " + line.strip()
            continue
        k, _, v = line.partition(":")
        last = k.strip().lower()
        cur[last] = v.strip()
    if cur:
        blocks.append(cur)
    return blocks


def final_rcpt(block):
    """The address of a recipient block's Final-Recipient, lowercased,
    without its "rfc822;" type ("rfc822;a@b" and "rfc822; a@b" are the
    same, RFC 3464 2.3.2)."""
    v = block.get("final-recipient", "")
    typ, _, addr = v.partition(";")
    return addr.strip().lower() if typ.strip().lower() == "rfc822" else v


def dsn_for(srv, domain, user, pred=None, timeout=30.0):
    """Waits for a message in domain/user's Maildir that is a DSN (and
    satisfies pred(parsed)); returns the list of parsed DSNs."""
    def find():
        out = []
        for raw in srv.read_messages(domain, user):
            d = parse_dsn(raw)
            if d["content_type"] == "multipart/report" and (pred is None or pred(d)):
                d["raw"] = raw
                out.append(d)
        return out
    return wait_until(find, timeout) or []


# --------------------------------------------------------------------------
# recorded transactions


def received_pairs(servers):
    """{(Message-ID, rcpt lowercased): count} over every transaction the
    scripted servers accepted."""
    out = {}
    for s in servers:
        for tx in list(s.accepted):
            mid = tx.header("Message-ID")
            for r in tx.rcpts:
                k = (mid, r.lower())
                out[k] = out.get(k, 0) + 1
    return out


def strip_trace(data):
    """The message as tern received it: data minus the header lines tern
    prepends (Received with continuations, Return-Path)."""
    lines = data.split(b"\r\n")
    i = 0
    while i < len(lines):
        ln = lines[i]
        if re.match(rb"(?i)(received|return-path|delivered-to|dkim-signature):", ln):
            i += 1
            while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                i += 1
            continue
        break
    return b"\r\n".join(lines[i:])
