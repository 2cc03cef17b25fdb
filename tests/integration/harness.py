#!/usr/bin/env python3
"""Two private Dovecot instances (host1, host2) for imapferry integration tests.

Standard library only. Never touches /etc/dovecot or the system Dovecot; every
instance has its own config, base_dir, state_dir, logs and mail under one temp
directory, listens on 127.0.0.1 only, on free high ports.

Layouts
  host1  maildir:DIR/%u:LAYOUT=fs   separator '/'   prefix ''        (Gmail/Dovecot-like)
  host2  maildir:DIR/%u (Maildir++) separator '.'   prefix 'INBOX.'  (Courier/Cyrus-like)
Users on each host: user1, user2, user3 with passwords h1pass1.. on host1 and
h2pass1.. on host2 ({PLAIN} passwd-file, so PLAIN, LOGIN and CRAM-MD5 work).

Python use
    from harness import Servers
    with Servers() as s:                 # starts both (~1 s), stops them on exit
        s.host1.port, s.host2.config, s.host1.log_path, s.host1.mail_dir
        conn = s.host1.imap("user1")     # logged-in imaplib.IMAP4
        s.host2.reset("user1")           # kick + delete the user's mail
        s.host1.doveadm("mailbox", "list", "-u", "user1")
    Servers(keep=True) or env IMAPFERRY_KEEP_SERVERS=1 keeps the temp dir
    (servers are stopped anyway). Servers(root=DIR) uses DIR instead of a temp dir.

Shell use (e.g. the demo script)
    eval "$(python3 tests/integration/harness.py start --dir /tmp/ferry)"
        -> prints H1_PORT= H2_PORT= H1_CONFIG= H2_CONFIG= DATA_DIR= (and a few
           more H1_*/H2_* lines) and leaves both servers running
    python3 tests/integration/harness.py stop --dir /tmp/ferry
        -> stops them by master pid (the directory is kept)

Cleanup: servers are stopped by their master pid (SIGTERM, wait for the master
and its children to disappear, SIGKILL fallback) on normal exit, on
exceptions, on SIGINT/SIGTERM to this Python process and via atexit.

TLS: write_config() takes an optional TLSConfig (cert/key files and an
implicit-TLS port). Servers(tls=...) gives both hosts the same one;
Servers(tls1=..., tls2=...) sets them per host (either overrides tls=). With
TLS the plain port offers STARTTLS and host.imaps_port is implicit TLS;
without it (ssl = no) the host offers no STARTTLS at all. Plaintext LOGIN
stays allowed either way (disable_plaintext_auth = no), so host.imap() and
the oracle keep working on TLS hosts.

More instances: s.add_host("h2wrong", layout="host2", tls=TLSConfig(...),
extra_config="...") adds another private Dovecot with the layout and users of
host1 or host2 (passwords follow the layout: h2pass1.. for layout host2).
Added before start() it starts together with host1/host2, afterwards at
once; it is stopped with the others and reachable as s["h2wrong"].

Mail format: Servers(mail_format={"host2": "sdbox"}) (or Host(mail_format=))
stores that host's mail as Dovecot's sdbox or mdbox instead of maildir (the
scale benchmark: maildir's per-folder work grows with the folder). Folder
names, separator and prefix stay those of the layout.
"""

from __future__ import annotations

import argparse
import atexit
import grp
import imaplib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass

MAIL_USER = "imapferrytest"          # unprivileged owner of the mail (root runs)
USERS = ("user1", "user2", "user3")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
PORT_RETRIES = 5

# Logical description of the two hosts: (name, mail_location template, sep, prefix).
# DIR is replaced by the host's mail directory.
LAYOUTS = {
    "host1": ("maildir:{mail}/%u:LAYOUT=fs", "/", ""),
    "host2": ("maildir:{mail}/%u", ".", "INBOX."),
}
MAIL_FORMATS = ("maildir", "sdbox", "mdbox")


class HarnessError(RuntimeError):
    pass


@dataclass
class TLSConfig:
    """Optional TLS settings for a future STARTTLS / implicit-TLS listener."""
    cert: str                 # PEM file
    key: str                  # PEM file
    imaps: bool = True        # also open an implicit-TLS listener on a free port
    min_protocol: str = "TLSv1.2"


# --------------------------------------------------------------------------
# small process helpers (Linux /proc; PID 1 here may not reap zombies, so a
# zombie counts as gone)
# --------------------------------------------------------------------------

def _proc_stat(pid: int):
    """(state, ppid, starttime) of pid, or None if it does not exist."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm may contain spaces/parens: split after the last ')'
    rest = data[data.rindex(b")") + 2:].split()
    return rest[0].decode(), int(rest[1]), int(rest[19])


def _alive(pid: int, starttime=None) -> bool:
    st = _proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return starttime is None or st[2] == starttime


def _descendants(root: int) -> list[tuple[int, int]]:
    """[(pid, starttime)] for root and all its descendants."""
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _proc_stat(int(entry))
        if st is None:
            continue
        children.setdefault(st[1], []).append(int(entry))
        starts[int(entry)] = st[2]
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in starts:
            out.append((pid, starts[pid]))
        todo.extend(children.get(pid, []))
    return out


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1, chosen by the kernel (so two
    harnesses running at once get different ones; a rare race is handled by
    retrying the start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: str, lines: int = 25) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()[-8000:]
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return "(no log at %s)" % path


def _ensure_mail_user() -> tuple[int, int, str, str, str]:
    """(uid, gid, login_user, internal_user, internal_group) for the instance."""
    if os.geteuid() != 0:
        # best effort: everything runs as the current user
        pw = pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(os.getegid()).gr_name
        return pw.pw_uid, os.getegid(), pw.pw_name, pw.pw_name, group
    try:
        pw = pwd.getpwnam(MAIL_USER)
    except KeyError:
        # Two harnesses may race here; a failing useradd is fine if the user
        # exists afterwards.
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", MAIL_USER],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            pw = pwd.getpwnam(MAIL_USER)
        except KeyError:
            raise HarnessError("could not create system user %s" % MAIL_USER)
    return pw.pw_uid, pw.pw_gid, "dovenull", "dovecot", "dovecot"


# --------------------------------------------------------------------------
# config writer
# --------------------------------------------------------------------------

def write_config(path: str, *, instance: str, root: str, port: int, mail_location: str,
                 sep: str, prefix: str, passwd_file: str, home_tpl: str, uid: int, gid: int,
                 login_user: str, internal_user: str, internal_group: str = "dovecot", tls: TLSConfig | None = None,
                 imaps_port: int = 0, extra: str = "") -> None:
    """Write one private Dovecot config. `extra` is appended verbatim (for
    tests that need e.g. special-use mailboxes or a reduced capability list)."""
    if tls:
        ssl = ("ssl = yes\nssl_cert = <%s\nssl_key = <%s\n"
               "ssl_dh = </usr/share/dovecot/dh.pem\nssl_min_protocol = %s\n"
               % (tls.cert, tls.key, tls.min_protocol))
        imaps = "port = %d\n    ssl = yes" % (imaps_port if tls.imaps else 0)
    else:
        # built-in default is ssl=yes, which fails without a certificate
        ssl = "ssl = no\n"
        imaps = "port = 0"
    # chroot() needs root; unprivileged runs must switch it off
    chroot = "chroot =" if os.geteuid() != 0 else ""
    text = f"""# generated by tests/integration/harness.py -- private test instance
instance_name = {instance}
base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
shutdown_clients = yes
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
# failed logins answer at once (default: 2 s delay, and the anvil penalty below
# would then delay every later login from 127.0.0.1 by up to 15 s)
auth_failure_delay = 0
mail_max_userip_connections = 100
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
mail_location = {mail_location}
# tests do not need crash safety; skipping fsync makes APPEND much cheaper
mail_fsync = never

namespace inbox {{
  type = private
  separator = {sep}
  prefix = {prefix}
  inbox = yes
  list = yes
  subscriptions = yes
}}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd_file}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home_tpl}
}}

service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    {imaps}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0600
  }}
}}
service anvil {{
  {chroot}
  # mode 0 disables the per-IP authentication penalty
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service doveadm {{
  unix_listener doveadm-server {{
    mode = 0600
  }}
}}
{extra}
"""
    with open(path, "w") as f:
        f.write(text)


# --------------------------------------------------------------------------
# one Dovecot instance
# --------------------------------------------------------------------------

class Host:
    """One private Dovecot instance. Created by Servers; usable on its own."""

    def __init__(self, name: str, root: str, tag: str, tls: TLSConfig | None = None,
                 extra_config: str = "", layout: str | None = None,
                 mail_format: str | None = None):
        layout = layout or name
        if layout not in LAYOUTS:
            raise ValueError(layout)
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(name)
        self.name = name
        self.layout = layout  # "host1" or "host2": folders, separator, passwords
        self.host = "127.0.0.1"
        self.root = os.path.join(root, name)
        self.mail_dir = os.path.join(self.root, "mail")
        self.home_dir = os.path.join(self.root, "home")
        self.config = os.path.join(self.root, "dovecot.conf")
        self.log_path = os.path.join(self.root, "dovecot.log")
        self.passwd_file = os.path.join(self.root, "passwd")
        self.instance = "imapferry-%s-%s" % (tag, name)
        tpl, self.sep, self.prefix = LAYOUTS[layout]
        self.mail_format = mail_format or "maildir"
        if self.mail_format not in MAIL_FORMATS:
            raise ValueError(mail_format)
        if self.mail_format != "maildir":
            # dbox keeps its own fs layout; names still follow sep/prefix
            tpl = "%s:{mail}/%%u" % self.mail_format
        self.mail_location = tpl.format(mail=self.mail_dir)
        self.port: int | None = None
        self.imaps_port: int | None = None
        self.tls = tls
        self.extra_config = extra_config
        self.pid: int | None = None
        self._pid_start = None
        self._popen: subprocess.Popen | None = None
        self._out_path = ""

    # -- users ---------------------------------------------------------------
    def password(self, user: str) -> str:
        """h1pass1 for host1/user1, h2pass3 for host2/user3, ... (by layout)"""
        return "h%spass%s" % (self.layout[-1], user[len("user"):])

    def users(self):
        return USERS

    # -- lifecycle -------------------------------------------------------------
    def _prepare(self, uid: int, gid: int, login_user: str, internal_user: str,
                 internal_group: str) -> None:
        for d in (self.root, os.path.join(self.root, "run"), os.path.join(self.root, "state")):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)  # the login/auth processes run unprivileged
        for d in (self.mail_dir, self.home_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
            if os.geteuid() == 0:
                os.chown(d, uid, gid)
        with open(self.passwd_file, "w") as f:
            for u in USERS:
                f.write("%s:{PLAIN}%s::::::\n" % (u, self.password(u)))
        if os.geteuid() == 0:
            try:
                os.chown(self.passwd_file, 0, grp.getgrnam("dovecot").gr_gid)
                os.chmod(self.passwd_file, 0o640)
            except KeyError:
                os.chmod(self.passwd_file, 0o644)
        self._ids = (uid, gid, login_user, internal_user, internal_group)

    def _write_config(self) -> None:
        uid, gid, login_user, internal_user, internal_group = self._ids
        write_config(self.config, instance=self.instance, root=self.root, port=self.port,
                     mail_location=self.mail_location, sep=self.sep, prefix=self.prefix,
                     passwd_file=self.passwd_file, home_tpl=self.home_dir + "/%u",
                     uid=uid, gid=gid, login_user=login_user, internal_user=internal_user,
                     internal_group=internal_group,
                     tls=self.tls, imaps_port=self.imaps_port or 0, extra=self.extra_config)
        r = subprocess.run(["doveconf", "-c", self.config, "-n"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise HarnessError("%s: doveconf rejected %s:\n%s" % (self.name, self.config,
                                                                   r.stderr.strip()))

    def start(self) -> None:
        """Start on free ports; retry with new ports if the bind fails."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the master in the foreground (`dovecot -F`) as our child so we
        can reap it: PID 1 in some containers does not reap orphans, and a
        daemonized master would linger as a zombie after it stops."""
        self.port = free_port()
        self.imaps_port = free_port() if (self.tls and self.tls.imaps) else None
        self._write_config()
        # Output goes to a file, not a pipe: the master keeps it open for its
        # whole life (a pipe would block anyone waiting for EOF).
        self._out_path = os.path.join(self.root, "dovecot.start.out")
        with open(self._out_path, "w") as out:
            self._popen = subprocess.Popen(
                ["dovecot", "-F", "-c", self.config], stdin=subprocess.DEVNULL,
                stdout=out, stderr=out,
                start_new_session=True)  # our SIGINT handling decides, not the tty
        self.pid = self._popen.pid
        st = _proc_stat(self.pid)
        self._pid_start = st[2] if st else None

    def wait_ready(self) -> None:
        """Wait for the IMAP greeting; relaunch on new ports if the bind failed
        (another harness may have grabbed the port between pick and bind)."""
        for attempt in range(PORT_RETRIES):
            err = self._wait_port()
            if err is None:
                return
            self.stop()
            if "in use" not in err or attempt == PORT_RETRIES - 1:
                raise HarnessError("%s: dovecot failed to start:\n%s" % (self.name, err))
            self.launch()

    def _wait_port(self):
        """None when the port answers with a greeting, else an error text."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._popen is not None and self._popen.poll() is not None:
                try:
                    with open(self._out_path) as f:
                        out = f.read().strip()
                except OSError:
                    out = ""
                return ("master exited with status %s\n%s\n%s"
                        % (self._popen.returncode, out, _tail(self.log_path)))
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as c:
                    if c.recv(200).startswith(b"* OK"):
                        return None
            except OSError:
                pass
            time.sleep(0.02)
        return ("port %s not answering after %.0fs; log tail:\n%s"
                % (self.port, START_TIMEOUT, _tail(self.log_path)))

    def signal_stop(self) -> list:
        """Send SIGTERM to the master; return the processes to wait for."""
        pid = self.pid
        if pid is None:
            pid = self._pid_from_file()
        if pid is None or not _alive(pid, self._pid_start):
            self.pid = None
            return []
        procs = _descendants(pid)  # children must go too (imap, auth, log, ...)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        return procs

    def wait_stopped(self, procs: list, timeout: float = STOP_TIMEOUT) -> None:
        """Wait until all `procs` are gone; SIGKILL what is left after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._popen is not None:
                self._popen.poll()  # reap our child as soon as it exits
            if not any(_alive(p, s) for p, s in procs):
                break
            time.sleep(0.02)
        else:
            for p, s in procs:
                if _alive(p, s):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        if self._popen is not None:
            try:
                self._popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._popen = None
        self.pid = None

    def stop(self) -> None:
        """SIGTERM the master, wait for it and its children, SIGKILL fallback.
        (Dovecot's master needs ~1.1 s to exit; Servers stops both in parallel.)"""
        self.wait_stopped(self.signal_stop())

    def _pid_from_file(self):
        try:
            with open(os.path.join(self.root, "run", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    # -- helpers for tests ------------------------------------------------------
    def imap(self, user: str, password: str | None = None) -> imaplib.IMAP4:
        """A logged-in imaplib.IMAP4 connection (plaintext, TCP_NODELAY)."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=60)
        try:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.login(user, password if password is not None else self.password(user))
        except Exception:
            try:
                conn.shutdown()
            except OSError:
                pass
            raise
        return conn

    def doveadm(self, *args, check: bool = True) -> str:
        """Run `doveadm -c CONFIG args...`, return stdout."""
        r = subprocess.run(["doveadm", "-c", self.config, *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if check and r.returncode != 0:
            raise HarnessError("doveadm %s failed (%d): %s"
                               % (" ".join(args), r.returncode, r.stderr.strip()))
        return r.stdout

    def reset(self, user: str) -> None:
        """Kick the user's sessions and delete their mail and home, so the next
        login starts with an empty account (INBOX only)."""
        # kick exits non-zero when nobody was connected; that is fine
        self.doveadm("kick", user, check=False)
        for d in (os.path.join(self.mail_dir, user), os.path.join(self.home_dir, user)):
            shutil.rmtree(d, ignore_errors=True)

    def env(self, short: str) -> dict:
        return {short + "_PORT": self.port, short + "_CONFIG": self.config,
                short + "_LOG": self.log_path, short + "_MAIL": self.mail_dir,
                short + "_SEP": self.sep, short + "_PREFIX": self.prefix}

    def __repr__(self):
        return "<Host %s 127.0.0.1:%s pid=%s>" % (self.name, self.port, self.pid)


# --------------------------------------------------------------------------
# both instances + cleanup machinery
# --------------------------------------------------------------------------

_active: "weakref.WeakSet[Servers]" = weakref.WeakSet()
_handlers_installed = False
_prev_handlers: dict = {}


def _cleanup_all() -> None:
    for s in list(_active):
        try:
            s.stop()
        except Exception as e:  # never let cleanup raise during exit
            print("harness: cleanup error: %s" % e, file=sys.stderr)


def _on_signal(signum, frame):
    _cleanup_all()
    prev = _prev_handlers.get(signum)
    if callable(prev):
        prev(signum, frame)  # e.g. KeyboardInterrupt from the default SIGINT handler
    # exit with the conventional status for "killed by signal"
    sys.exit(128 + signum)


def _install_handlers() -> None:
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        prev = signal.getsignal(sig)
        # a default SIGTERM handler would not run Python cleanup; don't chain it
        _prev_handlers[sig] = prev if (sig == signal.SIGINT and callable(prev)
                                       and prev is not signal.default_int_handler) else None
        signal.signal(sig, _on_signal)
    atexit.register(_cleanup_all)
    _handlers_installed = True


class Servers:
    """Context manager running host1 and host2. See the module docstring."""

    def __init__(self, root: str | None = None, keep: bool | None = None,
                 tls: TLSConfig | None = None, extra_config: dict | None = None,
                 handle_signals: bool = True, tls1: TLSConfig | None = None,
                 tls2: TLSConfig | None = None, mail_format: dict | None = None):
        if keep is None:
            keep = os.environ.get("IMAPFERRY_KEEP_SERVERS", "") not in ("", "0")
        self.keep = keep or root is not None
        self._own_root = root is None
        if root is None:
            # short path: unix socket paths under base_dir must stay < 108 bytes
            root = tempfile.mkdtemp(prefix="ifr-", dir="/tmp")
        else:
            os.makedirs(root, exist_ok=True)
        self.root = os.path.abspath(root)
        os.chmod(self.root, 0o755)  # traversable by the mail user and dovecot
        tag = "%d-%s" % (os.getpid(), os.path.basename(self.root))
        self._tag = tag
        extra_config = extra_config or {}
        mail_format = mail_format or {}
        self.host1 = Host("host1", self.root, tag, tls1 if tls1 is not None else tls,
                          extra_config.get("host1", ""), mail_format=mail_format.get("host1"))
        self.host2 = Host("host2", self.root, tag, tls2 if tls2 is not None else tls,
                          extra_config.get("host2", ""), mail_format=mail_format.get("host2"))
        self.hosts = (self.host1, self.host2)
        self._handle_signals = handle_signals
        self._started = False
        self._ids = None
        self._stopped = False

    def add_host(self, name: str, layout: str = "host2", tls: TLSConfig | None = None,
                 extra_config: str = "") -> Host:
        """Another private instance with host1's or host2's layout and users,
        its own ports, config, log and mail under root/name. Started with the
        others by start(), or at once if they are already running."""
        if any(h.name == name for h in self.hosts):
            raise ValueError("host %s exists already" % name)
        if self._stopped:
            raise HarnessError("servers already stopped")
        h = Host(name, self.root, self._tag, tls, extra_config, layout=layout)
        self.hosts = self.hosts + (h,)
        if self._started:
            try:
                h._prepare(*self._ids)
                h.start()
            except BaseException:
                h.stop()
                raise
        return h

    @property
    def data_dir(self) -> str:
        return self.root

    def start(self) -> "Servers":
        if self._handle_signals:
            _install_handlers()
        _active.add(self)
        ids = self._ids = _ensure_mail_user()
        try:
            for h in self.hosts:  # launch all, then wait: ~0.2 s instead of 2x
                h._prepare(*ids)
                h.launch()
            for h in self.hosts:
                h.wait_ready()
        except BaseException:
            self.stop()
            raise
        self._started = True
        self._write_state()
        return self

    def _write_state(self) -> None:
        """DATA_DIR/servers.env: what `harness.py stop --dir` and humans need."""
        with open(os.path.join(self.root, "servers.env"), "w") as f:
            f.write(self.shell_lines() + "\n")

    def shell_lines(self) -> str:
        env = {}
        env.update(self.host1.env("H1"))
        env.update(self.host2.env("H2"))
        env["DATA_DIR"] = self.root
        return "\n".join("%s=%s" % (k, shlex.quote(str(v))) for k, v in env.items())

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        # signal both first, then wait: each master takes ~1.1 s to exit
        pending = [(h, h.signal_stop()) for h in self.hosts]
        for h, procs in pending:
            h.wait_stopped(procs)
        _active.discard(self)
        if not self.keep and self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Servers":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __getitem__(self, name: str) -> Host:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def _cli_start(d: str) -> int:
    """Start both servers under a small detached supervisor process that stays
    their parent and reaps them when they stop (so no <defunct> dovecot is left
    behind where PID 1 does not reap orphans). The parent prints the shell
    lines and returns at once."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # supervisor
        os.close(r)
        try:
            os.setsid()
            # release the caller's stdout at once: `eval "$(harness.py start)"`
            # waits for EOF on it
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            s = Servers(root=d, keep=True, handle_signals=False)
            s.start()
            _active.discard(s)  # leave them running when we exit
            os.write(w, ("OK\n" + s.shell_lines() + "\n").encode())
            os.close(w)
        except BaseException as e:
            try:
                os.write(w, ("ERR\n%s\n" % e).encode())
            finally:
                os._exit(1)
        for h in s.hosts:
            try:
                h._popen.wait()
            except Exception:
                pass
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    status, _, text = b"".join(chunks).decode().partition("\n")
    if status != "OK":
        os.waitpid(pid, 0)
        print("harness: start failed: %s" % (text.strip() or "supervisor died"), file=sys.stderr)
        return 1
    print(text, end="")
    return 0


def _cli_stop(d: str) -> int:
    d = os.path.abspath(d)
    rc = 0
    pending = []
    for name in LAYOUTS:
        h = Host(name, d, "cli")
        pid = h._pid_from_file()
        if pid is None:
            print("%s: not running (no master.pid)" % name, file=sys.stderr)
            continue
        if not _alive(pid):
            print("%s: stale master.pid %d" % (name, pid), file=sys.stderr)
            continue
        h.pid = pid
        pending.append((h, pid, h.signal_stop()))
    for h, pid, procs in pending:
        h.wait_stopped(procs)
        if _alive(pid):
            print("%s: could not stop pid %d" % (h.name, pid), file=sys.stderr)
            rc = 1
    return rc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="private Dovecot test servers for imapferry")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start", help="start host1+host2 in DIR and leave them running")
    p.add_argument("--dir", required=True)
    p = sub.add_parser("stop", help="stop the servers started in DIR")
    p.add_argument("--dir", required=True)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "start":
            return _cli_start(args.dir)
        return _cli_stop(args.dir)
    except HarnessError as e:
        print("harness: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
