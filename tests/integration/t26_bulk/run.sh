#!/usr/bin/env bash
# t26_bulk: 1,000 messages to 50 domains from 20 concurrent clients
# (every tenth message also to a second domain: 1,100 recipients).  The
# 50 domains' MX records point at 5 scripted servers on 127.0.0.11-15.
# Every (Message-ID, recipient) arrives exactly once, each message in
# one transaction per domain, with at most max_connections_per_domain = 3
# transactions per domain and max_connections = 20 in all at once, and
# the spool drains.  The peak of open connections (idle ones included)
# is printed.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
. "$TERN_ROOT/tests/lib/outbound.sh"
require_tern
require_outbound

"$PY" - <<'PYEOF'
import os, threading, time, smtplib
from tern import Tap, wait_until, message
from outbound import TernOut, received_pairs, new_msgid
from scripted_smtp import ServerGroup

N, CLIENTS, DOMAINS, HOSTS = 1000, 20, 50, 5
PER_DOMAIN, TOTAL = 3, 20
t = Tap()
srv = TernOut(26, "tern")
dns = srv.dnsmasq()
for h in range(HOSTS):
    dns.host("mx%d.bulk.test" % h, "127.0.0.%d" % (11 + h))
aliases = {}
for i in range(DOMAINS):
    dns.mx("d%02d.test" % i, "mx%d.bulk.test" % (i % HOSTS), 10)
    aliases["d%02d" % i] = ["u%02d@d%02d.test" % (i, i)]
group = ServerGroup()
servers = [srv.scripted("127.0.0.%d" % (11 + h), "mx%d" % h, group=group) for h in range(HOSTS)]
srv.domain("example.test", users=["alice"], aliases=aliases)
srv.queue(min_retry="1s", max_retry="2s", max_connections_per_domain=PER_DOMAIN,
          max_connections=TOTAL)
if not t.ok(dns.start(), "dnsmasq starts"):
    t.done()
for s in servers:
    s.start()
if not t.ok(srv.start(), "tern starts"):
    t.done()

expected = {}          # (msgid, rcpt) -> 1
lock = threading.Lock()
errors = []

def client(k):
    try:
        s = smtplib.SMTP(srv.host, srv.port, local_hostname="c%d.test" % k, timeout=60)
        for j in range(N // CLIENTS):
            i = k * (N // CLIENTS) + j
            doms = [i % DOMAINS] + ([(i + 7) % DOMAINS] if i % 10 == 0 else [])
            mid = new_msgid("bulk%d" % i)
            data = message("alice@example.test", "d%02d@example.test" % doms[0], "bulk %d" % i,
                           body="Message %d of the t26 bulk run.\r\n" % i, msgid=mid)
            refused = s.sendmail("alice@example.test", ["d%02d@example.test" % d for d in doms], data)
            with lock:
                for d in doms:
                    expected[(mid, "u%02d@d%02d.test" % (d, d))] = 1
            if refused:
                errors.append(refused)
        s.quit()
    except Exception as e:
        errors.append("client %d: %s" % (k, e))

t0 = time.monotonic()
ths = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
for th in ths:
    th.start()
for th in ths:
    th.join(300)
t_in = time.monotonic() - t0
t.eq(errors, [], "20 clients submitted 1,000 messages (%.1f s)" % t_in)
t.eq(len(expected), 1100, "1,100 recipients expected")

def done():
    got = received_pairs(servers)
    return all(k in got for k in expected)
ok = wait_until(done, 240, interval=0.5)
secs = time.monotonic() - t0
got = received_pairs(servers)
missing = [k for k in expected if k not in got]
dups = {k: v for k, v in got.items() if v > 1}
extra = [k for k in got if k not in expected]
t.ok(ok, "all 1,100 recipients delivered (%.1f s from the first submission, %.0f msg/s)" %
     (secs, N / secs), "missing %d, e.g. %s" % (len(missing), missing[:5]))
t.eq(len(dups), 0, "no recipient delivered twice", list(dups.items())[:5])
t.eq(extra, [], "nothing unexpected delivered")
txs = [tx for s in servers for tx in s.accepted]
per = {}
for tx in txs:
    k = (tx.header("Message-ID"), tx.rcpts[0].rpartition("@")[2])
    per[k] = per.get(k, 0) + 1
t.ok(all(v == 1 for v in per.values()), "one transaction per message and domain")
t.ok(all(len({r.rpartition("@")[2] for r in tx.rcpts}) == 1 for tx in txs),
     "no transaction mixes domains")
dmax = {}
for s in servers:
    for d, n in s.domain_max.items():
        dmax[d] = max(dmax.get(d, 0), n)
worst = max(dmax.values()) if dmax else 0
t.ok(worst <= PER_DOMAIN, "at most %d concurrent transactions per domain (max seen %d)" %
     (PER_DOMAIN, worst))
t.ok(group.tx_peak <= TOTAL, "at most max_connections = %d transactions at once (peak %d)" %
     (TOTAL, group.tx_peak))
# Informational: idle connections tern keeps for reuse are not counted by
# max_connections, so more connections than that may be open at once.
print("# open connections peak: %d (max_connections %d; idle cached connections "
      "included)" % (group.conn_peak, TOTAL))
conns = sum(s.connections for s in servers)
t.diag("%d connections for %d transactions" % (conns, len(txs)))
t.ok(wait_until(lambda: srv.queue_ids() == [], 30), "spool empty", srv.queue_ids()[:5])
t.eq(len(srv.deliver_lines(status="sent")), 1100, "1,100 status=sent lines")
t.eq([(s.name, v) for s in servers for v in s.violations], [], "no protocol slips")
t.eq(srv.read_messages("example.test", "alice"), [], "no DSN")
for s in servers:
    s.stop()
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
dns.stop()
t.done()
PYEOF
