#!/usr/bin/env bash
# t21_retry: temporary failures are retried with backoff and delivered
# once.  451 to RCPT four times then 250 (min_retry 2s, max_retry 6s:
# gaps of about 2, 4, 6, 6 s, each allowed to be up to 1 s short since
# tern schedules in whole seconds; deferred lines with the server's reply),
# 421 greeting then 220, 451 after DATA then 250, connection dropped
# after the final dot (no reply) then 250, 452 to one of two recipients
# (the other delivered at once, the 452 one later, separately).
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
. "$TERN_ROOT/tests/lib/outbound.sh"
require_tern
require_outbound

"$PY" - <<'PYEOF'
import os, re, time
from tern import Tap, wait_until
from outbound import TernOut, inject

t = Tap()
srv = TernOut(21, "tern")
dns = srv.dnsmasq()
P = srv.mx_port
hosts = {"retry.test": "127.0.0.11", "greet.test": "127.0.0.12", "datatemp.test": "127.0.0.13",
         "drop.test": "127.0.0.14", "full.test": "127.0.0.15"}
for d, ip in hosts.items():
    dns.mx(d, "mx." + d, 10)
    dns.host("mx." + d, ip)
G = "451 4.3.0 t21 greylisted, come back later"
retry = srv.scripted(hosts["retry.test"], "retry", rcpt={"u@retry.test": [G, G, G, G, "250 2.1.5 ok"]})
greet = srv.scripted(hosts["greet.test"], "greet",
                     greeting=["421 4.3.2 t21 too busy", "220 mx.greet.test ESMTP"])
dtemp = srv.scripted(hosts["datatemp.test"], "datatemp",
                     data=["451 4.3.0 t21 data later", "250 2.0.0 ok"])
drop = srv.scripted(hosts["drop.test"], "drop", data=["close", "250 2.0.0 ok"])
full = srv.scripted(hosts["full.test"], "full",
                    rcpt={"b@full.test": ["452 4.2.2 t21 mailbox full", "250 2.1.5 ok"]})
srv.domain("example.test", users=["alice"], aliases={
    "retry": ["u@retry.test"], "greet": ["u@greet.test"], "datatemp": ["u@datatemp.test"],
    "drop": ["u@drop.test"], "full": ["a@full.test", "b@full.test"]})
srv.queue(min_retry="2s", max_retry="6s", max_age="1h", delay_warning="1h")
if not t.ok(dns.start(), "dnsmasq starts"):
    t.done()
for s in srv.servers:
    s.start()
if not t.ok(srv.start(), "tern starts"):
    t.done()
SENDER = "alice@example.test"

ms = {}
for name in ("retry", "greet", "datatemp", "drop", "full"):
    ms[name] = inject(srv, SENDER, ["%s@example.test" % name], "t21 " + name)
    t.ok(ms[name].ok, "tern accepts %s@" % name, ms[name])

def mine(server, name):
    return [tx for tx in server.accepted if tx.header("Message-ID") == ms[name].msgid]

# ---- 451 x4 then 250 ----------------------------------------------------------
got = wait_until(lambda: mine(retry, "retry"), 60) or []
t.eq(len(got), 1, "451 four times, then delivered once")
t.eq(retry.rcpt_attempts("u@retry.test"), 5, "five RCPT attempts")
times = [tm for tm, _, w, ln in retry.events if w == "C" and ln.upper().startswith("RCPT TO:<U@RETRY.TEST>")]
gaps = [b - a for a, b in zip(times, times[1:])]
t.diag("retry gaps: %s" % ", ".join("%.2f" % g for g in gaps))
if t.eq(len(gaps), 4, "four gaps between attempts"):
    t.ok(gaps[0] >= 1.0, "first retry after min_retry 2s (-1 s granularity) (%.2f)" % gaps[0])
    t.ok(gaps[1] >= 3.0, "second retry after 4s: backoff doubles (%.2f)" % gaps[1])
    t.ok(gaps[2] >= 5.0, "third retry after 6s, not 8s: capped (%.2f)" % gaps[2])
    t.ok(5.0 <= gaps[3] <= 7.5, "fourth retry after max_retry 6s (%.2f)" % gaps[3])
    t.ok(gaps[2] <= 7.5, "no gap beyond max_retry (%.2f)" % gaps[2])
    short = [(i, round(g, 2), w) for i, (g, w) in enumerate(zip(gaps, (2, 4, 6, 6))) if g < w - 0.1]
    if short:
        print("# note: retries earlier than the logged next=+Ns: %s (whole-second schedule)" % short)
dl = srv.deliver_lines(rcpt="u@retry.test")
t.eq([d["status"] for d in dl], ["deferred"] * 4 + ["sent"], "log: 4 x deferred, then sent",
     "\n".join(d["line"] for d in dl))
t.ok(all(d["dsn"] == "4.3.0" and "t21 greylisted" in (d["reply"] or "") for d in dl[:4]),
     "deferred lines carry dsn=4.3.0 and the server's reply", "\n".join(d["line"] for d in dl))
t.ok(all(d["qid"] == ms["retry"].qid for d in dl), "all attempts logged under one queue id")

# ---- 421 greeting ------------------------------------------------------------------
got = wait_until(lambda: mine(greet, "greet"), 30) or []
t.eq(len(got), 1, "421 greeting, then delivered once on retry")
t.ok(greet.connections >= 2, "two connections (%d)" % greet.connections)
dl = srv.deliver_lines(rcpt="u@greet.test", status="deferred")
t.ok(dl and dl[0]["reply"] and "421" in dl[0]["reply"] and dl[0]["dsn"].startswith("4."),
     "deferred line quotes the 421 greeting", dl)

# ---- 451 after DATA -------------------------------------------------------------------
got = wait_until(lambda: mine(dtemp, "datatemp"), 30) or []
t.eq(len(got), 1, "451 after DATA, then delivered once")
t.eq(len(dtemp.commands("DATA")), 2, "DATA sent twice in all")

# ---- dropped after the final dot -----------------------------------------------------------
got = wait_until(lambda: mine(drop, "drop"), 30) or []
t.eq(len(got), 1, "connection dropped after the dot: retried, delivered once")
t.ok(srv.deliver_lines(rcpt="u@drop.test", status="deferred"),
     "the lost reply is logged as deferred", srv.log()[-1500:])

# ---- 452 to one of two recipients ----------------------------------------------------------
wait_until(lambda: len([tx for tx in mine(full, "full")]) >= 2, 30)
got = mine(full, "full")
t.eq([tx.rcpts for tx in got], [["a@full.test"], ["b@full.test"]],
     "a@ delivered at once, b@ (452) in a later transaction alone", [tx.rcpts for tx in got])

# ---- wrap up -------------------------------------------------------------------------------
for name, m in ms.items():
    t.ok(srv.wait_removed(m.qid, 20), "%s: queue removed" % name)
t.ok(wait_until(lambda: srv.queue_ids() == [], 20), "spool empty", srv.queue_ids())
t.eq(srv.read_messages("example.test", "alice"), [], "no DSN to the sender for temporary failures")
t.eq([(s.name, v) for s in srv.servers for v in s.violations], [], "no protocol slips")
t.ok(not srv.deliver_lines(status="bounced"), "nothing bounced")
for s in srv.servers:
    s.stop()
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
dns.stop()
t.done()
PYEOF
