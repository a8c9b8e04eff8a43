# SPDX-License-Identifier: ISC
"""A private Dovecot (IMAP only) reading tern's Maildirs.

    dc = Dovecot(dir, port, mailroot, users_dir)   # users: <users_dir>/<domain>.users
    dc.start()      # dovecot -c FILE; waits for the IMAP port
    dc.stop()       # doveadm -c FILE stop, then the master PID

base_dir, state_dir and logs live under dir; it listens on 127.0.0.1:port
only, plaintext, AUTH PLAIN, passdb = tern's passwd-file per domain,
userdb static with the given uid/gid (default the test runner's;
Dovecot refuses uid 0, so as root pass the uid tern runs as).
"""

import os
import subprocess

from tern import wait_port, wait_port_closed, wait_until

CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
protocols = imap
hostname = imap.test.example
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_verbose = yes
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{mailroot}/%d/%n
mail_privileged_group =
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%n {users_dir}/%d.users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    def __init__(self, base, port, mailroot, users_dir, uid=None, gid=None):
        self.base = base
        self.port = port
        os.makedirs(os.path.join(base, "run"), exist_ok=True)
        os.makedirs(os.path.join(base, "state"), exist_ok=True)
        self.conf = os.path.join(base, "dovecot.conf")
        self.log_path = os.path.join(base, "dovecot.log")
        with open(self.conf, "w") as f:
            f.write(CONF.format(base=base, mailroot=mailroot, users_dir=users_dir,
                                port=port,
                                uid=os.getuid() if uid is None else uid,
                                gid=os.getgid() if gid is None else gid))
        # login and auth processes run as other users
        p = os.path.abspath(base)
        while p != "/":
            st = os.stat(p)
            if not st.st_mode & 0o001:
                os.chmod(p, st.st_mode | 0o005)
            p = os.path.dirname(p)

    def master_pid(self):
        try:
            with open(os.path.join(self.base, "run", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout=20):
        # dovecot daemonizes and its children keep stdout/stderr: give it a
        # file, not a pipe.
        out = os.path.join(self.base, "dovecot.start.log")
        with open(out, "wb") as f:
            rc = subprocess.run(["dovecot", "-c", self.conf], stdin=subprocess.DEVNULL,
                                stdout=f, stderr=subprocess.STDOUT, timeout=30).returncode
        if rc != 0:
            raise RuntimeError("dovecot failed (%d): %s %s" % (rc, open(out).read(), self.log()))
        return wait_port("127.0.0.1", self.port, timeout)

    def stop(self, timeout=20):
        pid = self.master_pid()
        subprocess.run(["doveadm", "-c", self.conf, "stop"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        if pid:
            def gone():
                return not os.path.exists("/proc/%d" % pid)
            if not wait_until(gone, timeout):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        wait_port_closed("127.0.0.1", self.port, 10)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""
