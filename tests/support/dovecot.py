"""A real Dovecot IMAP server for the IMAP reader's tests, started on free ports in a temp directory.

A mock IMAP server would agree with whatever the reader assumes; Dovecot does not (UIDVALIDITY, the
`N:*` quirk, literal framing), so the tests run against Debian's `dovecot-imapd`. Everything lives in a
temp dir: config, passwd-file users, maildirs, logs and `base_dir` (so a system Dovecot is not touched).
Plain IMAP (with STARTTLS) and IMAPS listen on 127.0.0.1 with a self-signed certificate made by `openssl`.

Each test asks for its own folder (`new_mailbox`), so tests never see each other's mail; a second user
with a password full of URL-special characters exercises the URL's percent-decoding.
"""

from __future__ import annotations

import getpass
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from dormant.processes import free_port, spawn

DOVECOT = Path("/usr/sbin/dovecot")


@dataclass
class Mailbox:
    """One test's folder (and its user): URLs, a way to put mail in and one to renew its UIDVALIDITY."""

    server: Dovecot
    username: str
    password: str
    folder: str = "INBOX"

    @property
    def url(self) -> str:
        return self.server.url_for(self.username, self.password, self.folder)

    @property
    def imaps_url(self) -> str:
        return self.server.url_for(self.username, self.password, self.folder, scheme="imaps")

    @property
    def starttls_url(self) -> str:
        return self.url + "?starttls=1"

    def append(self, raw: bytes) -> None:
        self.server.append(raw, self.username, self.password, self.folder)

    def set_uidvalidity_change(self) -> None:
        self.server.recreate_folder(self.username, self.password, self.folder)


class Dovecot:
    """Start/stop one Dovecot; `url`/`append` use the default user's INBOX, `new_mailbox()` a fresh folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.imaps_port = free_port()
        self.cert = root / "cert.pem"
        self.passwd = root / "passwd"
        self.log = root / "dovecot.log"
        self.process: subprocess.Popen | None = None
        self.default = Mailbox(self, "default", "default-pass")
        # a user whose password needs percent-encoding in a URL (no ':' - it ends a passwd-file field)
        self.awkward = Mailbox(self, "awk@ward.example", "p@ss/w rd%?#x")

    # --- lifecycle ---

    def start(self) -> None:
        self._make_cert()
        self.passwd.write_text("")
        self.passwd.chmod(0o644)
        for box in (self.default, self.awkward):
            self.add_user(box.username, box.password)
        (self.root / "dovecot.conf").write_text(self._config())
        self.process = spawn([str(DOVECOT), "-F", "-c", str(self.root / "dovecot.conf")],
                             log_path=self.root / "stdout.log")
        self._wait_ready()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.process.returncode}:\n{self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}:\n{self.logs()}")

    def logs(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self.log, self.root / "stdout.log") if p.exists()]
        return "\n".join(parts)[-4000:]

    # --- configuration ---

    def _make_cert(self) -> None:
        """Self-signed certificate for 127.0.0.1, so IMAPS and STARTTLS are tested with verification on."""
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self.root / "key.pem"), "-out", str(self.cert)],
            check=True, capture_output=True,
        )

    def _config(self) -> str:
        """Root-compatible settings: mail is stored as the running user; login/auth use Debian's users."""
        me = getpass.getuser()
        internal, login = ("dovecot", "dovenull") if os.geteuid() == 0 else (me, me)
        uid, gid = self._mail_owner()
        return f"""
instance_name = dormant-test-{self.port}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:{self.root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
"""

    def _mail_owner(self) -> tuple[int, int]:
        """Dovecot never accesses mail as uid 0, so as root the maildirs belong to `nobody`."""
        if os.geteuid() != 0:
            return os.geteuid(), os.getegid()
        nobody = pwd.getpwnam("nobody")
        mail = self.root / "mail"
        mail.mkdir(exist_ok=True)
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
        return nobody.pw_uid, nobody.pw_gid

    # --- users and mail ---

    def add_user(self, username: str, password: str) -> None:
        """Passwords are stored in clear (`{PLAIN}`); a ':' would end the field, so none is allowed.
        Only before start(): Dovecot re-reads the file at most once a second."""
        if ":" in username + password:
            raise ValueError("passwd-file fields cannot contain ':'")
        with self.passwd.open("a") as f:
            f.write(f"{username}:{{PLAIN}}{password}::::::\n")

    def new_mailbox(self, folder: str | None = None) -> Mailbox:
        """A fresh folder of the default user: created at once over IMAP (a user added to the passwd-file
        would only be seen after Dovecot's once-a-second re-read)."""
        box = Mailbox(self, self.default.username, self.default.password, folder or f"t-{uuid.uuid4().hex[:10]}")
        with self._session(box.username, box.password) as imap:
            _ok(imap.create(_quoted(box.folder)), "CREATE")
        return box

    def url_for(self, username: str, password: str, folder: str = "INBOX", scheme: str = "imap") -> str:
        port = self.imaps_port if scheme == "imaps" else self.port
        return (f"{scheme}://{quote(username, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}/"
                f"{quote(folder, safe='')}")

    @property
    def url(self) -> str:
        return self.default.url

    def append(self, raw: bytes, username: str | None = None, password: str | None = None,
               folder: str = "INBOX") -> None:
        with self._session(username or self.default.username, password or self.default.password) as imap:
            _ok(imap.append(_quoted(folder), None, None, raw), "APPEND")

    def recreate_folder(self, username: str, password: str, folder: str = "INBOX") -> None:
        """A new UIDVALIDITY: IMAP cannot DELETE the INBOX, so its maildir is removed on disk instead;
        Dovecot then creates it afresh with a new UIDVALIDITY (other folders: DELETE + CREATE)."""
        if folder.upper() == "INBOX":
            self._wipe_inbox(username)
            return
        with self._session(username, password) as imap:
            _ok(imap.delete(_quoted(folder)), "DELETE")
            _ok(imap.create(_quoted(folder)), "CREATE")

    def _wipe_inbox(self, username: str) -> None:
        """Remove the INBOX's maildir and index but keep `dovecot-uidvalidity*`, the user's UIDVALIDITY
        counter, so the recreated INBOX gets a new value even within the same second."""
        home = self.root / "mail" / username
        for path in home.iterdir():
            if path.name.startswith("dovecot-uidvalidity") or path.name.startswith(".") and path.is_dir():
                continue
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    def _session(self, username: str, password: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(_quoted(username), password)
        return imap

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def _ok(answer: tuple[str, list], command: str) -> None:
    if answer[0] != "OK":
        raise RuntimeError(f"{command} failed: {answer[1]}")


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="session")
def dovecot():
    """A running Dovecot for the session. Missing binary: skipped locally, a failure in CI (which installs
    dovecot-imapd in .ci/run), so the IMAP tests cannot silently stop running there."""
    if not DOVECOT.exists():
        reason = f"{DOVECOT} not found: apt-get install dovecot-imapd to run the IMAP reader tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="dormant-dovecot-"))
    root.chmod(0o755)  # Dovecot's unprivileged auth process reads the passwd-file here
    server = Dovecot(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    """A fresh IMAP folder for one test."""
    return dovecot.new_mailbox()
