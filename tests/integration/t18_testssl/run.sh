#!/usr/bin/env bash
# t18_testssl: testssl.sh (--protocols --vulnerable, no DNS) against
# tern's submission port (STARTTLS smtp) and submissions port (implicit
# TLS).  From its JSON: SSLv2, SSLv3, TLS 1.0 and 1.1 not offered, TLS 1.2
# and 1.3 offered, no finding of severity MEDIUM, HIGH or CRITICAL, and
# the scan covered the usual vulnerability checks.  tern survives the
# scan's odd handshakes without a sanitizer report.  Each scan is bounded
# by a 300 s timeout (about 20 s each here).
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
require_cmd testssl openssl

"$PY" - <<'PYEOF'
import json, os, signal, subprocess, time
from tern import Tap, record_pid
from submission import TernTLS, make_cert

t = Tap()
srv = TernTLS(18, "tern")
cert, key = make_cert(srv.dir, "default", "mx.test.example")
srv.tls(cert, key)
SUB = srv.listen("sub", 1, "submission")
SUBS = srv.listen("subs", 2, "submissions")
srv.domain("example.test", users=["alice"])
if not t.ok(srv.start(), "tern starts"):
    t.done()

def testssl(port, starttls, out):
    argv = ["testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
            "--openssl", "/usr/bin/openssl", "--connect-timeout", "10", "--openssl-timeout", "10",
            "--protocols", "--vulnerable", "--jsonfile-pretty", out]
    if starttls:
        argv += ["--starttls", "smtp"]
    argv.append("127.0.0.1:%d" % port)
    # its own session, so that a timeout can stop testssl and its openssl children;
    # cwd: the temp dir (testssl looks for a git checkout around it)
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, cwd=srv.dir, start_new_session=True)
    record_pid(p.pid)
    t0 = time.monotonic()
    try:
        text, _ = p.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        text, _ = p.communicate()
        return None, "timeout after 300 s\n" + text.decode("utf-8", "replace")[-3000:], 300
    return p.returncode, text.decode("utf-8", "replace"), time.monotonic() - t0

for port, starttls, where in ((SUB, True, "submission STARTTLS"), (SUBS, False, "submissions implicit TLS")):
    out = os.path.join(srv.dir, "testssl-%d.json" % port)
    rc, text, secs = testssl(port, starttls, out)
    t.diag("%s: testssl exit %s in %.0f s" % (where, rc, secs))
    try:
        with open(out) as f:
            doc = json.load(f)
        res = doc["scanResult"][0]
    except (OSError, ValueError, KeyError, IndexError) as e:
        t.ok(False, "%s: testssl wrote its JSON" % where, "%r\n%s" % (e, text[-3000:]))
        continue
    t.ok(True, "%s: testssl finished and wrote its JSON (%.0f s)" % (where, secs))
    if starttls:
        t.eq(res.get("service"), "smtp", "%s: testssl spoke STARTTLS smtp" % where)
    else:
        t.ok(res.get("protocols"), "%s: testssl spoke TLS from the first byte" % where)
    protos = {x["id"]: x["finding"] for x in res.get("protocols", [])}
    for pid in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        t.ok(protos.get(pid, "").startswith("not offered"), "%s: %s not offered" % (where, pid), protos.get(pid))
    t.eq(protos.get("TLS1_2"), "offered", "%s: TLS1_2 offered" % where)
    t.ok(protos.get("TLS1_3", "").startswith("offered"), "%s: TLS1_3 offered" % where, protos.get("TLS1_3"))
    vulns = res.get("vulnerabilities", [])
    ids = {v["id"] for v in vulns}
    want = {"heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego",
            "CRIME_TLS", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM",
            "BEAST", "LUCKY13", "RC4"}
    t.ok(len(want & ids) >= 12, "%s: the scan ran the vulnerability checks (%d of %d known ids)"
         % (where, len(want & ids), len(want)), sorted(ids))
    findings = [(section, x.get("id"), x.get("severity"), x.get("finding"))
                for section, items in res.items() if isinstance(items, list)
                for x in items if isinstance(x, dict)]
    bad = [f for f in findings if f[2] in ("MEDIUM", "HIGH", "CRITICAL")]
    t.eq(bad, [], "%s: no finding of severity MEDIUM, HIGH or CRITICAL" % where)
    fatal = [f for f in findings if f[2] == "FATAL"]
    t.eq(fatal, [], "%s: no FATAL scan problem" % where)
    t.ok(srv.alive(), "%s: tern still running after the scan" % where)

t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
