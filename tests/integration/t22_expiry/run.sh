#!/usr/bin/env bash
# t22_expiry: max_age and delay_warning.  [queue] max_age = 6s,
# delay_warning = 2s, min_retry = max_retry = 1s.  A message whose server
# always answers 451 gets exactly one "Action: delayed" DSN, then one
# "Action: failed" DSN at expiry (with the last reply as diagnostic),
# and leaves the spool.  A message accepted after ~3.5 s gets one delayed
# DSN and no failure; a message accepted at once gets none; a null-sender
# message that expires produces no DSN at all.
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
srv = TernOut(22, "tern")
dns = srv.dnsmasq()
dns.mx("busy.test", "mx.busy.test", 10); dns.host("mx.busy.test", "127.0.0.11")
dns.mx("slow.test", "mx.slow.test", 10); dns.host("mx.slow.test", "127.0.0.12")
dns.mx("fast.test", "mx.fast.test", 10); dns.host("mx.fast.test", "127.0.0.13")
BUSY = "451 4.3.0 t22 always busy here"
t0 = [None]
busy = srv.scripted("127.0.0.11", "busy", rcpt={"*": BUSY})
slow = srv.scripted("127.0.0.12", "slow", rcpt={"*": lambda sess, arg: (
    "451 4.3.0 t22 not yet" if time.time() < t0[0] + 3.5 else "250 2.1.5 ok")})
fast = srv.scripted("127.0.0.13", "fast")
srv.domain("example.test", users=["alice"], aliases={
    "busy": ["u@busy.test"], "slow": ["u@slow.test"], "fast": ["u@fast.test"],
    "nullbusy": ["n@busy.test"]})
srv.queue(min_retry="1s", max_retry="1s", max_age="6s", delay_warning="2s")
if not t.ok(dns.start(), "dnsmasq starts"):
    t.done()
for s in srv.servers:
    s.start()
if not t.ok(srv.start(), "tern starts"):
    t.done()
SENDER = "alice@example.test"
t0[0] = time.time()
mb = inject(srv, SENDER, ["busy@example.test"], "t22 busy")
ms = inject(srv, SENDER, ["slow@example.test"], "t22 slow")
mf = inject(srv, SENDER, ["fast@example.test"], "t22 fast")
mn = inject(srv, "", ["nullbusy@example.test"], "t22 null sender")
for m in (mb, ms, mf, mn):
    t.ok(m.ok, "tern accepts %s" % m.msgid, m)

def about(m):
    return lambda d: d["original"] is not None and m.msgid.encode() in d["original"]

def action(a):
    return lambda d: any(r.get("action") == a for r in d["recipients"])

# ---- always 451: delayed, then failed --------------------------------------------
failed = dsn_for(srv, "example.test", "alice", lambda d: about(mb)(d) and action("failed")(d), 40)
if t.eq(len(failed), 1, "expired message: one failed DSN"):
    d = failed[0]
    r = d["recipients"][0]
    t.eq(d["report_type"], "delivery-status", "report-type=delivery-status")
    t.eq(final_rcpt(r), "u@busy.test", "Final-Recipient", r)
    t.ok(re.match(r"^[45]\.\d+\.\d+$", r.get("status", "")), "Status is x.y.z (%s)" % r.get("status"))
    t.ok("t22 always busy here" in r.get("diagnostic-code", ""),
         "Diagnostic-Code carries the last reply", r)
    t.ok(time.time() - t0[0] >= 5.0, "not before max_age (%.1f s)" % (time.time() - t0[0]))
delayed = dsn_for(srv, "example.test", "alice", lambda d: about(mb)(d) and action("delayed")(d), 5)
if t.eq(len(delayed), 1, "expired message: exactly one delayed DSN before that"):
    r = delayed[0]["recipients"][0]
    t.ok(r.get("status", "").startswith("4."), "delayed DSN Status 4.x.x", r)
    t.eq(final_rcpt(r), "u@busy.test", "delayed DSN Final-Recipient")
    t.ok(delayed[0]["msg"].get("Date") is not None, "delayed DSN has a Date")
t.ok(srv.wait_removed(mb.qid, 10), "expired message: queue removed")
t.ok(srv.deliver_lines(rcpt="u@busy.test", status="bounced") or
     re.search(r"%s .*(expired|bounced|failed) rcpt=<u@busy.test>" % re.escape(mb.qid or "-"),
               srv.log()),
     "expiry logged (status=bounced or queue failed)", srv.log()[-1500:])
n_busy = busy.rcpt_attempts("u@busy.test")
t.ok(3 <= n_busy <= 9, "about one attempt a second until expiry (%d)" % n_busy)

# ---- accepted after 3.5 s: one delayed DSN, delivered --------------------------------
got = wait_until(lambda: [x for x in slow.accepted if x.header("Message-ID") == ms.msgid], 20) or []
t.eq(len(got), 1, "slow message delivered once after ~3.5 s")
t.eq(len(dsn_for(srv, "example.test", "alice", lambda d: about(ms)(d) and action("delayed")(d), 5)),
     1, "slow message: one delayed DSN")
t.eq(len(dsn_for(srv, "example.test", "alice", lambda d: about(ms)(d) and action("failed")(d), 1)),
     0, "slow message: no failed DSN")

# ---- fast and null sender --------------------------------------------------------------
t.eq(len([x for x in fast.accepted if x.header("Message-ID") == mf.msgid]), 1, "fast message delivered")
t.ok(srv.wait_removed(mn.qid, 15), "null-sender message expires and leaves the spool")
all_dsn = dsn_for(srv, "example.test", "alice", None, 2)
t.eq(len([d for d in all_dsn if about(mf)(d)]), 0, "fast message: no DSN")
t.eq(len([d for d in all_dsn if about(mn)(d)]), 0, "null-sender message: no DSN")
t.eq(len(srv.all_maildir_files()), 3, "three DSNs in all (2 busy, 1 slow)",
     [d["subject"] for d in all_dsn])
for d in all_dsn:
    t.eq(d["return_path"], "<>", "DSN %s: envelope sender <>" % d["subject"])
t.ok(wait_until(lambda: srv.queue_ids() == [], 10), "spool empty", srv.queue_ids())
for s in srv.servers:
    s.stop()
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
dns.stop()
t.done()
PYEOF
