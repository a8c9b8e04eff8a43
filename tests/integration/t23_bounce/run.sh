#!/usr/bin/env bash
# t23_bounce: permanent failures become RFC 3464 bounces in the local
# sender's Maildir.  550 to RCPT (every DSN field checked), 250 + 550 in
# one transaction (one DSN naming only the failed recipient), 554 after
# DATA for two recipients, 553 to MAIL, null MX (5.1.10, no connection
# even though the domain has an A record), NXDOMAIN (5.x.x), SERVFAIL
# (deferred, no DSN, kept), a null-sender message refused with 550 (no
# DSN at all), more than max_received Received headers (5.4.6, never
# sent on).
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
. "$TERN_ROOT/tests/lib/outbound.sh"
require_tern
require_outbound

"$PY" - <<'PYEOF'
import os, re, time
from tern import Tap, wait_until
from outbound import TernOut, inject, dsn_for, final_rcpt

t = Tap()
srv = TernOut(23, "tern")
dns = srv.dnsmasq()
P = srv.mx_port
dns.mx("dest.test", "mx1.dest.test", 10); dns.host("mx1.dest.test", "127.0.0.11")
dns.mx("datarej.test", "mx.datarej.test", 10); dns.host("mx.datarej.test", "127.0.0.12")
dns.mx("mailrej.test", "mx.mailrej.test", 10); dns.host("mx.mailrej.test", "127.0.0.13")
dns.null_mx("nullmx.test"); dns.host("nullmx.test", "127.0.0.14")
dns.servfail("servfail.test")
REJ = "550 5.1.1 <gone@dest.test>: t23 user unknown XYZZY"
mx1 = srv.scripted("127.0.0.11", "mx1", rcpt={"gone@dest.test": REJ, "gone2@dest.test": REJ,
                                              "nullgone@dest.test": REJ})
drej = srv.scripted("127.0.0.12", "datarej", data="554 5.6.0 t23 content rejected PLUGH")
mrej = srv.scripted("127.0.0.13", "mailrej", mail="553 5.7.1 t23 sender rejected FROTZ")
nullhost = srv.scripted("127.0.0.14", "nullmx-a")
srv.domain("example.test", users=["alice", "bob"], aliases={
    "gone": ["gone@dest.test"], "mixed": ["ok@dest.test", "gone2@dest.test"],
    "datarej": ["a@datarej.test", "b@datarej.test"], "mailrej": ["u@mailrej.test"],
    "nullmx": ["u@nullmx.test"], "nx": ["u@nxdomain.test"], "sf": ["u@servfail.test"],
    "nullgone": ["nullgone@dest.test"], "loop": ["loop@dest.test"],
    "hops": ["hops@dest.test"]})
srv.queue(min_retry="1s", max_retry="2s", max_received=30)
if not t.ok(dns.start(), "dnsmasq starts"):
    t.done()
for s in srv.servers:
    s.start()
if not t.ok(srv.start(), "tern starts"):
    t.done()
ALICE, BOB = "alice@example.test", "bob@example.test"

def about(m):
    return lambda d: d["original"] is not None and m.msgid.encode() in d["original"]

def bounce_of(m, who="alice", timeout=30):
    return dsn_for(srv, "example.test", who, about(m), timeout)

# ---- 550 to RCPT -----------------------------------------------------------------
m = inject(srv, ALICE, ["gone@example.test"], "t23 gone", body="Original body GONE.\r\n")
t.ok(m.ok, "tern accepts gone@", m)
ds = bounce_of(m)
if t.eq(len(ds), 1, "550: one bounce in alice's Maildir"):
    d = ds[0]
    t.eq(d["content_type"], "multipart/report", "Content-Type multipart/report")
    t.eq(d["report_type"], "delivery-status", "report-type=delivery-status")
    t.ok(d["from"] and re.search(r"(?i)MAILER-DAEMON@" + re.escape(srv.hostname), d["from"]),
         "From: MAILER-DAEMON@%s" % srv.hostname, d["from"])
    t.ok(d["to"] and ALICE in d["to"], "To: the original sender", d["to"])
    t.eq(d["return_path"], "<>", "envelope sender <> (Return-Path)")
    t.eq(d["parts"][:2], ["text/plain", "message/delivery-status"],
         "parts: text/plain, message/delivery-status, ...", d["parts"])
    t.ok(d["original_type"] in ("message/rfc822", "text/rfc822-headers"),
         "third part returns the message or its headers (%s)" % d["original_type"])
    pm = d["per_message"]
    t.ok(re.match(r"(?i)dns;\s*" + re.escape(srv.hostname), pm.get("reporting-mta", "")),
         "Reporting-MTA: dns; hostname", pm)
    rs = d["recipients"]
    if t.eq(len(rs), 1, "one recipient block", rs):
        r = rs[0]
        t.eq(final_rcpt(r), "gone@dest.test", "Final-Recipient", r)
        t.eq(r.get("action"), "failed", "Action: failed")
        t.eq(r.get("status"), "5.1.1", "Status: 5.1.1 (from the reply)")
        t.ok("t23 user unknown XYZZY" in r.get("diagnostic-code", "") and
             r.get("diagnostic-code", "").lower().startswith("smtp;"),
             "Diagnostic-Code: smtp; the remote reply", r)
        t.ok("mx1.dest.test" in r.get("remote-mta", "mx1.dest.test"),
             "Remote-MTA (if given) names the MX", r)
    t.ok(d["text"] and "gone@dest.test" in d["text"], "human-readable part names the recipient")
ls = srv.wait_deliver(rcpt="gone@dest.test", status="bounced")
t.ok(ls and ls[0]["dsn"] == "5.1.1" and "XYZZY" in (ls[0]["reply"] or ""),
     "log: status=bounced dsn=5.1.1 with the reply", ls)
t.ok(srv.wait_removed(m.qid), "bounced message leaves the spool")
t.eq(len(mx1.delivered_to("gone@dest.test")), 0, "nothing delivered for gone@")

# ---- 250 + 550 in one transaction ---------------------------------------------------
m = inject(srv, BOB, ["mixed@example.test"], "t23 mixed")
got = wait_until(lambda: mx1.delivered_to("ok@dest.test"), 30) or []
t.eq([tx.rcpts for tx in got], [["ok@dest.test"]], "250 recipient delivered")
ds = bounce_of(m, "bob")
if t.eq(len(ds), 1, "one bounce to bob"):
    t.eq([final_rcpt(r) for r in ds[0]["recipients"]],
         ["gone2@dest.test"], "DSN names only the failed recipient")
t.eq(mx1.rcpt_attempts("gone2@dest.test"), 1, "550 recipient not retried")

# ---- 554 after DATA ------------------------------------------------------------------
m = inject(srv, ALICE, ["datarej@example.test"], "t23 datarej")
ds = bounce_of(m)
if t.eq(len(ds), 1, "554 after DATA: one bounce for the message"):
    rs = ds[0]["recipients"]
    t.eq(sorted(final_rcpt(r) for r in rs),
         ["a@datarej.test", "b@datarej.test"], "both recipients named")
    t.ok(all(r.get("status") == "5.6.0" and "PLUGH" in r.get("diagnostic-code", "") for r in rs),
         "Status 5.6.0 and the reply for both", rs)
t.eq(len(drej.commands("DATA")), 1, "DATA tried once")

# ---- 553 to MAIL -----------------------------------------------------------------------
m = inject(srv, ALICE, ["mailrej@example.test"], "t23 mailrej")
ds = bounce_of(m)
if t.eq(len(ds), 1, "553 to MAIL: bounce"):
    r = ds[0]["recipients"][0] if ds[0]["recipients"] else {}
    t.ok(r.get("status") == "5.7.1" and "FROTZ" in r.get("diagnostic-code", ""), "Status 5.7.1, reply", r)

# ---- null MX ----------------------------------------------------------------------------
m = inject(srv, ALICE, ["nullmx@example.test"], "t23 nullmx")
ds = bounce_of(m)
if t.eq(len(ds), 1, "null MX: bounce"):
    r = ds[0]["recipients"][0] if ds[0]["recipients"] else {}
    t.eq(r.get("status"), "5.1.10", "Status 5.1.10 (RFC 7505)", r)
    t.eq(final_rcpt(r), "u@nullmx.test", "Final-Recipient", r)
t.eq(nullhost.connections, 0, "null MX: no connection to the domain's A record")
t.ok(srv.deliver_lines(rcpt="u@nullmx.test", status="bounced", dsn="5.1.10"),
     "log: dsn=5.1.10 status=bounced", srv.log()[-1500:])

# ---- NXDOMAIN -----------------------------------------------------------------------------
m = inject(srv, ALICE, ["nx@example.test"], "t23 nxdomain")
ds = bounce_of(m)
if t.eq(len(ds), 1, "NXDOMAIN: bounce"):
    r = ds[0]["recipients"][0] if ds[0]["recipients"] else {}
    t.ok(r.get("status", "").startswith("5."), "Status 5.x.x (%s)" % r.get("status"), r)

# ---- SERVFAIL ------------------------------------------------------------------------------
m = inject(srv, ALICE, ["sf@example.test"], "t23 servfail")
ls = srv.wait_deliver(rcpt="u@servfail.test", status="deferred", n=2, timeout=20)
t.ok(len(ls) >= 2 and all(d["dsn"].startswith("4.") for d in ls),
     "SERVFAIL: deferred (dsn=4.x.x) and retried", ls or srv.log()[-1500:])
t.eq(len(bounce_of(m, timeout=1)), 0, "SERVFAIL: no bounce")
t.ok(m.qid in srv.queue_ids(), "SERVFAIL: message kept in the spool", srv.queue_ids())
t.ok(dns.upstream.count >= 1, "dnsmasq asked the failing upstream (%d)" % dns.upstream.count)

# ---- null sender refused: no DSN ---------------------------------------------------------------
before = len(srv.all_maildir_files())
m = inject(srv, "", ["nullgone@example.test"], "t23 null sender")
t.ok(m.ok, "tern accepts a null-sender message", m)
t.ok(srv.wait_deliver(rcpt="nullgone@dest.test", status="bounced"), "it fails with 550")
t.ok(srv.wait_removed(m.qid), "and leaves the spool")
time.sleep(1.0)  # a DSN would be written right after; give it a moment
t.eq(len(srv.all_maildir_files()), before, "no DSN for a null-sender message")

# ---- max_received ---------------------------------------------------------------------------
hops = "".join("Received: from hop%d.example by hop%d.example; Thu, 1 Jan 2026 00:00:%02d +0000\r\n"
               % (i, i + 1, i % 60) for i in range(31))
m = inject(srv, ALICE, ["loop@example.test"], "t23 loop", extra=hops)
if m.ok:
    ds = bounce_of(m)
    r = ds[0]["recipients"][0] if ds and ds[0]["recipients"] else {}
    t.eq(r.get("status"), "5.4.6", "31 Received > max_received 30: bounce 5.4.6", ds and ds[0]["recipients"])
else:
    t.ok(m.reply and m.reply.startswith("554") and "5.4.6" in m.reply or
         any("5.4.6" in v[1] for v in m.refused.values()),
         "31 Received > max_received 30: refused with 5.4.6", m)
t.eq(len(mx1.delivered_to("loop@dest.test")), 0, "the looping message is not sent on")
hops = hops.split("\r\n", 3)[3]   # 28 Received + tern's own = 29
m = inject(srv, ALICE, ["hops@example.test"], "t23 hops", extra=hops)
t.eq(len(wait_until(lambda: mx1.delivered_to("hops@dest.test"), 30) or []), 1,
     "28 Received headers: still delivered")

t.eq([(s.name, v) for s in srv.servers for v in s.violations], [], "no protocol slips")
for s in srv.servers:
    s.stop()
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
dns.stop()
t.done()
PYEOF
