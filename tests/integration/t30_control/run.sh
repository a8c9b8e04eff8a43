#!/usr/bin/env bash
# t30_control: the control socket and the operator's commands against a
# running tern.  A clear error (exit 75) when no server runs; queue list
# (text and --json, parsed), mailq (argv[0]) and queue show (headers,
# attempt history); hold survives a restart, release and flush make a
# deferred recipient due now, flush --domain, reschedule, bounce (a DSN
# reaches the local sender), delete (gone, no DSN); stats --json; reload
# with a broken config keeps the old one (FILE:LINE in the answer);
# socket modes; a second tern on the same spool refuses to start; usage
# errors; SIGTERM removes the sockets.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import json, os, re, smtplib, stat, subprocess, time
from tern import Tap, Tern, message, header, wait_until, run, spawn, record_pid

t = Tap()
srv = Tern(30, "ctl")
srv.domain("example.test", users=["alice", "bob"],
           aliases={"fwd": ["far@remote.test"], "fwd2": ["other@elsewhere.test"]})
srv.write_config()
T = os.environ["TERN_BIN"]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

def tern(*args, timeout=60):
    return run([T] + list(args) + ["-c", srv.conf], timeout=timeout)

def qlist():
    rc, out, err = tern("queue", "list", "--json")
    try:
        return json.loads(out) if rc == 0 else None
    except ValueError:
        return None

def find(mid):
    for m in qlist() or []:
        if m["id"] == mid:
            return m
    return None

def send(sender, rcpt, subject):
    with smtplib.SMTP(srv.host, srv.port, timeout=20) as s:
        s.ehlo("client.test")
        code, resp = s.mail(sender)
        s.rcpt(rcpt)
        code, resp = s.data(message(sender, rcpt, subject))
    m = re.search(rb"queued as (\S+)", resp)
    return m.group(1).decode() if m else None

# ---- no server ------------------------------------------------------------
rc, out, err = tern("queue", "list")
t.ok(rc == 75 and "not running" in err, "queue list without a server: exit 75, 'not running'", (rc, err))
rc, out, err = tern("stats")
t.eq(rc, 75, "stats without a server: exit 75", err)

if not t.ok(srv.start(), "tern starts"):
    t.done()
ctl = os.path.join(srv.spool, "control.sock")
sub = os.path.join(srv.spool, "submit.sock")
t.eq(stat.S_IMODE(os.stat(ctl).st_mode), 0o600, "control.sock is 0600")
t.eq(stat.S_IMODE(os.stat(sub).st_mode), 0o666, "submit.sock is 0666")
t.eq(stat.S_IMODE(os.stat(srv.spool).st_mode), 0o711, "the spool directory is 0711 (passable, not listable)")

# ---- a second server on the same spool ------------------------------------
other = Tern(30, "ctl2")
other.server["spool"] = srv.spool
other.domain("example.test", users=["alice"])
other.listens = [("mx", "127.0.0.1:%d" % srv.ports(1), "mx")]
other.write_config()
rc, out, err = run([T, "serve", "-c", other.conf], timeout=20)
t.ok(rc != 0 and "another tern is running" in err, "a second tern on the same spool refuses to start", (rc, err[-300:]))
t.ok(os.path.exists(ctl), "... and leaves the first one's socket alone")

# ---- empty queue ------------------------------------------------------------
t.eq(qlist(), [], "queue list --json: [] when empty")
rc, out, err = tern("queue", "list")
t.ok(rc == 0 and "0 messages" in out, "queue list: '0 messages'", (rc, out, err))
mailq = os.path.join(os.environ["TERN_TEST_DIR"], "mailq")
os.symlink(T, mailq)
rc, out, err = run([mailq, "-c", srv.conf])
t.ok(rc == 0 and "Mail queue is empty" in out, "mailq (argv[0]): 'Mail queue is empty'", (rc, out, err))

# ---- a deferred message ---------------------------------------------------
mid = send("alice@example.test", "fwd@example.test", "deferred one")
t.ok(mid is not None, "message to a remote alias target accepted", mid)
m = wait_until(lambda: (find(mid) or {}).get("state") == "deferred" and find(mid), 15)
t.ok(m, "queue list --json: the message becomes deferred (its DNS is refused)", qlist())
if m:
    t.ok(RFC3339.match(m["arrival"] or ""), "arrival is RFC 3339", m["arrival"])
    t.ok(RFC3339.match(m["next_attempt"] or ""), "next_attempt is RFC 3339", m["next_attempt"])
    t.eq(m["sender"], "alice@example.test", "sender")
    t.ok(m["size"] > 100, "size in bytes", m["size"])
    r = m["recipients"][0] if m["recipients"] else {}
    t.eq((r.get("address"), r.get("state"), r.get("attempts")), ("far@remote.test", "deferred", 1),
         "recipient: address, deferred, 1 attempt")
    t.ok(r.get("last_error"), "recipient: last_error says why", r)
    t.eq(sorted(m.keys()), sorted(["id", "arrival", "size", "sender", "state", "next_attempt", "recipients"]),
         "message object has the documented keys")
rc, out, err = tern("queue", "list")
t.ok(rc == 0 and mid in out and "deferred" in out and "far@remote.test" in out, "queue list (text) names id, state, recipient", out)
r = subprocess.run([T, "queue", "list"], capture_output=True, env=dict(os.environ, TERN_CONFIG=srv.conf))
t.ok(r.returncode == 0 and mid.encode() in r.stdout, "without -c, $TERN_CONFIG names the config", r.stderr)
rc, out, err = run([mailq, "-c", srv.conf])
t.ok(rc == 0 and mid in out and "Request." in out and "far@remote.test" in out, "mailq shows it, Postfix style", out)
rc, out, err = tern("queue", "show", mid)
t.ok(rc == 0 and "Subject: deferred one" in out and "attempts:" in out and "deferred" in out,
     "queue show: envelope, headers, attempt history", out)
rc, out, err = tern("queue", "show", mid, "--json")
try:
    sj = json.loads(out)
except ValueError:
    sj = {}
t.ok(sj.get("message", {}).get("id") == mid and "Subject: deferred one" in sj.get("headers", "") and len(sj.get("history", [])) >= 1,
     "queue show --json: message, headers and history", out[:400])

# ---- hold, restart, release ---------------------------------------------
rc, out, err = tern("queue", "hold", mid)
t.eq(rc, 0, "queue hold: exit 0", err)
t.eq((find(mid) or {}).get("state"), "held", "held")
t.eq((find(mid) or {}).get("recipients", [{}])[0].get("state"), "held", "its recipient shows held")
t.eq(srv.stop(), 0, "tern stops (SIGTERM, exit 0)")
t.ok(srv.start(write=False), "tern starts again")
t.eq((find(mid) or {}).get("state"), "held", "still held after a restart (journaled)")
rc, out, err = tern("queue", "flush", mid)
time.sleep(1.0)
t.eq((find(mid) or {}).get("recipients", [{}])[0].get("attempts"), 1, "flush leaves held mail held (no attempt)")
rc, out, err = tern("queue", "release", mid)
t.eq(rc, 0, "queue release: exit 0", err)
t.ok(wait_until(lambda: (find(mid) or {}).get("recipients", [{}])[0].get("attempts") == 2, 15),
     "release: due now, attempt 2 happens", find(mid))
rc, out, err = tern("queue", "flush", mid)
t.ok(rc == 0 and "1 message flushed" in out, "queue flush ID: '1 message flushed'", (rc, out, err))
t.ok(wait_until(lambda: (find(mid) or {}).get("recipients", [{}])[0].get("attempts") == 3, 15),
     "flush: attempt 3 happens now", find(mid))
rc, out, err = tern("queue", "flush", "--domain", "nowhere.test")
t.ok(rc == 0 and "0 messages flushed" in out, "flush --domain of another domain: 0 messages", out)
rc, out, err = tern("queue", "flush", "--domain", "REMOTE.test")
t.ok(rc == 0 and "1 message flushed" in out, "flush --domain (any case): 1 message", out)
t.ok(wait_until(lambda: (find(mid) or {}).get("recipients", [{}])[0].get("attempts") == 4, 15),
     "flush --domain: attempt 4", find(mid))

# ---- reschedule -----------------------------------------------------------
rc, out, err = tern("queue", "reschedule", mid, "+1h")
m = find(mid) or {}
t.ok(rc == 0 and m.get("state") == "scheduled", "reschedule +1h: scheduled", (rc, err, m))
if m.get("next_attempt"):
    nxt = time.mktime(time.strptime(m["next_attempt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    t.ok(3500 < nxt - time.time() < 3700, "next_attempt is an hour ahead", m["next_attempt"])
rc, out, err = tern("queue", "reschedule", mid, "yesterday")
t.eq(rc, 2, "reschedule with a bad time: exit 2", err)

# ---- bounce -----------------------------------------------------------------
rc, out, err = tern("queue", "bounce", mid)
t.eq(rc, 0, "queue bounce: exit 0", err)
dsn = wait_until(lambda: [x for x in srv.read_messages("example.test", "alice")
                          if b"multipart/report" in x and b"far@remote.test" in x], 15)
t.ok(dsn, "bounce: a DSN naming the recipient reaches the sender")
t.ok(wait_until(lambda: find(mid) is None, 10), "bounce: the message leaves the queue")

# ---- delete -----------------------------------------------------------------
before = len(srv.read_messages("example.test", "alice"))
mid2 = send("alice@example.test", "fwd2@example.test", "to delete")
t.ok(wait_until(lambda: find(mid2), 10), "a second message is queued")
rc, out, err = tern("queue", "delete", mid2)
t.eq(rc, 0, "queue delete: exit 0", err)
t.eq(find(mid2), None, "delete: gone from the list")
t.ok(not os.path.exists(os.path.join(srv.spool, "queue", mid2)), "delete: gone from the spool")
time.sleep(1.5)
t.eq(len(srv.read_messages("example.test", "alice")), before, "delete: no DSN")

# ---- errors -----------------------------------------------------------------
rc, out, err = tern("queue", "show", "nosuch")
t.ok(rc == 1 and "no such message" in err, "show of an unknown id: exit 1, 'no such message'", (rc, err))
rc, out, err = tern("queue", "hold", "nosuch")
t.eq(rc, 1, "hold of an unknown id: exit 1", err)
rc, out, err = tern("queue", "frobnicate")
t.eq(rc, 2, "unknown queue verb: exit 2", err)
rc, out, err = tern("queue", "list", "extra")
t.eq(rc, 2, "extra argument: exit 2", err)

# ---- stats ----------------------------------------------------------------
rc, out, err = tern("stats", "--json")
try:
    st = json.loads(out)
except ValueError:
    st = {}
t.ok(rc == 0 and all(k in st for k in ("received", "delivered", "deferred", "bounced", "queue", "sessions_open")),
     "stats --json: the counters", out)
t.ok(st.get("received", 0) >= 1 and st.get("bounced", 0) >= 1 and st.get("deferred", 0) >= 3 and
     st.get("dsn_sent", 0) >= 1 and st.get("sessions", 0) >= 2,
     "stats: received, deferred, bounced, DSNs and sessions since this start", st)
rc, out, err = tern("stats")
t.ok(rc == 0 and re.search(r"(?m)^received\s+\d+", out), "stats (text)", out)

# ---- reload ---------------------------------------------------------------
good = open(srv.conf).read()
with open(srv.conf, "a") as f:
    f.write("\n[bogus]\nkey = 1\n")
rc, out, err = tern("reload")
t.ok(rc == 1 and re.search(r"tern\.conf:\d+:", out + err) and "old configuration stays" in err,
     "reload with a broken config: exit 1, FILE:LINE, old one stays", (rc, out, err))
with smtplib.SMTP(srv.host, srv.port, timeout=10) as s:
    t.eq(s.ehlo("x")[0], 250, "still serving after the refused reload")
with open(srv.conf, "w") as f:
    f.write(good.replace("[domain example.test]", "[domain new.test]\n\n[domain example.test]"))
rc, out, err = tern("reload")
t.eq(rc, 0, "reload with a good config: exit 0", (out, err))
with smtplib.SMTP(srv.host, srv.port, timeout=10) as s:
    s.ehlo("x")
    s.mail("a@b.test")
    t.eq(s.rcpt("postmaster@new.test")[0], 250, "the reloaded config serves new.test")

# ---- SIGTERM lets a transaction in flight finish --------------------------
import socket
from tern import Raw
idle = Raw(srv.host, srv.port)
idle.cmd("EHLO idle.test")
busy = Raw(srv.host, srv.port)
busy.cmd("EHLO busy.test")
busy.cmd("MAIL FROM:<x@remote.test>")
busy.cmd("RCPT TO:<bob@example.test>")
code = busy.cmd("DATA")[0]
busy.send(b"Subject: t30 in flight\r\n\r\nfirst half\r\n")
srv.proc.send_signal(15)
time.sleep(0.5)
t.ok(idle.reply()[0] == 421, "SIGTERM: an idle session gets 421")
try:
    socket.create_connection((srv.host, srv.port), timeout=2).close()
    refused = False
except OSError:
    refused = True
t.ok(refused, "SIGTERM: no new connections")
busy.send(b"second half\r\n.\r\n")
r = busy.reply()
t.eq(r[0], 250, "SIGTERM: the transaction in flight finishes with 250", r)
t.eq(busy.reply()[0], 421, "... and then the session gets 421")
t.eq(srv.stop(), 0, "SIGTERM: tern exits 0")
t.ok(not os.path.exists(ctl) and not os.path.exists(sub), "the sockets are removed at exit")
# Delivered before the exit, or kept in the spool for the next start.
t.ok(srv.start(write=False), "tern starts again")
flight = lambda: [m for m in srv.read_messages("example.test", "bob")
                  if header(m, "Subject") == "t30 in flight"]
t.ok(wait_until(lambda: len(flight()) == 1, 10), "the message accepted during shutdown is delivered, once")
t.eq(srv.stop(), 0, "SIGTERM: tern exits 0")
t.ok(not srv.sanitizer_report(), "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
