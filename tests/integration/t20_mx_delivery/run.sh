#!/usr/bin/env bash
# t20_mx_delivery: tern delivers to the world through MX records served by
# a private dnsmasq, to scripted SMTP servers on 127.0.0.x:<mx_port>.
# Plain delivery (envelope, body byte for byte, only a Received header
# added, EHLO with tern's hostname), MX preference order, first MX down
# -> second MX, first MX greets 421 -> second MX, no MX -> the domain's
# A record, an MX host's IPv6 address dead -> its IPv4 address, one
# transaction per destination domain, equal preferences spread randomly,
# BODY=8BITMIME kept, deliver and "queue removed" log lines, spool
# drained, no protocol slips seen by the servers.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
. "$TERN_ROOT/tests/lib/outbound.sh"
require_tern
require_outbound

"$PY" - <<'PYEOF'
import os, re
from tern import Tap, wait_until
from outbound import TernOut, inject, strip_trace

t = Tap()
srv = TernOut(20, "tern")
dns = srv.dnsmasq()
P = srv.mx_port
dns.mx("dest.test", "mx1.dest.test", 10); dns.host("mx1.dest.test", "127.0.0.11")
dns.mx("dest.test", "mx2.dest.test", 20); dns.host("mx2.dest.test", "127.0.0.12")
dns.mx("down.test", "mxdown.down.test", 10); dns.host("mxdown.down.test", "127.0.0.13")
dns.mx("down.test", "mxup.down.test", 20); dns.host("mxup.down.test", "127.0.0.14")
dns.host("amx.test", "127.0.0.15")                       # no MX: A record
dns.mx("other.test", "mx.other.test", 10); dns.host("mx.other.test", "127.0.0.16")
for i in range(20):
    dns.mx("eq%02d.test" % i, "e1.eq.test", 10)
    dns.mx("eq%02d.test" % i, "e2.eq.test", 10)
dns.host("e1.eq.test", "127.0.0.17"); dns.host("e2.eq.test", "127.0.0.18")
dns.mx("v6.test", "mx.v6.test", 10); dns.host("mx.v6.test", "127.0.0.19", "::1")
dns.mx("busy.test", "mx1.busy.test", 10); dns.host("mx1.busy.test", "127.0.0.20")
dns.mx("busy.test", "mx2.busy.test", 20); dns.host("mx2.busy.test", "127.0.0.21")

mx1 = srv.scripted("127.0.0.11", "mx1")
mx2 = srv.scripted("127.0.0.12", "mx2")
up = srv.scripted("127.0.0.14", "mxup")
amx = srv.scripted("127.0.0.15", "amx")
oth = srv.scripted("127.0.0.16", "other")
e1 = srv.scripted("127.0.0.17", "e1")
e2 = srv.scripted("127.0.0.18", "e2")
v6 = srv.scripted("127.0.0.19", "v6")
busy1 = srv.scripted("127.0.0.20", "busy1", greeting="421 4.3.2 mx1.busy.test too busy")
busy2 = srv.scripted("127.0.0.21", "busy2")

aliases = {"plain": ["u1@dest.test"], "down": ["u@down.test"], "amx": ["u@amx.test"],
           "multi": ["a@dest.test", "b@dest.test", "c@other.test"], "v6": ["u@v6.test"],
           "busy": ["u@busy.test"], "eight": ["eight@dest.test"]}
for i in range(20):
    aliases["eq%02d" % i] = ["u@eq%02d.test" % i]
srv.domain("example.test", users=["alice"], aliases=aliases)
srv.queue(min_retry="1s", max_retry="2s")

if not t.ok(dns.start(), "dnsmasq answers on 127.0.0.1:%d" % dns.port, dns.log()[-1500:]):
    t.done()
t.eq(sorted(dns.query("dest.test", "MX") or []), [(10, "mx1.dest.test"), (20, "mx2.dest.test")],
     "dnsmasq serves dest.test MX")
for s in srv.servers:
    s.start()
if not t.ok(srv.start(), "tern starts with [queue] mx_port=%d and resolver %s" %
            (P, srv.server["resolver"])):
    t.done()

SENDER = "alice@example.test"

def one(server, rcpt, msgid):
    return [tx for tx in server.delivered_to(rcpt) if tx.header("Message-ID") == msgid]

def wait_one(server, rcpt, msgid, timeout=30):
    return wait_until(lambda: one(server, rcpt, msgid), timeout) or []

# ---- plain ----------------------------------------------------------------
body = ("Line one.\r\n.leading dot\r\n..two dots\r\n.\r\n \r\nlast line\r\n")
m = inject(srv, SENDER, ["plain@example.test"], "plain delivery", body=body)
t.ok(m.ok, "tern accepts mail for plain@ (alias of u1@dest.test)", m)
got = wait_one(mx1, "u1@dest.test", m.msgid)
if t.eq(len(got), 1, "mx1 (MX 10) receives the message once"):
    tx = got[0]
    t.eq(tx.mail_from, SENDER, "envelope sender kept")
    t.eq(tx.rcpts, ["u1@dest.test"], "envelope recipient is the alias target")
    t.eq(tx.helo, srv.hostname, "EHLO names tern's hostname")
    t.ok(tx.data.endswith(m.data), "message data delivered byte for byte (dot lines intact)",
         "got %r" % tx.data[-300:])
    added = tx.data[:len(tx.data) - len(m.data)] if tx.data.endswith(m.data) else tx.data[:400]
    t.ok(re.match(rb"(?i)^Received: ", added) and
         all(re.match(rb"(?i)(Received:|[ \t])", ln) for ln in added.split(b"\r\n") if ln),
         "tern added only trace headers (Received), no Return-Path or Delivered-To", added)
    t.ok(srv.hostname.encode() in added, "tern's Received names its hostname", added)
t.eq(len(one(mx2, "u1@dest.test", m.msgid)), 0, "mx2 (MX 20) gets nothing while mx1 is up")
ls = srv.wait_deliver(rcpt="u1@dest.test", status="sent")
if t.eq(len(ls), 1, "one deliver line status=sent for u1@dest.test", srv.log()[-2000:]):
    d = ls[0]
    t.eq(d["qid"], m.qid, "deliver line carries the queue id from the 250 reply")
    t.eq(d["relay"], "mx1.dest.test[127.0.0.11]:%d" % P, "relay=host[ip]:port")
    t.ok(re.match(r"^2\.\d+\.\d+$", d["dsn"]), "dsn=2.x.x", d["line"])
    t.ok(d["reply"] and d["reply"].startswith("250 ") and "queued as mx1-" in d["reply"],
         "reply= quotes the server's 250", d["line"])
    t.ok(re.match(r"^\d+(\.\d+)?s?$", d["delay"] or ""), "delay= is a number", d["line"])
t.ok(srv.wait_removed(m.qid), "%s queue removed logged" % m.qid, srv.log()[-1500:])

# ---- first MX down ---------------------------------------------------------
m = inject(srv, SENDER, ["down@example.test"], "first MX down")
got = wait_one(up, "u@down.test", m.msgid)
t.eq(len(got), 1, "nothing on 127.0.0.13 (MX 10): MX 20 (127.0.0.14) takes the message")
t.ok(srv.wait_deliver(rcpt="u@down.test", status="sent", relay="mxup.down.test[127.0.0.14]:%d" % P),
     "deliver line names the second MX", srv.log()[-1500:])

# ---- first MX greets 421 ---------------------------------------------------
m = inject(srv, SENDER, ["busy@example.test"], "first MX busy")
got = wait_one(busy2, "u@busy.test", m.msgid)
t.eq(len(got), 1, "MX 10 greets 421: MX 20 takes the message")
t.ok(busy1.connections >= 1, "MX 10 was tried first (%d connections)" % busy1.connections)
t.ok(any(ln == "QUIT" for _, _, w, ln in busy1.events if w == "C") or
     not any(w == "C" and ln.split(" ")[0].upper() in ("EHLO", "HELO", "MAIL")
             for _, _, w, ln in busy1.events),
     "no EHLO/MAIL after a 421 greeting", busy1.events[:10])

# ---- no MX: A record --------------------------------------------------------
m = inject(srv, SENDER, ["amx@example.test"], "no MX")
got = wait_one(amx, "u@amx.test", m.msgid)
t.eq(len(got), 1, "no MX record: delivered to the domain's A record (127.0.0.15)")
t.ok(srv.wait_deliver(rcpt="u@amx.test", status="sent", relay="amx.test[127.0.0.15]:%d" % P),
     "deliver line relay=amx.test[127.0.0.15]", srv.log()[-1500:])

# ---- MX host with a dead IPv6 address ----------------------------------------
m = inject(srv, SENDER, ["v6@example.test"], "dead v6")
got = wait_one(v6, "u@v6.test", m.msgid)
t.eq(len(got), 1, "MX host with AAAA ::1 (nothing there) and A 127.0.0.19: delivered over IPv4")

# ---- one transaction per destination domain ------------------------------------
m = inject(srv, SENDER, ["multi@example.test"], "two domains")
got = wait_until(lambda: [tx for tx in mx1.accepted if tx.header("Message-ID") == m.msgid]
                 if sum(len(tx.rcpts) for tx in mx1.accepted
                        if tx.header("Message-ID") == m.msgid) >= 2 else None, 30) or \
    [tx for tx in mx1.accepted if tx.header("Message-ID") == m.msgid]
t.eq([sorted(tx.rcpts) for tx in got], [["a@dest.test", "b@dest.test"]],
     "dest.test: one transaction with both recipients")
got = wait_until(lambda: [tx for tx in oth.accepted if tx.header("Message-ID") == m.msgid], 30) or []
t.eq([tx.rcpts for tx in got], [["c@other.test"]], "other.test: its own transaction")

# ---- BODY=8BITMIME ----------------------------------------------------------------
m = inject(srv, SENDER, ["eight@example.test"], "eight bit",
           body="Gr\u00fc\u00dfe, 8-bit body.\r\n", mail_options=["BODY=8BITMIME"])
got = wait_one(mx1, "eight@dest.test", m.msgid)
if t.eq(len(got), 1, "8-bit message delivered"):
    t.eq(got[0].mail_params.get("BODY", "").upper(), "8BITMIME", "MAIL FROM carries BODY=8BITMIME",
         got[0].mail_params)
    t.ok(got[0].data.endswith(m.data), "8-bit body intact")

# ---- equal preferences --------------------------------------------------------------
mids = {}
for i in range(20):
    r = inject(srv, SENDER, ["eq%02d@example.test" % i], "equal pref %d" % i)
    mids["u@eq%02d.test" % i] = r.msgid
def eq_done():
    return all(len(one(e1, a, mid)) + len(one(e2, a, mid)) >= 1 for a, mid in mids.items())
t.ok(wait_until(eq_done, 60), "20 domains with two MX 10 hosts: all delivered")
counts = {a: len(one(e1, a, mid)) + len(one(e2, a, mid)) for a, mid in mids.items()}
t.eq(sorted(set(counts.values())), [1], "each delivered exactly once", counts)
n1 = sum(len(one(e1, a, mid)) for a, mid in mids.items())
n2 = sum(len(one(e2, a, mid)) for a, mid in mids.items())
t.ok(n1 >= 1 and n2 >= 1, "equal preferences spread over both hosts (%d/%d)" % (n1, n2))

# ---- wrap up ----------------------------------------------------------------------
t.ok(wait_until(lambda: srv.queue_ids() == [], 30), "spool queue empty", srv.queue_ids())
viol = [(s.name, v) for s in srv.servers for v in s.violations]
t.eq(viol, [], "no SMTP protocol slips seen by the servers")
t.eq(mx2.connections, 0, "MX 20 of dest.test never contacted")
bad = [ln for ln in srv.log().splitlines() if re.search(r"status=(deferred|bounced)", ln)
       and "busy.test" not in ln and "down.test" not in ln]
t.eq(bad, [], "no deferred or bounced lines except the planned ones")
for s in srv.servers:
    s.stop()
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
dns.stop()
t.done()
PYEOF
