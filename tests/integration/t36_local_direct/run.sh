#!/usr/bin/env bash
# t36_local_direct: mail for local mailboxes only is delivered before the
# reply (docs/spool.md, "Delivery before the reply").  (a) The deliver
# lines come before the 250 and its transaction line, every copy is
# there when the client reads 250, nothing stays in the spool's queue/,
# and tern stats counts the deliveries.  (b) Mixed local and remote
# recipients go through the queue instead (so does FUTURERELEASE mail:
# t31).  (c) One mailbox unusable (its new/ is a file): still 250, the
# message is committed, the queue defers that copy and, once the mailbox
# is mended, delivers it; the copy already made is found, not made
# twice.  (e) A mail loop (Received fields beyond max_received) is left
# to the queue, which bounces it with 5.4.6.  (f) 30 clients that leave
# right after their final dot: tern stays up, nothing is delivered twice
# or cut.  (d) 40 messages over 8 concurrent sessions: each delivered
# exactly once.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import json, os, re, smtplib, threading, time
from tern import Tap, Raw, message, header, wait_until, run
from outbound import TernOut

t = Tap()
srv = TernOut(36, "direct")
srv.domain("example.test", users=["alice", "bob", "carol"],
           aliases={"both": ["alice", "bob"], "away": ["far@remote.test"]})
srv.queue(min_retry="1s", max_retry="2s", max_received=5)
if not t.ok(srv.start(), "tern starts"):
    t.done()
T = os.environ["TERN_BIN"]
pid = os.getpid()

def tern(*args):
    return run([T] + list(args) + ["-c", srv.conf])

def ids(user):
    return [header(m, "Message-ID") for m in srv.read_messages("example.test", user)]

def send(tag, rcpts, mail_options=()):
    mid = "<t36-%s-%d@test.example>" % (tag, pid)
    data = message("s@remote.example", rcpts[0], tag, msgid=mid)
    with smtplib.SMTP(srv.host, srv.port, timeout=30) as s:
        s.ehlo("client.test")
        s.mail("s@remote.example", list(mail_options))
        for r in rcpts:
            s.rcpt(r)
        code, text = s.data(data)
    m = re.search(r"queued as (\S+)", text.decode())
    return mid, code, m.group(1) if m else "?"

def queue_ids():
    d = os.path.join(srv.spool, "queue")
    return sorted(n for n in os.listdir(d) if "." not in n)

def log_lines(qid):
    return [l for l in srv.log().splitlines() if qid in l]

# (a) local recipients only: delivered before the 250
mid, code, qid = send("a", ["alice@example.test", "both@example.test", "carol@example.test"])
t.eq(code, 250, "(a) 250 for alice, both (alice+bob) and carol")
t.eq([mid in ids(u) for u in ("alice", "bob", "carol")], [True, True, True],
     "(a) every copy is in its Maildir when the client reads the 250")
t.eq([ids(u).count(mid) for u in ("alice", "bob", "carol")], [1, 1, 1],
     "(a) one copy each, alice named twice")
lines = log_lines(qid)
kinds = [("deliver" if " deliver rcpt=" in l else "smtp" if " smtp message " in l else
          "queue" if " queue " in l else "other") for l in lines]
t.eq(kinds, ["deliver", "deliver", "deliver", "smtp"],
     "(a) three deliver lines, then the transaction line; no queue line", lines)
t.ok(all("status=sent" in l for l in lines[:3]), "(a) each deliver line says status=sent", lines)
t.ok(lines and "result=250 2.0.0" in lines[-1], "(a) transaction line: result=250", lines)
t.eq(queue_ids(), [], "(a) nothing in the spool's queue/")
t.eq(srv.spool_tmp_files(), [], "(a) nothing but spares in the spool's tmp/")
rc, out, err = tern("stats", "--json")
st = json.loads(out) if rc == 0 else {}
t.eq((rc, st.get("delivered")), (0, 3), "(a) tern stats: 3 delivered", out + err)

# (b) a remote recipient: the whole message goes through the queue
mid, code, qid = send("b", ["alice@example.test", "away@example.test"])
t.eq(code, 250, "(b) 250 for a local and a remote recipient")
t.ok(wait_until(lambda: mid in ids("alice"), 15), "(b) the local copy is delivered")
kinds = [("deliver" if " deliver rcpt=" in l else "smtp" if " smtp message " in l else "x")
         for l in log_lines(qid)]
t.ok(kinds.index("smtp") < kinds.index("deliver"), "(b) the local copy after the 250, by the queue",
     log_lines(qid))
t.eq(queue_ids(), [qid], "(b) kept in queue/ for the remote recipient")
tern("queue", "delete", qid)

# (c) one mailbox unusable: committed, the queue makes the missing copy
carol_new = os.path.join(srv.maildir("example.test", "carol"), "new")
saved = carol_new + ".saved"
os.rename(carol_new, saved)
open(carol_new, "w").close()
mid, code, qid = send("d", ["alice@example.test", "carol@example.test"])
t.eq(code, 250, "(c) 250 although carol's mailbox cannot take it now")
t.eq(ids("alice").count(mid), 1, "(c) alice's copy made before the reply")
t.eq(queue_ids(), [qid], "(c) the message is committed to the queue")
t.ok(wait_until(lambda: re.search(r"%s queue deferred rcpt=<carol@example.test>" % qid,
                                  srv.log()), 15),
     "(c) the queue defers carol's copy", log_lines(qid))
os.unlink(carol_new)
os.rename(saved, carol_new)
rc, out, err = tern("queue", "flush", qid)
t.eq(rc, 0, "(c) tern queue flush", out + err)
t.ok(wait_until(lambda: mid in ids("carol"), 15), "(c) carol's copy once the mailbox is mended")
t.ok(wait_until(lambda: queue_ids() == [], 15), "(c) the queue drains")
t.eq((ids("alice").count(mid), ids("carol").count(mid)), (1, 1),
     "(c) one copy each: alice's found, not made again")
t.ok(re.search(r"%s deliver rcpt=<alice@example.test> .*already delivered" % qid, srv.log()),
     "(c) the queue's retry finds alice's copy", log_lines(qid))

# (e) a mail loop (more Received fields than max_received) is not
#     delivered before the reply: the queue fails it with 5.4.6
loopmid = "<t36-loop-%d@test.example>" % pid
hops = "".join("Received: from hop%d.example by hop%d.example; Thu, 26 Nov 2026 10:00:0%d +0000\r\n"
               % (i, i + 1, i) for i in range(6))
data = (hops + "From: <bob@example.test>\r\nTo: <alice@example.test>\r\nSubject: loop\r\n"
        "Message-ID: %s\r\n\r\nround and round\r\n" % loopmid).encode()
with smtplib.SMTP(srv.host, srv.port, timeout=30) as s:
    s.ehlo("client.test")
    s.mail("bob@example.test")
    s.rcpt("alice@example.test")
    code, text = s.data(data)
t.eq(code, 250, "(e) a message with 6 Received fields (max_received 5): 250")
t.ok(wait_until(lambda: re.search(r"queue mail loop: 7 Received", srv.log()), 15),
     "(e) the queue's loop check counts 7 (tern adds one)", srv.log()[-1500:])
t.ok(wait_until(lambda: any(b"5.4.6" in m for m in srv.read_messages("example.test", "bob")), 15),
     "(e) the sender gets a DSN with 5.4.6")
t.eq(ids("alice").count(loopmid), 0, "(e) not delivered to alice")

# (f) clients gone right after their final dot, while the copies are
#     being made: the server stays up, and what is delivered is whole
gone = []
for i in range(30):
    mid = "<t36-gone-%d-%d@test.example>" % (i, pid)
    body = "".join("gone %d line %d %s\r\n" % (i, k, "z" * 60) for k in range(40))
    raw = ("From: <s@remote.example>\r\nTo: <carol@example.test>\r\nSubject: gone\r\n"
           "Message-ID: %s\r\n\r\n%s" % (mid, body)).encode()
    with Raw(srv.host, srv.port) as c:
        c.send(b"EHLO client.test\r\nMAIL FROM:<s@remote.example>\r\n"
               b"RCPT TO:<carol@example.test>\r\nDATA\r\n")
        c.replies(4)
        c.send(raw + b".\r\n")
    gone.append((mid, body))
t.ok(srv.alive() and srv.greets(), "(f) 30 clients gone after their dot: tern up and greeting")
time.sleep(1.0)  # the last deliveries in flight land
got = {}
for m in srv.read_messages("example.test", "carol"):
    got.setdefault(header(m, "Message-ID"), []).append(m)
t.ok(all(len(got.get(mid, [])) <= 1 for mid, _ in gone), "(f) none delivered twice")
whole = [mid for mid, body in gone if mid in got and
         not got[mid][0].replace(b"\r\n", b"\n").endswith(body.replace("\r\n", "\n").encode())]
t.eq(whole, [], "(f) each one delivered is whole")
t.eq(queue_ids(), [], "(f) nothing left in queue/")

# (d) concurrent sessions
mids = []
lock = threading.Lock()
def worker(k):
    for i in range(5):
        mid, code, _ = send("e%d-%d" % (k, i), ["bob@example.test"])
        with lock:
            mids.append((mid, code))
th = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
for x in th:
    x.start()
for x in th:
    x.join()
t.eq(sorted(c for _, c in mids), [250] * 40, "(d) 40 messages over 8 sessions: all 250")
got = ids("bob")
t.eq(sum(got.count(m) for m, _ in mids), 40, "(d) each in bob's Maildir exactly once")
t.eq(srv.tmp_files(), [], "no Maildir tmp/ leftovers")
t.ok(srv.alive(), "tern up")
t.eq(srv.stop(), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
