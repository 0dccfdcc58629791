"""The IMAP mailbox URL (DORMANT_IMAP_URL): imaps://user:password@host[:993]/INBOX, imap://...:143 with
optional ?starttls=1. Parsing names the wrong part and never repeats the URL or the password; the password
is hidden from repr and `masked()` is what logs show."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from db.mailbox_cursor import mailbox_key

DEFAULT_PORTS = {"imaps": 993, "imap": 143}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class MailboxUrl:
    scheme: str  # "imaps" (TLS from the start) or "imap" (plain, or STARTTLS)
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    starttls: bool = False

    @property
    def key(self) -> str:
        """The cursor's key: one cursor per host, user and folder."""
        return mailbox_key(self.host, self.username, self.folder)

    def masked(self) -> str:
        """The URL for logs: everything but the password."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "?starttls=1" if self.starttls else ""
        return f"{self.scheme}://{quote(self.username, safe='@')}:***@{host}:{self.port}/{quote(self.folder)}{query}"

    def __str__(self) -> str:
        return self.masked()


def parse_imap_url(url: str) -> MailboxUrl:
    """imaps://user:pass@host[:993]/FOLDER or imap://user:pass@host[:143]/FOLDER[?starttls=1].

    User and password are percent-decoded (a '@', ':', '/' or '#' in them must be percent-encoded).
    Errors name the wrong part but never echo the URL, which holds the password.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise ValueError("IMAP URL cannot be parsed (check the brackets around an IPv6 host)") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"IMAP URL scheme must be imaps:// or imap://, not {scheme + '://' if scheme else 'missing'}")
    if parts.fragment:
        raise ValueError("IMAP URL has a '#' fragment: percent-encode a '#' in the password as %23")
    return MailboxUrl(scheme=scheme, host=_host(parts), port=_port(parts, scheme),
                      username=_credential(parts.username, "username"),
                      password=_credential(parts.password, "password"),
                      folder=_folder(parts.path), starttls=_starttls(parts.query, scheme))


def _host(parts) -> str:
    if not parts.hostname:
        raise ValueError("IMAP URL has no host (imaps://user:password@imap.example.com/INBOX)")
    return parts.hostname


def _port(parts, scheme: str) -> int:
    try:
        port = parts.port
    except ValueError:
        raise ValueError("IMAP URL port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("IMAP URL port must be a number from 1 to 65535")
    return port or DEFAULT_PORTS[scheme]


def _credential(value: str | None, name: str) -> str:
    decoded = unquote(value) if value else ""
    if not decoded:
        raise ValueError(f"IMAP URL has no {name} (imaps://user:password@host/INBOX)")
    return decoded


def _folder(path: str) -> str:
    folder = unquote(path.lstrip("/")) or "INBOX"
    if not folder.isascii() or any(ch in folder for ch in "\r\n\0"):
        raise ValueError("IMAP URL folder must be printable ASCII (non-ASCII folder names are not supported)")
    return folder


def _starttls(query: str, scheme: str) -> bool:
    starttls = False
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "starttls":
            raise ValueError(f"IMAP URL has an unknown parameter {name!r} (only starttls=1 is known)")
        if value.lower() not in _TRUE | _FALSE:
            raise ValueError("IMAP URL parameter starttls must be 1 or 0")
        starttls = value.lower() in _TRUE
    if starttls and scheme == "imaps":
        raise ValueError("IMAP URL: starttls=1 is for imap:// (imaps:// already uses TLS)")
    return starttls


# --- blocking IMAP calls (each run in a worker thread) ---
