"""Patches as mail: split an mbox, read one message's identity.

The parsing of subjects (`[PATCH v3 2/5]`, `[PATCHv3]`, `Re:`), of authors
(an in-body `From:` wins over the sender, as `git am` does) and the
`git am`-ready form of a posted message come from b4 (what kernel maintainers
use to pick series off the lists), so the harness reads a series the way
`b4 am` does. The splitting is ours: b4's splitter drops the mbox `From `
line, which in `git format-patch` output carries the commit hash.
"""

from __future__ import annotations

import email.parser
import io
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage

import b4

from harness.core.errors import PatchError
from harness.core.util import sha256_text

# b4 reports through `logging`; a library call must not print to the user's
# terminal (what matters comes back as our own errors)
logging.getLogger("b4").setLevel(logging.CRITICAL + 1)
b4.can_network = False

# An mbox separator: "From <sender or hash> <asctime date>" (the test git
# mailsplit and public-inbox's readers use); "From the..." in a body is not one
_SEPARATOR = re.compile(rb"^From \S+ .*\d\d:\d\d:\d\d.* \d{4}\s*$")
# `git format-patch` marks its output with a fixed date after the commit hash
_FORMAT_PATCH = re.compile(r"^From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001$")
_PUBLIC_INBOX = b"From mboxrd@z "
SYNTHETIC_DOMAIN = "intake.harness.invalid"


@dataclass
class Mail:
    """One message of an mbox, as found in the file."""

    raw: bytes          # the message (headers + body), mboxrd escapes undone
    from_line: str      # its mbox separator line ("" for a bare message file)
    line: int           # 1-based line of the file where the message starts
    msg: EmailMessage
    synthetic_id: bool = False   # the Message-Id was made up (format-patch output has none)

    @property
    def commit(self) -> str | None:
        m = _FORMAT_PATCH.match(self.from_line)
        return m.group(1) if m else None

    @property
    def message_id(self) -> str | None:
        return None if self.synthetic_id else b4.LoreMessage.get_clean_msgid(self.msg)


def split_mbox(data: bytes) -> list[Mail]:
    """The messages of an mbox (mboxo as git writes it, or mboxrd as
    public-inbox archives save threads); a file without separators is one message."""
    lines = data.split(b"\n")
    mboxrd = data.startswith(_PUBLIC_INBOX)
    chunks: list[tuple[str, int, list[bytes]]] = []
    for n, line in enumerate(lines, 1):
        if _SEPARATOR.match(line):
            chunks.append((line.decode("utf-8", "replace").rstrip(), n + 1, []))
            continue
        if not chunks:
            if not line.strip():
                continue
            chunks.append(("", n, []))
        if mboxrd and re.match(rb"^>+From ", line):
            line = line[1:]
        chunks[-1][2].append(line)
    mails = []
    for from_line, start, body in chunks:
        raw = b"\n".join(body).rstrip(b"\n") + b"\n"
        msg = email.parser.BytesParser(policy=b4.emlpolicy, _class=EmailMessage).parsebytes(raw)
        mail = Mail(raw=raw, from_line=from_line, line=start, msg=msg)
        if not b4.LoreMessage.get_clean_msgid(msg):
            # b4 keys messages by Message-Id; give git's own output one that
            # no mail system would produce, and never report it as real
            del msg["Message-Id"]
            msg["Message-Id"] = f"<{start}.{sha256_text(raw)[:16]}@{SYNTHETIC_DOMAIN}>"
            mail.synthetic_id = True
        mails.append(mail)
    return mails


@dataclass(frozen=True)
class Prefix:
    """What a subject's [PATCH ...] prefix says."""

    subject: str              # without prefixes
    revision: int
    revision_given: bool      # vN written (else 1 by default)
    number: int | None        # k of k/n
    total: int | None
    reply: bool


def subject_prefix(subject: str) -> Prefix:
    s = b4.LoreSubject(subject or "")
    return Prefix(subject=s.subject, revision=s.revision, revision_given=not s.revision_inferred,
                  number=None if s.counters_inferred else s.counter,
                  total=None if s.counters_inferred else s.expected, reply=s.reply)


@dataclass(frozen=True)
class AmPatch:
    """A message turned into `git am` input, with the author and date it gives."""

    data: bytes
    subject: str
    author: str
    date: str


def am_patch(lmsg: "b4.LoreMessage", mail: Mail, where: str) -> AmPatch:
    """The message as `git am` input: its From/Date/Subject/Message-Id and the
    body b4 decoded (transfer encoding undone, the text or patch part of a
    MIME mail), without review trailers (the gate tests the patch as posted).

    Not b4's get_am_message(): it passes the body through an mbox with
    `From ` lines mangled to `>From `, which then stay in the commit message.
    Keeps format-patch's `From <commit>` line when known.
    """
    if not lmsg.body:
        raise PatchError(f"{where}: no text part to read a patch from")
    am = EmailMessage(policy=b4.emlpolicy)
    for name in ("From", "Date", "Subject"):
        if mail.msg[name] is not None:
            am[name] = b4.LoreMessage.clean_header(str(mail.msg[name]))
    if not mail.synthetic_id:
        am["Message-Id"] = f"<{lmsg.msgid}>"
    am.set_payload(lmsg.body, charset="utf-8")
    buf = io.BytesIO()
    b4.save_git_am_mbox([am], buf)
    data = buf.getvalue()
    if mail.commit:
        data = data.replace(b"From git@z Thu Jan  1 00:00:00 1970\n",
                            f"From {mail.commit} Mon Sep 17 00:00:00 2001\n".encode(), 1)
    subject, author, date = mail_identity(data)
    return AmPatch(data=data, subject=subject or lmsg.subject, author=author, date=date)


def mail_identity(raw: bytes) -> tuple[str, str, str]:
    """(subject without prefix, author, date) of a patch file, as `git am` reads
    them (`git mailinfo`: an in-body From:/Date:/Subject: wins)."""
    try:
        info, _msg, _patch = b4.get_mailinfo(raw, scissors=False)
    except ValueError:
        return "", "", ""
    author = info.get("Author", "")
    if info.get("Email"):
        author = f"{author} <{info['Email']}>" if author else info["Email"]
    return info.get("Subject", ""), author, info.get("Date", "")
