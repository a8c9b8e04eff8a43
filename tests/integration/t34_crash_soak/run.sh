#!/usr/bin/env bash
# t34_crash_soak: "nothing lost" under SIGKILL.  20 smtplib clients send
# without pause, each message (unique Message-ID) to 1-3 recipients, a mix
# of local users (Maildir) and aliases to remote addresses ([relay] to a
# recording scripted server on loopback).  Meanwhile tern is killed with
# SIGKILL at random moments, SOAK_KILLS times over about SOAK_SECONDS
# seconds, and restarted at once on the same spool; the clients reconnect.
# Each message's outcome is tracked: acked (250 after the final dot),
# refused (4xx/5xx anywhere in its transaction), cut (connection lost
# before the final dot was sent) or dot-sent (dot sent, reply lost).
# After the last restart the clients stop and the queue drains.  Then:
#   - every acked message is in each local recipient's Maildir exactly
#     once and at the sink for each remote recipient at least once, and
#     every copy is complete and exact;
#   - remote duplicates are counted, printed, and bounded (see below);
#   - no refused or cut message appears anywhere; a dot-sent one at most
#     once per mailbox; nothing unknown appears (no DSN);
#   - the spool holds no orphan: tmp/, queue/ and corrupt/ are empty;
#   - no sanitizer report, SIGTERM exits 0.
# `make test` runs the quick setting (5 kills, ~20 s of load); `make soak`
# the long one (SOAK_KILLS=20 SOAK_SECONDS=300).  SOAK_SEED repeats a run.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
. "$TERN_ROOT/tests/lib/outbound.sh"
require_tern
require_outbound

"$PY" - <<'PYEOF'
import collections, hashlib, os, random, smtplib, threading, time
from tern import Tap, wait_until, header, split_delivered
from outbound import TernOut, strip_trace

KILLS = int(os.environ.get("SOAK_KILLS", "5"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "20"))
SEED = int(os.environ.get("SOAK_SEED", str(int(time.time() * 1000) % 1000000)))
CLIENTS, MAXC, MAX_RCPTS = 20, 10, 3
LOCAL = ["alice", "bob", "carol", "dave"]
REMOTE = {"fwd1": "u1@remote-a.test", "fwd2": "u2@remote-b.test", "fwd3": "u3@remote-a.test"}
POOL = LOCAL + sorted(REMOTE)

t = Tap()
t.diag("SOAK_KILLS=%d SOAK_SECONDS=%g SOAK_SEED=%d" % (KILLS, SECONDS, SEED))
rnd_main = random.Random(SEED)
srv = TernOut(34, "tern", max_sessions_per_ip=200)
sink = srv.scripted("127.0.0.1", "sink", port=srv.ports(4))
srv.relay(host="127.0.0.1:%d" % srv.ports(4), tls="none")
srv.domain("example.test", users=LOCAL, aliases={a: [r] for a, r in REMOTE.items()})
srv.queue(min_retry="1s", max_retry="2s", max_connections=MAXC, max_connections_per_domain=MAXC)
sink.start()
if not t.ok(srv.start(), "tern starts"):
    t.done()


class Msg:
    __slots__ = ("state", "local", "remote", "sha_crlf", "sha_lf")


state = {}      # Message-ID -> Msg
lock = threading.Lock()
stop = threading.Event()
seq = [0]


def setst(mid, st):
    with lock:
        state[mid].state = st


def one_message(s, tid, rnd):
    with lock:
        seq[0] += 1
        mid = "<t34-%d-%d-%d@test.example>" % (tid, seq[0], os.getpid())
    rcpts = rnd.sample(POOL, rnd.randint(1, MAX_RCPTS))
    n = 3000 if rnd.random() < 0.03 else rnd.randint(5, 150)   # some over 64 KiB
    body = "".join("%s line %d %s\r\n" % (mid, i, "x" * rnd.randint(0, 60)) for i in range(n))
    data = ("From: <c%d@client.test>\r\nTo: undisclosed-recipients:;\r\nSubject: t34 soak\r\n"
            "Message-ID: %s\r\n\r\n%s" % (tid, mid, body)).encode()
    m = Msg()
    m.state = "cut"     # until the final dot is sent
    m.local = [r for r in rcpts if r in LOCAL]
    m.remote = [REMOTE[r] for r in rcpts if r in REMOTE]
    m.sha_crlf = hashlib.sha256(data).hexdigest()
    m.sha_lf = hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()
    with lock:
        state[mid] = m
    if s.mail("c%d@client.test" % tid)[0] != 250:
        setst(mid, "refused")
        s.rset()
        return
    for r in rcpts:
        if s.rcpt("%s@example.test" % r)[0] != 250:
            setst(mid, "refused")
            s.rset()
            return
    s.putcmd("data")
    if s.getreply()[0] != 354:
        setst(mid, "refused")
        return
    s.send(data)                 # no line starts with "."; ends with CRLF
    setst(mid, "dot-sent")       # before: the dot may land, then we die
    s.send(b".\r\n")
    code, _ = s.getreply()
    setst(mid, "acked" if code == 250 else "refused")


def worker(tid):
    rnd = random.Random(SEED * 100 + tid)
    while not stop.is_set():
        try:
            s = smtplib.SMTP(srv.host, srv.port, local_hostname="c%d.test" % tid, timeout=15)
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)     # tern is down: try again soon
            continue
        try:
            if s.ehlo()[0] != 250:
                raise smtplib.SMTPException("EHLO refused")
            for _ in range(rnd.randint(1, 5)):
                if stop.is_set():
                    break
                one_message(s, tid, rnd)
            s.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            s.close()


def count(st):
    with lock:
        return sum(1 for m in state.values() if m.state == st)


t0 = time.monotonic()
ths = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(CLIENTS)]
for th in ths:
    th.start()
mean = SECONDS / (KILLS + 1)
kills, restart_fail = [], []
for k in range(KILLS):
    time.sleep(rnd_main.uniform(0.1 * mean, 1.9 * mean))
    acked = count("acked")
    srv.kill9()
    kills.append(acked)
    if not srv.start():
        restart_fail.append(k + 1)
        break
t.ok(not restart_fail, "tern restarted after each of %d SIGKILLs" % len(kills),
     "failed after kill %s" % restart_fail)
time.sleep(mean)
stop.set()
for th in ths:
    th.join(30)
t_load = time.monotonic() - t0
counts = collections.Counter(m.state for m in state.values())
t.diag("%.0f s of load, %d kills (acked so far at each: %s); outcomes: %s" %
       (t_load, len(kills), kills, dict(counts)))
t.ok(counts["acked"] >= 10 * (KILLS + 1), "clients got 250s throughout (%d acked)" % counts["acked"])

# After the clients stop, nothing new arrives: an empty queue/ means done.
def spool_dir(sub):
    d = os.path.join(srv.spool, sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []
drain_t0 = time.monotonic()
t.ok(wait_until(lambda: spool_dir("queue") == [], 60 + SECONDS / 2),
     "spool queue/ drains after the last restart (%.1f s)" % (time.monotonic() - drain_t0),
     spool_dir("queue")[:10])

local = collections.defaultdict(list)     # (mid, user) -> [sha256 of the stored message]
for p in srv.all_maildir_files():
    with open(p, "rb") as f:
        raw = f.read()
    local[(header(raw, "Message-ID"), p.split("/")[-3])].append(
        hashlib.sha256(split_delivered(raw)[1]).hexdigest())
remote = collections.defaultdict(list)    # (mid, rcpt) -> [sha256 as received]
for tx in list(sink.accepted):
    h = hashlib.sha256(strip_trace(tx.data)).hexdigest()
    for r in tx.rcpts:
        remote[(tx.header("Message-ID"), r.lower())].append(h)

acked = {mid: m for mid, m in state.items() if m.state == "acked"}
want_local = [(mid, u) for mid, m in acked.items() for u in m.local]
want_remote = [(mid, r) for mid, m in acked.items() for r in m.remote]
miss = [k for k in want_local if k not in local]
t.eq(miss[:10], [], "every acked message in each local recipient's Maildir (%d copies)" %
     len(want_local))
miss = [k for k in want_remote if k not in remote]
t.eq(miss[:10], [], "every acked message at the sink for each remote recipient (%d)" %
     len(want_remote))
dups = [(k, len(v)) for k, v in local.items() if len(v) > 1]
t.eq(dups[:10], [], "no message twice in one Maildir (dot-sent ones included)")
bad = [k for k, v in list(local.items()) + list(remote.items())
       if k[0] in state and any(h != (state[k[0]].sha_lf if k in local else state[k[0]].sha_crlf)
                                for h in v)]
t.eq(bad[:10], [], "every delivered copy is complete and exact")
ghosts = [k for k in list(local) + list(remote)
          if k[0] in state and state[k[0]].state in ("cut", "refused")]
t.eq(ghosts[:10], [], "no refused or cut-off message delivered anywhere")
strangers = [k for k in list(local) + list(remote) if k[0] not in state]
t.eq(strangers[:10], [], "nothing unknown delivered (no DSN, no stray message)")
wrong = [k for k in local if k[0] in state and k[1] not in state[k[0]].local] + \
        [k for k in remote if k[0] in state and k[1] not in state[k[0]].remote]
t.eq(wrong[:10], [], "no copy for an address that was not a recipient")
dotsent = [mid for mid, m in state.items() if m.state == "dot-sent"]
landed = sum(1 for mid in dotsent if any(k[0] == mid for k in local) or
             any(k[0] == mid for k in remote))

# A remote duplicate needs the sink to have taken the message (it records
# it before its 250) while tern had not yet journaled the target as sent:
# only transactions in flight at a SIGKILL (the journal is written with
# write(2) right after the reply, and SIGKILL loses no page cache).  At
# most max_connections transactions are in flight, each with at most
# MAX_RCPTS recipients, so each kill adds at most MAXC * MAX_RCPTS copies.
extra = sum(len(v) - 1 for v in remote.values())
dup_rcpts = sum(1 for v in remote.values() if len(v) > 1)
bound = len(kills) * MAXC * MAX_RCPTS
t.diag("remote duplicates: %d extra copies for %d (message, recipient) pairs over %d kills "
       "(bound %d); dot-sent: %d, of which %d delivered" %
       (extra, dup_rcpts, len(kills), bound, len(dotsent), landed))
t.ok(extra <= bound, "remote duplicates (%d) within what can be in flight at %d kills (%d)" %
     (extra, len(kills), bound))

t.eq(sorted(n for n in os.listdir(srv.spool) if not n.endswith(".sock")), ["corrupt", "queue", "tmp"],
     "spool holds only its directories (and the running server's sockets)")
t.eq(srv.spool_tmp_files(), [], "spool tmp/ empty (but for spares)")
t.eq(spool_dir("queue"), [], "spool queue/ empty: no message, no orphan .st journal")
t.eq(spool_dir("corrupt"), [], "no committed message found corrupt after SIGKILL")
t.eq(srv.tmp_files(), [], "no file left in any Maildir tmp/")
t.eq([v for v in sink.violations], [], "no protocol slips towards the sink")
t.ok(srv.alive(), "tern up at the end")
sink.stop()
t.eq(srv.stop(30), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
