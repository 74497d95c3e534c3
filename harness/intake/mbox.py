"""The mbox intake: `git format-patch --stdout`, `git send-email` output, a
thread saved from a mailing-list archive, or `b4 am` output.

b4's `LoreMailbox` sorts the messages the way `b4 am` does: cover letters
(`[PATCH 0/n]`) and replies (`Re:`, review mails) are set aside, patches are
grouped by revision and placed by their `k/n`, a partial reroll (v2 of only
some patches, sent as replies to v1) is completed from the older revision.
On top of that, a gate needs certainty where `b4 am` only warns:

- the newest revision is the highest `vN` (b4 picks the last *submitted*,
  by date; `git format-patch -v2` keeps the commits' author dates, which a
  reroll does not change, so dates cannot tell revisions apart);
- a missing patch (2/5 absent) is an error naming which;
- two patches claiming the same place, disagreeing totals, or an older
  revision sharing neither a subject nor a thread with the newest: a mix of
  unrelated series, an error naming them (b4 would take the second as an
  "additional patch").
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import b4

from harness.core.errors import InputError, PatchError
from harness.intake.mail import Mail, am_patch, split_mbox, subject_prefix
from harness.intake.patches import vet_text
from harness.intake.series import Series, SeriesPatch, patch_filename


def read_mbox(path: Path) -> Series:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"mbox {str(path)!r}: cannot read it: {exc.strerror}") from None
    return parse_mbox(data, str(path))


def parse_mbox(data: bytes, origin: str) -> Series:
    """The series in an mbox's bytes; `origin` names the file in messages and the Series."""
    where = f"mbox {origin!r}"
    mails = split_mbox(data)
    by_id: dict[str, Mail] = {}
    box = b4.LoreMailbox()
    for m in mails:
        try:
            box.add_message(m.msg)
        except ValueError as exc:     # b4 refuses messages it cannot key
            raise InputError(f"{where}: message at line {m.line}: {exc}") from None
        by_id.setdefault(b4.LoreMessage.get_clean_msgid(m.msg), m)
    patch_msgs = [lm for lm in box.msgid_map.values() if lm.has_diff and not lm.reply
                  and lm.msgid not in {c.msgid for c in box.covers.values()}]
    if not patch_msgs:
        raise InputError(f"{where}: no patches in it ({_census(box, len(mails))}); expected "
                         "`git format-patch` output or a thread of [PATCH] mails")
    if all(lm.counters_inferred for lm in patch_msgs) and len(patch_msgs) > 1:
        return _unnumbered(patch_msgs, by_id, box, where, origin)
    _check_one_series(patch_msgs, box, where)
    newest = max(box.series)
    lser = box.get_series(newest, codereview_trailers=False)
    if lser is None:
        raise InputError(f"{where}: v{newest} has no patches")
    missing = [k for k, lm in enumerate(lser.patches[1:], 1) if lm is None]
    if missing:
        have = [k for k, lm in enumerate(lser.patches[1:], 1) if lm is not None]
        rev = f"v{newest} " if newest > 1 else ""
        raise InputError(f"{where}: the series {rev}is incomplete: "
                         + ", ".join(f"patch {k}/{lser.expected}" for k in missing)
                         + f" missing (present: {', '.join(map(str, have)) or 'none'}); "
                         "save the whole thread")
    notes = []
    if len(box.series) > 1:
        older = sorted(r for r in box.series if r != newest)
        notes.append(f"newest revision v{newest} taken; older revision(s) "
                     + ", ".join(f"v{r}" for r in older) + " skipped")
    if lser.partial_reroll:
        notes.append(f"v{newest} is a partial reroll: missing patches taken from an older revision")
    if box.followups:
        n = len(box.followups)
        notes.append(f"{n} repl{'y' if n == 1 else 'ies'} skipped")
    cover = box.covers.get(newest)
    if cover is None and lser.has_cover and lser.patches[0] is not None:
        cover = lser.patches[0]
    patches = []
    for k, lm in enumerate(lser.patches[1:], 1):
        # a partial reroll's patch copied from an older revision is that revision's
        patches.append(_patch(lm, by_id, k, lser.expected, lm.reroll_from_revision or lm.revision, where))
    return Series(patches=tuple(patches), source="mbox", origin=origin, revision=newest,
                  cover_subject=cover.subject if cover is not None else None, notes=tuple(notes))


def _patch(lm: "b4.LoreMessage", by_id: dict[str, Mail], k: int, n: int, revision: int,
           where: str, numbered: bool = True) -> SeriesPatch:
    mail = by_id[lm.msgid]    # a partial reroll's copy from an older revision keeps its Message-Id
    label = f"{where}: patch {k}/{n} {lm.subject!r} (message at line {mail.line})"
    am = am_patch(lm, mail, label)
    vet_text(am.data, label)
    return SeriesPatch(index=k, filename=patch_filename(k, am.subject or lm.subject), data=am.data,
                       subject=am.subject or lm.subject, author=am.author, date=am.date,
                       commit=mail.commit, message_id=mail.message_id, number=k if numbered else None,
                       total=n if numbered else None, revision=revision)


def _unnumbered(patch_msgs, by_id: dict[str, Mail], box, where: str, origin: str) -> Series:
    """Several `[PATCH]` mails without k/n (`git format-patch -N`): mbox order, as `git am`."""
    ordered = sorted(patch_msgs, key=lambda lm: by_id[lm.msgid].line)
    seen: dict[str, Mail] = {}
    for lm in ordered:
        if lm.subject in seen:
            raise InputError(f"{where}: two unnumbered patches with the subject {lm.subject!r} "
                             f"(messages at lines {seen[lm.subject].line} and {by_id[lm.msgid].line}): "
                             "a resend or two series in one file; keep one")
        seen[lm.subject] = by_id[lm.msgid]
    revs = {lm.lsubject.revision for lm in ordered}   # b4 renumbers resends by date; the subject says
    if len(revs) > 1:
        raise InputError(f"{where}: unnumbered patches of different revisions ("
                         + ", ".join(f"v{r}" for r in sorted(revs)) + "): keep one revision")
    n = len(ordered)
    rev = ordered[0].lsubject.revision
    patches = tuple(_patch(lm, by_id, k, n, rev, where, numbered=False) for k, lm in enumerate(ordered, 1))
    return Series(patches=patches, source="mbox", origin=origin, revision=rev,
                  notes=(f"{n} unnumbered patches taken in file order",))


def _check_one_series(patch_msgs, box, where: str) -> None:
    """Refuse a file that holds more than one series (see the module doc)."""
    by_rev: dict[int, list] = defaultdict(list)
    for lm in patch_msgs:
        by_rev[lm.revision].append(lm)
    for rev, lms in by_rev.items():
        totals = defaultdict(list)
        for lm in lms:
            totals[lm.expected].append(lm)
        if len(totals) > 1:
            parts = "; ".join(f"{t} patches: " + ", ".join(repr(lm.full_subject) for lm in group[:2])
                              for t, group in sorted(totals.items()))
            raise PatchError(f"{where}: a mix of unrelated series: v{rev} patches disagree on the "
                             f"series length ({parts}); give one series per file")
        places: dict[int, object] = {}
        for lm in lms:
            other = places.get(lm.counter)
            if other is not None and other.subject != lm.subject:
                raise PatchError(f"{where}: a mix of unrelated series: {lm.full_subject!r} and "
                                 f"{other.full_subject!r} both claim place {lm.counter}/{lm.expected} "
                                 f"of v{rev}; give one series per file")
            places[lm.counter] = lm
    newest = max(by_rev)
    new_subjects = {lm.subject for lm in by_rev[newest]}
    cover = box.covers.get(newest)
    new_ids = {lm.msgid for lm in by_rev[newest]} | ({cover.msgid} if cover else set())
    new_refs = {r for lm in by_rev[newest] for r in lm.references} | (set(cover.references) if cover else set())
    for rev, lms in by_rev.items():
        if rev == newest:
            continue
        old_cover = box.covers.get(rev)
        old_ids = {lm.msgid for lm in lms} | ({old_cover.msgid} if old_cover else set())
        old_refs = {r for lm in lms for r in lm.references}
        related = (new_subjects & {lm.subject for lm in lms} or new_refs & old_ids or old_refs & new_ids
                   or (cover and old_cover and cover.subject == old_cover.subject))
        if not related:
            raise PatchError(f"{where}: a mix of unrelated series: v{rev} ({lms[0].full_subject!r}, ...) "
                             f"shares no patch subject and no thread with v{newest} "
                             f"({by_rev[newest][0].full_subject!r}, ...); give one series per file")


def _census(box, n_mails: int) -> str:
    parts = [f"{n_mails} message{'s' if n_mails != 1 else ''}"]
    if box.covers:
        parts.append(f"{len(box.covers)} cover letter(s)")
    if box.followups:
        parts.append(f"{len(box.followups)} repl{'y' if len(box.followups) == 1 else 'ies'}")
    if box.unknowns:
        parts.append(f"{len(box.unknowns)} without a diff")
    return ", ".join(parts)


__all__ = ["read_mbox", "parse_mbox", "subject_prefix"]
