#!/usr/bin/env bash
# t31_futurerelease: scheduled sending (RFC 4865).  EHLO on submission
# advertises FUTURERELEASE with max_hold and the latest release time, the
# MX port does not offer it (555); HOLDFOR/HOLDUNTIL good and bad (501
# 5.5.4 for malformed, duplicate or beyond max_hold); a HOLDUNTIL in the
# past means now; a message scheduled two seconds ahead is listed as
# scheduled, is not delivered before its time and is delivered after,
# local and remote recipients alike; a schedule survives a restart;
# `tern queue reschedule` moves one and `tern sendmail --at` makes one.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import calendar, json, os, re, smtplib, time
from tern import Tap, sha512_crypt, header, wait_until, run, message
from submission import TernTLS, make_cert, tls_ctx

t = Tap()
srv = TernTLS(31, "tern")
cert, key = make_cert(srv.dir, "default", "mx.test.example")
srv.tls(cert, key)
SUB = srv.listen("sub", 1, "submission")
PW = "Sched-Pw-31"
srv.domain("example.test", users=["alice", "bob"], passwords={"alice": sha512_crypt(PW)})
srv.section("queue", max_hold="1d", min_retry="1h")
if not t.ok(srv.start(), "tern starts"):
    t.done()
T = os.environ["TERN_BIN"]

def tern(*args):
    return run([T] + list(args) + ["-c", srv.conf])

def qmsg(qid):
    rc, out, err = tern("queue", "list", "--json")
    for m in (json.loads(out) if rc == 0 else []):
        if m["id"] == qid:
            return m
    return None

def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))

def login():
    s = smtplib.SMTP("127.0.0.1", SUB, local_hostname="client.test", timeout=30)
    s.ehlo()
    s.starttls(context=tls_ctx())
    s.ehlo()
    s.login("alice@example.test", PW)
    return s

def mail_with(s, params):
    return s.docmd("MAIL FROM:<alice@example.test>" + (" " + params if params else ""))

def send(params, rcpts, subject):
    s = login()
    code, resp = mail_with(s, params)
    if code != 250:
        s.quit()
        return code, resp, None
    for r in rcpts:
        s.rcpt(r)
    code, resp = s.data(message("alice@example.test", rcpts[0], subject))
    s.quit()
    m = re.search(rb"queued as (\S+)", resp)
    return code, resp, m.group(1).decode() if m else None

def in_box(user, subject):
    return [m for m in srv.read_messages("example.test", user)
            if header(m, "Subject") == subject]

# ---- EHLO ----------------------------------------------------------------
s = login()
fr = s.esmtp_features.get("futurerelease", "")
parts = fr.split()
t.ok(len(parts) == 2 and parts[0] == "86400", "EHLO on submission: FUTURERELEASE 86400 <date-time>", fr)
if len(parts) == 2:
    latest = calendar.timegm(time.strptime(parts[1], "%Y-%m-%dT%H:%M:%SZ"))
    t.ok(abs(latest - (time.time() + 86400)) < 30, "the advertised date-time is now + max_hold", parts[1])

# ---- bad parameters -------------------------------------------------------
for params, what in (("HOLDFOR=abc", "HOLDFOR not a number"),
                     ("HOLDFOR=1234567890", "HOLDFOR with 10 digits"),
                     ("HOLDFOR=", "HOLDFOR without a value"),
                     ("HOLDUNTIL=tomorrow", "HOLDUNTIL not a date-time"),
                     ("HOLDUNTIL=2026-13-01T00:00:00Z", "HOLDUNTIL month 13"),
                     ("HOLDUNTIL=+1h", "HOLDUNTIL relative"),
                     ("HOLDFOR=10 HOLDUNTIL=2030-01-01T00:00:00Z", "both HOLDFOR and HOLDUNTIL")):
    code, resp = mail_with(s, params)
    t.ok(code == 501 and resp.startswith(b"5.5.4"), "%s: 501 5.5.4" % what, (code, resp))
code, resp = mail_with(s, "HOLDFOR=86401")
t.ok(code == 501 and resp.startswith(b"5.5.4"), "HOLDFOR beyond max_hold: 501 5.5.4", (code, resp))
code, resp = mail_with(s, "HOLDUNTIL=" + iso(time.time() + 2 * 86400))
t.ok(code == 501 and resp.startswith(b"5.5.4"), "HOLDUNTIL beyond max_hold: 501 5.5.4", (code, resp))
code, resp = mail_with(s, "HOLDFOR=60")
t.eq(code, 250, "HOLDFOR=60 accepted after the errors", resp)
s.quit()

with smtplib.SMTP(srv.host, srv.port, timeout=20) as mx:
    mx.ehlo("client.test")
    t.ok("futurerelease" not in mx.esmtp_features, "the MX port does not advertise FUTURERELEASE")
    code, resp = mx.docmd("MAIL FROM:<x@remote.test> HOLDFOR=60")
    t.eq(code, 555, "HOLDFOR on the MX port: 555", resp)

# ---- a past HOLDUNTIL is now ----------------------------------------------
code, resp, qid = send("HOLDUNTIL=2001-01-01T00:00:00Z", ["bob@example.test"], "t31 past")
t.eq(code, 250, "HOLDUNTIL in the past: accepted", resp)
t.ok(wait_until(lambda: in_box("bob", "t31 past"), 10), "... and delivered at once")

# ---- two seconds ahead ------------------------------------------------------
code, resp, qid = send("HOLDFOR=3", ["bob@example.test", "carol@remote.example"], "t31 soon")
t.ok(code == 250 and qid, "HOLDFOR=3 to a local and a remote recipient: 250", resp)
m = qmsg(qid) or {}
t.eq(m.get("state"), "scheduled", "queue list: scheduled", m)
t.eq(sorted(r["state"] for r in m.get("recipients", [])), ["scheduled", "scheduled"],
     "both recipients scheduled")
time.sleep(1.0)
t.eq(in_box("bob", "t31 soon"), [], "not delivered before its time")
t.ok(wait_until(lambda: in_box("bob", "t31 soon"), 15), "delivered to the local recipient after its time")
m = wait_until(lambda: (qmsg(qid) or {}).get("state") == "deferred" and qmsg(qid), 15) or {}
r = [x for x in m.get("recipients", []) if x["address"] == "carol@remote.example"]
t.ok(r and r[0]["attempts"] >= 1, "the remote recipient was attempted after its time (deferred: no DNS here)", m)

# ---- survives a restart, then a reschedule --------------------------------
code, resp, qid2 = send("HOLDFOR=3600", ["bob@example.test"], "t31 later")
t.ok(code == 250 and qid2, "HOLDFOR=3600: 250", resp)
t.ok(srv.stop() == 0 and srv.start(write=False), "restart")
m = qmsg(qid2) or {}
t.eq(m.get("state"), "scheduled", "still scheduled after a restart", m)
nxt = calendar.timegm(time.strptime(m.get("next_attempt") or "1970-01-01T00:00:00Z", "%Y-%m-%dT%H:%M:%SZ"))
t.ok(3000 < nxt - time.time() <= 3600, "next_attempt is the release time", m.get("next_attempt"))
rc, out, err = tern("queue", "reschedule", qid2, iso(time.time() + 2))
t.eq(rc, 0, "queue reschedule to an RFC 3339 time 2 s ahead", err)
t.eq(in_box("bob", "t31 later"), [], "not delivered right after the reschedule")
t.ok(wait_until(lambda: in_box("bob", "t31 later"), 15), "delivered at the new time")

# ---- sendmail --at --------------------------------------------------------
msg = b"Subject: t31 at\nFrom: alice@example.test\n\nscheduled from the command line\n"
rc, out, err = run([T, "sendmail", "--at", "+2s", "-C", srv.conf, "bob@example.test"], input=msg)
t.eq(rc, 0, "sendmail --at +2s: exit 0", err)
time.sleep(0.5)
t.eq(in_box("bob", "t31 at"), [], "sendmail --at: not delivered before")
t.ok(wait_until(lambda: in_box("bob", "t31 at"), 15), "sendmail --at: delivered after")
rc, out, err = run([T, "sendmail", "--at", "+3d", "-C", srv.conf, "bob@example.test"], input=msg)
t.ok(rc != 0 and "max_hold" in err, "sendmail --at beyond max_hold: refused", (rc, err))

t.eq(srv.stop(), 0, "SIGTERM: tern exits 0")
t.ok(not srv.sanitizer_report(), "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
