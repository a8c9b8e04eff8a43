#!/usr/bin/env bash
# t35_install: `make install`, `make install-links` and `make uninstall`
# from the repository root into DESTDIRs under the test's temp dir (never
# the real /).  The binary lands in usr/local/sbin (0755) and runs `tern
# version`; the systemd unit's ExecStart names the installed binary (and
# PREFIX moves it), and `systemd-analyze verify` finds nothing wrong with
# the unit when that command exists; the config is installed once and a
# second install keeps the admin's edit; install builds nothing when
# build/tern is up to date.  install-links makes sendmail and mailq point
# at the binary, refuses a sendmail that is a regular file or a link to
# something else (nothing changed, exit non-zero) unless FORCE=1;
# uninstall removes binary, unit and our links, and keeps the config and
# a sendmail that is not ours.  Needs no ports and no root.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_cmd make sed install

"$PY" - <<'PYEOF'
import os, shutil, stat, subprocess
from tern import Tap

t = Tap()
root = os.environ["TERN_ROOT"]
tmp = os.environ["TERN_TEST_DIR"]
# A make above us (make integration) must not lend its jobserver or its
# variables; the install variables come only from the command line here.
env = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                    "DESTDIR", "PREFIX", "SBINDIR", "SYSCONFDIR", "UNITDIR",
                    "SENDMAIL_LINK", "MAILQ_LINK", "FORCE")}


def make(*args):
    r = subprocess.run(["make", "--no-print-directory", "-C", root] + list(args),
                       capture_output=True, text=True, env=env, timeout=280,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout + r.stderr


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


def read(p):
    with open(p) as f:
        return f.read()


def exec_lines(unit, key):
    return [l.split("=", 1)[1] for l in read(unit).splitlines() if l.startswith(key + "=")]


dest = os.path.join(tmp, "dest")
sbin = os.path.join(dest, "usr/local/sbin/tern")
unit = os.path.join(dest, "lib/systemd/system/tern.service")
conf = os.path.join(dest, "etc/tern/tern.conf")
sendmail = os.path.join(dest, "usr/sbin/sendmail")
mailq = os.path.join(dest, "usr/bin/mailq")

# ---- make install -------------------------------------------------------------
built = os.path.join(root, "build/tern")
up_to_date = subprocess.run(["make", "-q", "-C", root, "build/tern"], env=env,
                            capture_output=True).returncode == 0
before = os.stat(built).st_mtime_ns if up_to_date else None
rc, out = make("install", "DESTDIR=" + dest)
if not t.eq(rc, 0, "make install DESTDIR=... exits 0", out):
    t.done()
if up_to_date:
    t.eq(os.stat(built).st_mtime_ns, before, "make install builds nothing when build/tern is up to date", out)
else:
    t.skip("make install builds nothing when build/tern is up to date", "build/tern was stale")

t.ok(os.path.isfile(sbin) and not os.path.islink(sbin), "binary installed as usr/local/sbin/tern")
t.eq(mode(sbin), 0o755, "the binary is mode 0755")
r = subprocess.run([sbin, "version"], capture_output=True, text=True, timeout=30)
t.ok(r.returncode == 0 and "tern" in (r.stdout + r.stderr).lower(),
     "installed tern version runs", "rc=%d %r" % (r.returncode, r.stdout + r.stderr))

t.ok(os.path.isfile(unit), "unit installed as lib/systemd/system/tern.service")
t.eq(mode(unit), 0o644, "the unit is mode 0644")
t.eq(exec_lines(unit, "ExecStart"), ["/usr/local/sbin/tern serve -c /etc/tern/tern.conf"],
     "ExecStart names the installed binary and /etc/tern/tern.conf")
t.eq(exec_lines(unit, "ExecReload"), ["/bin/kill -HUP $MAINPID"], "ExecReload sends SIGHUP")
t.ok("@" not in read(unit), "no @PLACEHOLDER@ left in the unit", read(unit))
t.ok(not any(l.startswith("User=") for l in read(unit).splitlines()),
     "no User= (tern drops privileges itself)")
t.ok(not os.path.exists(unit + ".tmp"), "no temporary unit file left behind")

sa = shutil.which("systemd-analyze")
if sa is None:
    t.skip("systemd-analyze verify tern.service", "systemd-analyze not installed")
else:
    # The unit as installed names /usr/local/sbin/tern, which is only under
    # DESTDIR here: verify a copy that points at the staged binary.
    vdir = os.path.join(tmp, "verify")
    os.makedirs(vdir)
    vunit = os.path.join(vdir, "tern.service")
    with open(vunit, "w") as f:
        f.write(read(unit).replace("/usr/local/sbin/tern", sbin))
    r = subprocess.run([sa, "verify", vunit], capture_output=True, text=True, timeout=60,
                       env=dict(env, SYSTEMD_LOG_LEVEL="notice"))
    vout = r.stdout + r.stderr
    ours = [l for l in vout.splitlines() if "tern.service" in l]
    if ours:
        t.ok(False, "systemd-analyze verify tern.service: no complaint", vout)
    elif r.returncode != 0:
        t.skip("systemd-analyze verify tern.service", "verify itself failed here (exit %d)" % r.returncode)
        t.diag(vout)
    else:
        t.ok(True, "systemd-analyze verify tern.service: no complaint")

t.ok(os.path.isfile(conf), "config installed as etc/tern/tern.conf")
t.eq(read(conf) if os.path.isfile(conf) else None, read(os.path.join(root, "etc/tern.conf")),
     "the installed config is etc/tern.conf")

# ---- a second install keeps the admin's config -----------------------------------
edited = read(conf) + "; edited by the admin\n"
with open(conf, "w") as f:
    f.write(edited)
rc, out = make("install", "DESTDIR=" + dest)
t.eq(rc, 0, "second make install exits 0", out)
t.eq(read(conf), edited, "second make install keeps the modified config")
t.ok("keeping" in out, "second make install says it keeps the config", out)

# ---- PREFIX moves the binary and ExecStart ------------------------------------
dest_p = os.path.join(tmp, "dest-prefix")
rc, out = make("install", "DESTDIR=" + dest_p, "PREFIX=/opt/tern")
t.eq(rc, 0, "make install PREFIX=/opt/tern exits 0", out)
t.ok(os.access(os.path.join(dest_p, "opt/tern/sbin/tern"), os.X_OK), "PREFIX=/opt/tern: opt/tern/sbin/tern")
punit = os.path.join(dest_p, "lib/systemd/system/tern.service")
t.eq(exec_lines(punit, "ExecStart") if os.path.isfile(punit) else None,
     ["/opt/tern/sbin/tern serve -c /etc/tern/tern.conf"], "PREFIX=/opt/tern: ExecStart follows")

# ---- make install-links ------------------------------------------------------
rc, out = make("install-links", "DESTDIR=" + dest)
t.eq(rc, 0, "make install-links exits 0", out)
for name, p in (("sendmail", sendmail), ("mailq", mailq)):
    ok = os.path.islink(p) and os.readlink(p) == "/usr/local/sbin/tern"
    t.ok(ok, "%s is a symlink to /usr/local/sbin/tern" % name,
         os.readlink(p) if os.path.islink(p) else "not a link")
    staged = dest + os.readlink(p) if os.path.islink(p) else ""
    t.ok(ok and os.path.samefile(staged, sbin), "%s points at the installed binary" % name)
rc, out = make("install-links", "DESTDIR=" + dest)
t.eq(rc, 0, "make install-links again (links already ours) exits 0", out)

# ---- install-links refuses what is not ours -------------------------------------
dest_r = os.path.join(tmp, "dest-refuse")
rc, out = make("install", "DESTDIR=" + dest_r)
r_sendmail = os.path.join(dest_r, "usr/sbin/sendmail")
r_mailq = os.path.join(dest_r, "usr/bin/mailq")
os.makedirs(os.path.dirname(r_sendmail))
foreign = "#!/bin/sh\n# another MTA's sendmail\n"
with open(r_sendmail, "w") as f:
    f.write(foreign)
rc, out = make("install-links", "DESTDIR=" + dest_r)
t.ok(rc != 0, "install-links refuses a regular file sendmail (exit non-zero)", out)
t.ok("not a link to tern" in out and "FORCE=1" in out, "the refusal names the file and FORCE=1", out)
t.ok(not os.path.islink(r_sendmail) and read(r_sendmail) == foreign, "the foreign sendmail is untouched")
t.ok(not os.path.lexists(r_mailq), "nothing is linked when refusing (no mailq)")

os.makedirs(os.path.dirname(r_mailq))
os.symlink("/usr/sbin/exim4", r_mailq)
os.unlink(r_sendmail)
rc, out = make("install-links", "DESTDIR=" + dest_r)
t.ok(rc != 0, "install-links refuses a mailq that links to another MTA", out)
t.eq(os.readlink(r_mailq), "/usr/sbin/exim4", "the foreign mailq link is untouched")

with open(r_sendmail, "w") as f:
    f.write(foreign)
rc, out = make("install-links", "DESTDIR=" + dest_r, "FORCE=1")
t.eq(rc, 0, "install-links FORCE=1 replaces them (exit 0)", out)
t.ok(os.path.islink(r_sendmail) and os.readlink(r_sendmail) == "/usr/local/sbin/tern"
     and os.path.islink(r_mailq) and os.readlink(r_mailq) == "/usr/local/sbin/tern",
     "FORCE=1: sendmail and mailq now link to tern")

# uninstall leaves a sendmail that is not ours
os.unlink(r_sendmail)
with open(r_sendmail, "w") as f:
    f.write(foreign)
rc, out = make("uninstall", "DESTDIR=" + dest_r)
t.eq(rc, 0, "make uninstall (foreign sendmail) exits 0", out)
t.ok(os.path.isfile(r_sendmail) and read(r_sendmail) == foreign, "uninstall keeps a sendmail that is not ours")
t.ok(not os.path.lexists(r_mailq), "uninstall removes our mailq link")

# ---- make uninstall -----------------------------------------------------------
rc, out = make("uninstall", "DESTDIR=" + dest)
t.eq(rc, 0, "make uninstall DESTDIR=... exits 0", out)
t.ok(not os.path.lexists(sbin), "uninstall removes the binary")
t.ok(not os.path.lexists(unit), "uninstall removes the unit")
t.ok(not os.path.lexists(sendmail) and not os.path.lexists(mailq), "uninstall removes the sendmail and mailq links")
t.ok(os.path.isfile(conf) and read(conf) == edited, "uninstall keeps the config")
rc, out = make("uninstall", "DESTDIR=" + dest)
t.eq(rc, 0, "make uninstall twice exits 0", out)

t.done()
PYEOF
