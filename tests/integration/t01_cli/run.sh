#!/usr/bin/env bash
# t01_cli: the command line.  version/help exit 0; an unknown subcommand or
# option prints usage and exits 2; check-config says "ok" for a good config
# and "FILE:LINE: what is wrong" (exit 1) for broken ones; serve refuses a
# broken config, serves a good one and exits cleanly on SIGTERM.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import os, socket, time
from tern import Tap, Tern, run, wait_port, spawn, stop_proc, port_open, wait_until, Raw

t = Tap()
srv = Tern(1, "cli")
srv.domain("example.test", users=["alice"], aliases={"sales": ["alice"]})
good = srv.write_config()
tb = srv.bin

# ---- version / help / usage -------------------------------------------
rc, out, err = run([tb, "version"])
t.eq(rc, 0, "tern version exits 0")
t.ok("tern" in (out + err).lower(), "tern version names tern", out + err)

rc, out, err = run([tb, "help"])
t.eq(rc, 0, "tern help exits 0")
t.ok("serve" in out + err and "check-config" in out + err,
     "tern help lists serve and check-config", out + err)

rc, out, err = run([tb, "frobnicate"])
t.eq(rc, 2, "unknown subcommand exits 2")
t.ok("usage" in (out + err).lower(), "unknown subcommand prints usage", out + err)

rc, out, err = run([tb, "serve", "--no-such-option"])
t.eq(rc, 2, "unknown option to serve exits 2")
t.ok("usage" in (out + err).lower(), "unknown option prints usage", out + err)

rc, out, err = run([tb, "check-config", "-c", good, "--bogus"])
t.eq(rc, 2, "unknown option to check-config exits 2")

# ---- check-config ------------------------------------------------------
rc, out, err = run([tb, "check-config", "-c", good])
t.ok(rc == 0 and out.strip() == "ok", "check-config of a good config prints ok",
     "rc=%d out=%r err=%r\n%s" % (rc, out, err, srv.config_text()))

def broken(name, text, line, words=()):
    """Writes text to a file, runs check-config, expects FILE:LINE:."""
    p = os.path.join(srv.dir, name + ".conf")
    with open(p, "w") as f:
        f.write(text)
    rc, out, err = run([tb, "check-config", "-c", p])
    both = out + err
    want = "%s:%d:" % (p, line)
    t.ok(rc == 1 and want in both and all(w in both.lower() for w in words),
         "check-config %s: exit 1 with %s" % (name, want.replace(p, name + ".conf")),
         "rc=%d output=%r" % (rc, both))

base = srv.config_text().splitlines()
# line numbers are 1-based; the [server] section is line 1
broken("unknown-key", "\n".join(base[:2] + ["no_such_key = 1"] + base[2:]) + "\n", 3)
broken("bad-size", "[server]\nhostname = h.example\nmax_message_size = lots\n", 3)
broken("no-equals", "[server]\nhostname = h.example\nthis line has no equals sign\n", 3)
broken("bad-role", "[server]\nhostname = h.example\n[listen x]\naddress = 127.0.0.1:25\nrole = wizard\n", 5)
broken("bad-address", "[server]\nhostname = h.example\n\n[listen x]\naddress = not-an-address:port\nrole = mx\n", 5)
broken("bad-bare-newline", "[server]\nbare_newline = sometimes\n", 2)
missing_users = os.path.join(srv.dir, "does-not-exist.users")
broken("missing-users-file", "[server]\nhostname = h.example\n[domain a.example]\nusers = %s\n" % missing_users, 4)
broken("unknown-section", "[server]\nhostname = h.example\n\n[frobnicator]\nx = 1\n", 4)

rc, out, err = run([tb, "check-config", "-c", os.path.join(srv.dir, "nonexistent.conf")])
t.eq(rc, 1, "check-config of a missing file exits 1")

# ---- serve refuses a broken config ----------------------------------------
bad = os.path.join(srv.dir, "bad-role.conf")
with open(bad, "w") as f:
    f.write("[server]\nspool = %s\nmailroot = %s\n[listen x]\naddress = 127.0.0.1:%d\nrole = wizard\n"
            % (srv.spool, srv.mailroot, srv.ports(1)))
p = spawn([tb, "serve", "-c", bad], os.path.join(srv.dir, "bad-serve.log"))
try:
    rc = p.wait(15)
except Exception:
    rc = None
t.ok(rc not in (None, 0), "serve with a broken config exits non-zero", "rc=%r" % rc)
t.ok(not port_open("127.0.0.1", srv.ports(1)), "serve with a broken config does not listen")
with open(os.path.join(srv.dir, "bad-serve.log")) as f:
    blog = f.read()
t.ok("%s:6:" % bad in blog, "serve reports the broken config as FILE:LINE:", blog)
stop_proc(p)

# ---- serve a good config; SIGTERM is a clean exit ---------------------------
if t.ok(srv.start(), "serve -c good config accepts connections"):
    with Raw("127.0.0.1", srv.port) as c:
        t.eq(c.greeting[0], 220, "greeting is 220")
        t.ok(srv.hostname in c.greeting[1], "greeting names the hostname", c.greeting)
rc = srv.stop(15)
t.eq(rc, 0, "SIGTERM: serve exits 0")
t.ok(not port_open("127.0.0.1", srv.port), "port closed after SIGTERM")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())

# ---- serve with no -c: the embedded default (127.0.0.1:2525) --------------
if port_open("127.0.0.1", 2525):
    t.skip("embedded default config serves 127.0.0.1:2525", "port 2525 already in use")
else:
    wd = os.path.join(srv.dir, "default-cwd")
    os.makedirs(wd)
    p = spawn([tb, "serve"], os.path.join(srv.dir, "default.log"), cwd=wd)
    up = wait_port("127.0.0.1", 2525, 15, p)
    t.ok(up, "serve without -c listens on 127.0.0.1:2525")
    if up:
        import smtplib
        try:
            with smtplib.SMTP("127.0.0.1", 2525, local_hostname="client.test", timeout=15) as s:
                s.sendmail("a@remote.example", ["anyone@localhost"],
                           b"Subject: default\r\n\r\nbody\r\n")
            ok = True
        except Exception as e:
            ok = False
            t.diag(repr(e))
        t.ok(ok, "default config accepts mail for anyone@localhost (catch-all)")
        got = wait_until(lambda: os.listdir(os.path.join(wd, "var/mail/localhost/postmaster/new"))
                         if os.path.isdir(os.path.join(wd, "var/mail/localhost/postmaster/new")) else None, 15)
        t.ok(got, "default config delivers to ./var/mail/localhost/postmaster")
    t.eq(stop_proc(p, 15), 0, "default serve exits 0 on SIGTERM")

t.done()
PYEOF
