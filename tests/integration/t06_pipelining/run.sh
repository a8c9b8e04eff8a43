#!/usr/bin/env bash
# t06_pipelining: RFC 2920.  (a) The client pattern Postfix uses: each
# write ends at DATA, the next write carries the content, the final dot and
# the next transaction's commands.  (b) Several whole transactions,
# content included, in a single write.  (c) A batch mixing NOOP, RSET, a
# refused recipient and a transaction with no valid recipient.  Replies
# must come back complete and in order, and every accepted message be
# delivered exactly once.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import os, time
from tern import Tap, Tern, Raw, header, wait_until

t = Tap()
srv = Tern(6, "pipe")
srv.domain("example.test", users=["alice", "bob"])
if not t.ok(srv.start(), "tern starts"):
    t.done()
pid = os.getpid()

def msg(tag, rcpt="alice@example.test"):
    mid = "<t06-%s-%d@test.example>" % (tag, pid)
    return mid, ("From: <s@remote.example>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\n"
                 "body of %s\r\n.\r\n" % (rcpt, tag, mid, tag)).encode()

def ids(user):
    return [header(m, "Message-ID") for m in srv.read_messages("example.test", user)]

def codes(rs):
    return [c for c, _ in rs]

# (a) write ends at DATA; the next write = content + dot + next commands
with Raw(srv.host, srv.port) as c:
    code, text = c.cmd("EHLO client.test")
    t.ok("PIPELINING" in text, "EHLO advertises PIPELINING", text)
    c.send(b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@example.test>\r\n"
           b"RCPT TO:<x@remote.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
    t.eq(codes(c.replies(5)), [250, 250, 550, 250, 354], "(a) first batch: replies in order")
    mids_a = []
    for i in range(4):
        mid, body = msg("a%d" % i)
        mids_a.append(mid)
        c.send(body + b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
        rs = c.replies(4)
        t.eq(codes(rs), [250, 250, 250, 354], "(a) batch %d: 250 dot, 250 MAIL, 250 RCPT, 354" % i)
    mid, body = msg("a-last")
    mids_a.append(mid)
    c.send(body + b"QUIT\r\n")
    t.eq(codes(c.replies(2)), [250, 221], "(a) last batch: 250 then 221")
got_a = wait_until(lambda: all(m in ids("alice") for m in mids_a), 15)
t.ok(got_a, "(a) all 5 messages delivered to alice", ids("alice"))
t.ok(wait_until(lambda: mids_a[0] in ids("bob"), 15), "(a) first message also delivered to bob")

# (b) whole transactions, content included, in one write
batch = b"EHLO client.test\r\n"
mids_b = []
for i in range(20):
    mid, body = msg("b%d" % i, "bob@example.test")
    mids_b.append(mid)
    batch += b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n" + body
batch += b"QUIT\r\n"
with Raw(srv.host, srv.port) as c:
    c.send(batch)
    rs = c.replies(1 + 4 * 20 + 1)
    want = [250] + [250, 250, 354, 250] * 20 + [221]
    t.eq(codes(rs), want, "(b) 20 transactions in one write (%d bytes): replies in order" % len(batch))
    t.ok(c.closed_by_peer(5), "(b) connection closed after QUIT")
time.sleep(0.2)
got_b = wait_until(lambda: sorted(m for m in ids("bob") if m in mids_b) == sorted(mids_b), 15)
t.ok(got_b, "(b) all 20 delivered to bob", [m for m in mids_b if m not in ids("bob")])
b_ids = [m for m in ids("bob") if m in mids_b]
t.eq(len(b_ids), len(set(b_ids)), "(b) each delivered exactly once")

# (c) a mixed batch
with Raw(srv.host, srv.port) as c:
    c.cmd("EHLO client.test")
    c.send(b"NOOP\r\nMAIL FROM:<s@remote.example>\r\nRCPT TO:<nobody@example.test>\r\n"
           b"RCPT TO:<x@remote.example>\r\nDATA\r\nRSET\r\nNOOP\r\n"
           b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    rs = c.replies(10)
    cs = codes(rs)
    t.eq(cs[:4], [250, 250, 550, 550], "(c) NOOP, MAIL, two refused RCPTs")
    t.ok(cs[4] in (503, 554) and rs[4][1].startswith("5.5."),
         "(c) DATA with no valid recipient: 503/554 5.5.x", rs[4])
    t.eq(cs[5:], [250, 250, 250, 250, 354], "(c) RSET, NOOP, MAIL, RCPT, DATA after the failure")
    mid_c, body = msg("c")
    c.send(body)
    t.reply(c.reply(), 250, "2.0.0", "(c) message after a failed DATA accepted")
    t.reply(c.cmd("QUIT"), 221, "2.0.0", "(c) QUIT")
t.ok(wait_until(lambda: mid_c in ids("alice"), 15), "(c) delivered")

all_ids = ids("alice") + ids("bob")
t.ok(len(all_ids) == 5 + 1 + 20 + 1, "no extra messages in any Maildir", all_ids)
t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
