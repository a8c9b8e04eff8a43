#!/usr/bin/env bash
# t19_make_run: scripts/make-run in a temp copy of the tree layout
# (scripts/make-run, build/tern -> $TERN_BIN): it creates var/tls/ (a
# self-signed CN=localhost certificate, key mode 0600) and
# var/localhost.users (the demo account, mode 0600), prints the demo
# password once and execs `tern serve` on the embedded default, which then
# offers STARTTLS + AUTH on 127.0.0.1:2587 (submission) besides the MX on
# 2525.  The demo login works, mail to postmaster@localhost lands in
# var/mail; a second run keeps the certificate and the account; `tern user
# passwd localhost demo` without -c edits var/localhost.users.  Uses the
# fixed ports 2525 and 2587: skipped if either is already taken.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
require_cmd openssl

"$PY" - <<'PYEOF'
import os, re, shutil, smtplib, stat, subprocess
from tern import Tap, Raw, spawn, stop_proc, wait_port, wait_port_closed, port_open, wait_until, message
from submission import tls_ctx, s_client_cert_cn, cert_subject_cn

t = Tap()
if port_open("127.0.0.1", 2525) or port_open("127.0.0.1", 2587):
    t.skip("make-run serves 2525 and 2587", "port 2525 or 2587 already in use")
    t.done()
if os.path.exists("/etc/tern/tern.conf") or os.environ.get("TERN_CONFIG"):
    t.skip("make-run", "a system config (/etc/tern/tern.conf or $TERN_CONFIG) would shadow the default")
    t.done()
root = os.path.join(os.environ["TERN_TEST_DIR"], "tree")
os.makedirs(os.path.join(root, "scripts"))
os.makedirs(os.path.join(root, "build"))
shutil.copy2(os.path.join(os.environ["TERN_ROOT"], "scripts/make-run"), os.path.join(root, "scripts/make-run"))
os.symlink(os.environ["TERN_BIN"], os.path.join(root, "build/tern"))
var = os.path.join(root, "var")

def start(n):
    log = os.path.join(os.environ["TERN_TEST_DIR"], "make-run-%d.log" % n)
    p = spawn(["bash", os.path.join(root, "scripts/make-run")], log, cwd="/")
    up = wait_port("127.0.0.1", 2587, 20, p) and wait_port("127.0.0.1", 2525, 5, p)
    # a 220 means the event loop (and its SIGTERM handler) runs
    up = up and wait_until(lambda: greets(2525) and greets(2587), 10)
    return p, log, up

def greets(port):
    try:
        with Raw("127.0.0.1", port, timeout=5) as c:
            return c.greeting[0] == 220 and c.cmd("QUIT")[0] == 221
    except (OSError, EOFError, ValueError):
        return False

p, log, up = start(1)
out = open(log).read()
if not t.ok(up, "make-run starts tern: 127.0.0.1:2525 and :2587 listen", out[-2000:]):
    t.done()
m = re.search(r"(?m)^\s+password\s+(\S+)\s*$", out)
t.ok(m and re.search(r"(?m)^\s+login\s+demo@localhost\s*$", out), "make-run prints the demo login and password", out)
password = m.group(1) if m else ""
cert = os.path.join(var, "tls/cert.pem")
key = os.path.join(var, "tls/key.pem")
users = os.path.join(var, "localhost.users")
t.ok(os.path.exists(cert) and cert_subject_cn(open(cert).read()) == "localhost", "var/tls/cert.pem: CN=localhost")
t.eq(stat.S_IMODE(os.stat(key).st_mode), 0o600, "var/tls/key.pem is mode 0600")
t.eq(stat.S_IMODE(os.stat(users).st_mode), 0o600, "var/localhost.users is mode 0600")
t.ok(re.match(r"^demo:\{SHA512-CRYPT\}\$6\$\S+\n$", open(users).read()), "users file: demo:{SHA512-CRYPT}$6$...")
t.ok(password not in open(users).read(), "the password itself is not in the users file")

cn, rc, o = s_client_cert_cn(2587, ["-starttls", "smtp", "-name", "client.test"])
t.eq(cn, "localhost", "2587: STARTTLS with the generated certificate")
mid = "<t19-%d@test.example>" % os.getpid()
try:
    s = smtplib.SMTP("127.0.0.1", 2587, local_hostname="client.test", timeout=20)
    s.ehlo()
    t.ok(not s.has_extn("auth") and s.has_extn("starttls"), "2587 before TLS: STARTTLS, no AUTH")
    s.starttls(context=tls_ctx())
    s.ehlo()
    t.reply(s.login("demo@localhost", password), 235, "2.7.0", "2587: demo@localhost logs in with the printed password")
    t.eq(s.sendmail("demo@localhost", ["postmaster@localhost"],
                    message("demo@localhost", "postmaster@localhost", "make run", msgid=mid)), {},
         "2587: demo sends to postmaster@localhost")
    s.quit()
except Exception as e:
    t.ok(False, "2587 submission session", repr(e))
box = os.path.join(var, "mail/localhost/postmaster/new")
got = wait_until(lambda: [f for f in (os.listdir(box) if os.path.isdir(box) else [])
                          if mid.encode() in open(os.path.join(box, f), "rb").read()], 15)
t.ok(got, "the message lands in var/mail/localhost/postmaster/new")
with smtplib.SMTP("127.0.0.1", 2525, local_hostname="client.test", timeout=20) as s:
    s.ehlo()
    t.ok(s.has_extn("starttls") and not s.has_extn("auth"), "2525 (mx): STARTTLS offered, AUTH not")

# tern user without -c edits the embedded default's users file
env = {k: v for k, v in os.environ.items() if k != "TERN_CONFIG"}
r = subprocess.run([os.path.join(root, "build/tern"), "user", "passwd", "localhost", "demo", "--password-stdin"],
                   input=b"Demo-New-19\n", capture_output=True, cwd=root, timeout=60, env=env)
t.eq(r.returncode, 0, "tern user passwd localhost demo (no -c) in the tree: exit 0", r.stderr)
try:
    s = smtplib.SMTP("127.0.0.1", 2587, local_hostname="client.test", timeout=20)
    s.starttls(context=tls_ctx())
    s.ehlo()
    t.reply(s.login("demo@localhost", "Demo-New-19"), 235, "2.7.0", "demo logs in with the new password")
    s.quit()
except Exception as e:
    t.ok(False, "demo logs in with the new password", repr(e))

t.eq(stop_proc(p, 15), 0, "SIGTERM: tern started by make-run exits 0")
wait_port_closed("127.0.0.1", 2587, 10)
t.ok(not re.search(r"runtime error:|Sanitizer", open(log).read()), "no sanitizer report")

# ---- second run: nothing regenerated --------------------------------------------------
cert_before, users_before = open(cert).read(), open(users).read()
p, log, up = start(2)
out = open(log).read()
t.ok(up, "make-run starts again")
t.ok("password" not in out and "created" not in out, "second run creates no account or certificate", out[-800:])
t.eq((open(cert).read(), open(users).read()), (cert_before, users_before), "certificate and users file unchanged")
t.eq(stop_proc(p, 15), 0, "SIGTERM: exit 0")
wait_port_closed("127.0.0.1", 2587, 10)
t.done()
PYEOF
