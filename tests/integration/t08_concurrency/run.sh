#!/usr/bin/env bash
# t08_concurrency: 300 clients connect at once (threads, smtplib), each
# sends 3 messages in one session to users spread over two domains.
# Every message must get 250 and be delivered exactly once: 900 files,
# 900 distinct Message-IDs, each in the right Maildir.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
ulimit -n 8192 2>/dev/null || true

"$PY" - <<'PYEOF'
import collections, os, smtplib, threading, time
from tern import Tap, Tern, header, wait_until

CLIENTS, PER = 300, 3
t = Tap()
srv = Tern(8, "conc", max_sessions=1000, max_sessions_per_ip=1000)
users = ["u%d" % i for i in range(10)]
srv.domain("example.test", users=users)
srv.domain("example2.test", users=users)
if not t.ok(srv.start(), "tern starts"):
    t.done()

barrier = threading.Barrier(CLIENTS, timeout=60)
results = {}          # mid -> (domain, user, code or error)
lock = threading.Lock()

def client(i):
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    out = []
    try:
        with smtplib.SMTP(srv.host, srv.port, local_hostname="c%d.test" % i, timeout=120) as s:
            for k in range(PER):
                dom = "example.test" if (i + k) % 2 == 0 else "example2.test"
                user = users[(i * PER + k) % len(users)]
                mid = "<t08-%d-%d-%d@test.example>" % (i, k, os.getpid())
                msg = ("From: <c%d@remote.example>\r\nTo: <%s@%s>\r\nSubject: c%d m%d\r\n"
                       "Message-ID: %s\r\n\r\n%s\r\n" % (i, user, dom, i, k, mid,
                                                        ("client %d message %d " % (i, k)) * 20))
                try:
                    refused = s.sendmail("c%d@remote.example" % i, ["%s@%s" % (user, dom)], msg)
                    out.append((mid, dom, user, "ok" if not refused else repr(refused)))
                except smtplib.SMTPException as e:
                    out.append((mid, dom, user, repr(e)))
    except Exception as e:
        out.append((None, None, None, repr(e)))
    with lock:
        for mid, dom, user, st in out:
            results[mid or "err-%d-%d" % (i, len(results))] = (dom, user, st)

t0 = time.monotonic()
ths = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
for th in ths:
    th.start()
for th in ths:
    th.join(300)
secs = time.monotonic() - t0
oks = {m: v for m, v in results.items() if v[2] == "ok"}
errs = collections.Counter(v[2] for v in results.values() if v[2] != "ok")
t.eq(len(oks), CLIENTS * PER, "%d clients x %d messages: all got 250 (%.1fs)" % (CLIENTS, PER, secs),
     errs.most_common(5))

def files():
    return srv.all_maildir_files()
wait_until(lambda: len(files()) >= len(oks), 60)
time.sleep(1.0)
fs = files()
t.eq(len(fs), len(oks), "one Maildir file per accepted message")
seen = collections.Counter()
wrong = []
for p in fs:
    with open(p, "rb") as f:
        mid = header(f.read(16384), "Message-ID")
    seen[mid] += 1
    if mid in oks:
        dom, user, _ = oks[mid]
        if "/%s/%s/new/" % (dom, user) not in p:
            wrong.append((mid, p))
t.eq(len(seen), len(oks), "distinct Message-IDs delivered")
t.eq([m for m, n in seen.items() if n > 1], [], "no message delivered twice")
t.eq(sorted(set(oks) - set(seen)), [], "no accepted message missing")
t.eq(wrong, [], "each message in its recipient's Maildir")
t.eq(srv.tmp_files(), [], "no files left in Maildir tmp/")
t.eq(srv.stop(30), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
