#!/usr/bin/env bash
# t24_starttls: opportunistic STARTTLS on outbound connections.  To a
# private Postfix MX offering STARTTLS (its Received header says ESMTPS,
# tern logs tls=TLSv1.x); to a scripted server (EHLO again after TLS,
# nothing pipelined behind STARTTLS); STARTTLS answered 454 -> delivered
# in clear; STARTTLS accepted but the handshake is junk -> still
# delivered (in clear, on a later attempt); no STARTTLS -> in clear.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
. "$TERN_ROOT/tests/lib/outbound.sh"
require_tern
require_outbound
require_cmd postfix script openssl
on_cleanup 'postfix -c "$TERN_TEST_DIR/pf-dest/etc" stop'

"$PY" - <<'PYEOF'
import os, re, subprocess
from tern import Tap, wait_until
from outbound import TernOut, inject
from mta_peers import PostfixDest, received_with

t = Tap()
T = os.environ["TERN_TEST_DIR"]
srv = TernOut(24, "tern")
dns = srv.dnsmasq()
P = srv.mx_port

def cert(name, cn):
    c, k = os.path.join(T, name + ".crt"), os.path.join(T, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k,
                    "-out", c, "-days", "2", "-subj", "/CN=" + cn], capture_output=True, check=True)
    os.chmod(k, 0o644)
    return c, k

for d, ip in (("pf.test", "127.0.0.11"), ("tls.test", "127.0.0.12"), ("refuse.test", "127.0.0.13"),
              ("junk.test", "127.0.0.14"), ("clear.test", "127.0.0.15")):
    dns.mx(d, "mx." + d, 10)
    dns.host("mx." + d, ip)
ck = cert("scripted", "mx.tls.test")
pf = PostfixDest(os.path.join(T, "pf-dest"), "127.0.0.11", P, ["pf.test"], ["u@pf.test"],
                 tls=cert("postfix", "mx.pf.test"))
tls = srv.scripted("127.0.0.12", "tls", tls=ck)
refuse = srv.scripted("127.0.0.13", "refuse", tls=ck, starttls="454 4.7.0 t24 TLS not available")
junk = srv.scripted("127.0.0.14", "junk", tls=ck, tls_handshake="garbage")
clear = srv.scripted("127.0.0.15", "clear")
srv.domain("example.test", users=["alice"], aliases={
    "pf": ["u@pf.test"], "tls": ["u@tls.test"], "refuse": ["u@refuse.test"],
    "junk": ["u@junk.test"], "clear": ["u@clear.test"]})
srv.queue(min_retry="1s", max_retry="2s")
if not t.ok(dns.start(), "dnsmasq starts"):
    t.done()
try:
    up = pf.start()
except Exception as e:
    up = False
    t.diag(str(e))
t.ok(up, "Postfix destination with STARTTLS on 127.0.0.11:%d" % P)
for s in srv.servers:
    s.start()
if not t.ok(srv.start(), "tern starts"):
    t.done()
ALICE = "alice@example.test"
ms = {n: inject(srv, ALICE, ["%s@example.test" % n], "t24 " + n) for n in
      ("pf", "tls", "refuse", "junk", "clear")}
for n, m in ms.items():
    t.ok(m.ok, "tern accepts %s@" % n, m)

# ---- Postfix ---------------------------------------------------------------------
got = wait_until(lambda: [x for x in pf.messages("u@pf.test") if ms["pf"].msgid.encode() in x], 30) or []
if t.eq(len(got), 1, "Postfix destination receives the message", pf.log()[-1500:]):
    w = received_with(got[0])
    t.eq(w[:1], ["ESMTPS"], "Postfix's Received header says ESMTPS", w)
    t.ok(len(w) >= 2, "tern's own Received header follows", w)
ls = srv.deliver_lines(rcpt="u@pf.test", status="sent")
t.ok(ls and re.search(r"TLSv1\.[23]", ls[0]["tls"] or ""), "tern logs tls=TLSv1.x", ls)
t.ok(re.search(r"TLS connection established from \S+127\.0\.0\.1\]", pf.log()),
     "Postfix logged a TLS connection from tern")

# ---- scripted STARTTLS --------------------------------------------------------------------
got = wait_until(lambda: [x for x in tls.accepted if x.header("Message-ID") == ms["tls"].msgid], 30) or []
if t.eq(len(got), 1, "scripted STARTTLS server receives the message"):
    t.ok(got[0].tls and got[0].tls.startswith("TLSv1."), "transaction ran inside TLS (%s)" % got[0].tls)
ev = [(w, l.split(" ")[0].upper()) for _, c, w, l in tls.events if w in "CS" and c == got[0].conn] if got else []
seq = [v for w, v in ev if w == "C"]
t.eq(seq[:3], ["EHLO", "STARTTLS", "EHLO"], "EHLO, STARTTLS, EHLO again", seq)
t.eq(tls.violations, [], "nothing sent behind STARTTLS, no pipelining slips")

# ---- 454 to STARTTLS ---------------------------------------------------------------------------
got = wait_until(lambda: [x for x in refuse.accepted if x.header("Message-ID") == ms["refuse"].msgid], 30) or []
if t.eq(len(got), 1, "STARTTLS answered 454: delivered anyway"):
    t.eq(got[0].tls, None, "in clear")

# ---- junk instead of a handshake -------------------------------------------------------------------
got = wait_until(lambda: [x for x in junk.accepted if x.header("Message-ID") == ms["junk"].msgid], 45) or []
if t.eq(len(got), 1, "TLS handshake fails: opportunistic TLS falls back, delivered",
        "\n".join(d["line"] for d in srv.deliver_lines(rcpt="u@junk.test")[:3])):
    t.eq(got[0].tls, None, "in clear")

# ---- no STARTTLS ------------------------------------------------------------------------------------
got = wait_until(lambda: [x for x in clear.accepted if x.header("Message-ID") == ms["clear"].msgid], 30) or []
t.eq(len(got), 1, "server without STARTTLS: delivered in clear")
t.ok(not any(l.upper().startswith("STARTTLS") for _, _, w, l in clear.events if w == "C"),
     "no STARTTLS sent to a server that does not offer it")
ls = srv.deliver_lines(rcpt="u@clear.test", status="sent")
t.ok(ls and not re.search(r"TLSv", ls[0]["tls"] or ""), "log: no TLS version for the clear one", ls)

t.ok(wait_until(lambda: srv.queue_ids() == [], 15), "spool empty", srv.queue_ids())
for s in srv.servers:
    s.stop()
pf.stop()
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
dns.stop()
t.done()
PYEOF
