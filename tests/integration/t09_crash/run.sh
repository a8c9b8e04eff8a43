#!/usr/bin/env bash
# t09_crash: "250 means durable".  Ten clients send continuously while tern
# is killed with SIGKILL, twice; each time it is restarted on the same spool
# and Maildirs.  Every message is tracked: acked (got 250 after the dot),
# refused (4xx/5xx), cut (connection lost before the final dot was sent),
# dot-sent (dot sent, reply lost).  Afterwards: every acked message is in
# each of its recipients' Maildirs exactly once and complete; no refused
# or cut message appears anywhere; a dot-sent one appears at most once.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import collections, hashlib, os, random, socket, threading, time
from tern import Tap, Tern, Raw, header, wait_until, split_delivered

t = Tap()
srv = Tern(9, "crash", max_sessions_per_ip=200)
USERS = ["alice", "bob", "carol"]
srv.domain("example.test", users=USERS)
state = {}      # mid -> [state, rcpts, sha256 of the content as stored (LF)]
lock = threading.Lock()
stop = threading.Event()
seq = [0]

def next_mid(tid):
    with lock:
        seq[0] += 1
        return "<t09-%d-%d-%d@test.example>" % (tid, seq[0], os.getpid())

def setst(mid, st):
    with lock:
        state[mid][0] = st

def worker(tid):
    rnd = random.Random(tid * 7919 + int(time.time()))
    while not stop.is_set():
        try:
            c = Raw(srv.host, srv.port, timeout=10)
        except (OSError, EOFError, ValueError):
            time.sleep(0.05)
            continue
        mid = None
        try:
            if c.cmd("EHLO c%d.test" % tid)[0] != 250:
                raise EOFError("no EHLO")
            for _ in range(rnd.randint(1, 5)):
                if stop.is_set():
                    break
                mid = next_mid(tid)
                rcpts = rnd.sample(USERS, rnd.randint(1, 2))
                body = "".join("%s line %d %s\r\n" % (mid, i, "x" * rnd.randint(0, 70))
                               for i in range(rnd.randint(10, 400)))
                data = ("From: <c%d@remote.example>\r\nSubject: crash test\r\nMessage-ID: %s\r\n\r\n%s"
                        % (tid, mid, body)).encode()
                with lock:
                    state[mid] = ["cut", rcpts, hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()]
                if c.cmd("MAIL FROM:<c%d@remote.example>" % tid)[0] != 250:
                    setst(mid, "refused")
                    continue
                if not all(c.cmd("RCPT TO:<%s@example.test>" % r)[0] == 250 for r in rcpts):
                    setst(mid, "refused")
                    c.cmd("RSET")
                    continue
                if c.cmd("DATA")[0] != 354:
                    setst(mid, "refused")
                    continue
                half = len(data) // 2
                c.send(data[:half])
                c.send(data[half:])
                setst(mid, "dot-sent")   # set before: the dot may land, then we die
                c.send(b".\r\n")
                code, _ = c.reply()
                setst(mid, "acked" if code == 250 else "refused")
            c.cmd("QUIT")
        except (OSError, EOFError, ValueError):
            pass
        finally:
            c.close()

def acked():
    with lock:
        return sum(1 for v in state.values() if v[0] == "acked")

for rnd_no in (1, 2):
    if not t.ok(srv.start(), "round %d: tern starts" % rnd_no):
        t.done()
    stop.clear()
    ths = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(10)]
    for th in ths:
        th.start()
    base = acked()
    wait_until(lambda: acked() - base >= 60, 60)
    time.sleep(random.Random(rnd_no).uniform(0.05, 0.3))
    srv.kill9()
    stop.set()
    for th in ths:
        th.join(30)
    t.ok(acked() - base >= 60, "round %d: >= 60 messages acked before SIGKILL (%d)" % (rnd_no, acked() - base))

counts = collections.Counter(v[0] for v in state.values())
t.diag("states: %s" % dict(counts))
t.ok(srv.start(), "tern restarts after the second SIGKILL")

def delivered():
    out = collections.defaultdict(list)   # (mid, user) -> [sha256]
    for p in srv.all_maildir_files():
        with open(p, "rb") as f:
            m = f.read()
        user = p.split("/")[-3]
        out[(header(m, "Message-ID"), user)].append(hashlib.sha256(split_delivered(m)[1]).hexdigest())
    return out

want = [(mid, u) for mid, v in state.items() if v[0] == "acked" for u in v[1]]
ok = wait_until(lambda: all(k in delivered() for k in want), 60)
time.sleep(1.0)
d = delivered()
missing = [k for k in want if k not in d]
t.eq(missing[:10], [], "every acked message delivered to each recipient (%d copies expected)" % len(want))
dups = [(k, len(v)) for k, v in d.items() if len(v) > 1]
t.eq(dups[:10], [], "no message delivered twice to one mailbox")
bad_hash = [k for k, v in d.items() if k[0] in state and any(h != state[k[0]][2] for h in v)]
t.eq(bad_hash[:10], [], "every delivered copy is complete and exact")
ghosts = [k for k in d if k[0] in state and state[k[0]][0] in ("cut", "refused")]
t.eq(ghosts[:10], [], "no cut-off or refused message delivered")
strangers = [k for k in d if k[0] not in state]
t.eq(strangers[:10], [], "no unknown message in any Maildir")
wrong_user = [k for k in d if k[0] in state and k[1] not in state[k[0]][1]]
t.eq(wrong_user[:10], [], "no message in a mailbox that was not its recipient")
def spool_dir(sub):
    d = os.path.join(srv.spool, sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []
t.eq(srv.spool_tmp_files(), [], "spool tmp/ emptied by recovery (docs/spool.md; spares of later removals aside)")
t.eq(spool_dir("corrupt"), [], "no committed message found corrupt after SIGKILL")
t.ok(wait_until(lambda: not spool_dir("queue"), 15), "spool queue/ drained: every message delivered",
     spool_dir("queue")[:10])
t.ok(srv.alive(), "tern up after recovery")
t.eq(srv.stop(30), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
