"""The mbox intake on the fixture series (tests/fixtures/series): format-patch
output, a list thread with two revisions, cover letters and replies, b4 am
output; and every way an mbox can be wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.core.errors import InputError, PatchError
from harness.intake.mbox import parse_mbox, read_mbox

FIX = Path(__file__).parent / "fixtures" / "series"
FORMAT_PATCH = FIX / "fence-signal-twice.mbox"
THREAD = FIX / "fence-signal-twice-v1-v2.mbox"
B4AM = FIX / "fence-signal-twice-v2.b4am.mbx"
SUBJECTS = ["dma-buf: spell signaled consistently in dma-fence.c comments",
            "dma-buf: drop a duplicate blank line in dma-fence.c",
            "dma-buf: warn when a fence is signaled twice"]


def messages(path: Path) -> list[bytes]:
    """An mbox's messages, each with its separator line."""
    data = path.read_bytes()
    return [m for m in re.split(rb"(?m)^(?=From \S+ .*\d\d:\d\d:\d\d.* \d{4}$)", data) if m]


def test_format_patch_output():
    s = read_mbox(FORMAT_PATCH)
    assert [p.subject for p in s.patches] == SUBJECTS
    assert [(p.index, p.number, p.total) for p in s.patches] == [(1, 1, 3), (2, 2, 3), (3, 3, 3)]
    assert all(re.fullmatch(r"[0-9a-f]{40}", p.commit) for p in s.patches)
    assert all(p.message_id is None for p in s.patches), "format-patch output has no Message-ID"
    assert s.patches[0].author == "Harness Test Series <harness-tests@example.org>"
    assert s.patches[0].date.startswith("Mon, 06 Jan 2025")
    assert s.source == "mbox" and s.revision == 1 and s.cover_subject is None
    assert s.patches[0].filename == "0001-dma-buf-spell-signaled-consistently-in-dma-fence.c-c.patch"
    # the patch file is git am input: the commit's From line, no made-up Message-Id
    data = s.patches[2].data
    assert data.startswith(f"From {s.patches[2].commit} Mon Sep 17 00:00:00 2001\n".encode())
    assert b"Message-Id" not in data and b"intake.harness.invalid" not in data


def test_from_line_inside_a_body_is_not_a_new_message():
    s = read_mbox(FORMAT_PATCH)
    assert len(s.patches) == 3
    assert b"\nFrom the point of view of the fence's waiters" in s.patches[2].data
    assert b"WARN_ONCE(test_and_set_bit" in s.patches[2].data


def test_thread_takes_newest_revision_skips_cover_and_replies():
    s = read_mbox(THREAD)
    assert s.revision == 2
    assert [p.subject for p in s.patches] == SUBJECTS
    assert all(p.revision == 2 for p in s.patches)
    assert s.cover_subject == "dma-buf: spelling, a blank line and a warning on double signal"
    assert [p.message_id for p in s.patches] == [f"20250106.v2-{k}.harness-tests@example.org" for k in (1, 2, 3)]
    assert all(p.commit is None for p in s.patches)
    # v2's content (v1's patch 3 used a bare WARN_ON_ONCE)
    assert b"signaled twice\\n" in s.patches[2].data and b"WARN_ON_ONCE" not in s.patches[2].data
    # the review reply's trailer is not folded in: the patch is tested as posted
    assert b"Reviewed-by" not in s.patches[1].data
    assert any("v1 skipped" in n for n in s.notes) and any("3 replies" in n for n in s.notes)


def test_thread_folded_subjects_and_mboxrd_escapes():
    assert b"Subject: [PATCH v2 1/3] dma-buf: spell signaled consistently in dma-fence.c\n comments" \
        in THREAD.read_bytes()
    s = read_mbox(THREAD)
    assert s.patches[0].subject == SUBJECTS[0]
    # public-inbox's >From escape undone in the patch
    assert b"\nFrom the point of view" in s.patches[2].data and b">From the point" not in s.patches[2].data


def test_same_patches_from_every_source():
    """The diffs are the same whichever way the series came."""
    def diffs(series):
        return [p.data[p.data.index(b"\ndiff --git"):] for p in series.patches]
    assert diffs(read_mbox(FORMAT_PATCH)) == diffs(read_mbox(THREAD)) == diffs(read_mbox(B4AM))


def test_b4_am_output():
    s = read_mbox(B4AM)
    assert s.revision == 2 and [p.subject for p in s.patches] == SUBJECTS
    assert s.patches[1].message_id == "20250106.v2-2.harness-tests@example.org"
    assert b"Reviewed-by: Rita Reviewer" in s.patches[1].data   # b4 am folded it in


def test_newest_revision_is_the_highest_number_not_the_latest_date(tmp_path):
    """v3 and v4 of one series, v3's mails dated after v4's (format-patch -v
    keeps author dates, so dates cannot order rerolls)."""
    text = FORMAT_PATCH.read_text()
    v3 = re.sub(r"\[PATCH (\d)/3\]", r"[PATCH v3 \1/3]", text).replace("Jan 2025", "Feb 2025")
    v4 = re.sub(r"\[PATCH (\d)/3\]", r"[PATCH v4 \1/3]", text).replace(
        "Comments only, no functional change", "Comments only (v4), no functional change")
    s = parse_mbox((v4 + v3).encode(), "mixed")
    assert s.revision == 4 and all(p.revision == 4 for p in s.patches)
    assert b"Comments only (v4)" in s.patches[0].data
    assert any("v3 skipped" in n for n in s.notes)


def test_missing_patch_is_named():
    kept = [m for m in messages(THREAD) if b"[PATCH v2 2/3]" not in m]
    with pytest.raises(InputError) as exc:
        parse_mbox(b"".join(kept), "thread.mbox")
    msg = str(exc.value)
    assert "'thread.mbox'" in msg and "v2" in msg and "patch 2/3 missing" in msg and "present: 1, 3" in msg


def test_missing_patch_in_format_patch_output():
    kept = [m for m in messages(FORMAT_PATCH) if b"[PATCH 2/3]" not in m]
    with pytest.raises(InputError, match=r"patch 2/3 missing \(present: 1, 3\)"):
        parse_mbox(b"".join(kept), "x.mbox")


def test_only_cover_and_replies_is_no_patches():
    kept = [m for m in messages(THREAD) if b"[PATCH v2 0/3]" in m or b"Subject: Re:" in m]
    with pytest.raises(InputError) as exc:
        parse_mbox(b"".join(kept), "covers.mbox")
    assert "no patches" in str(exc.value) and "cover letter" in str(exc.value) and "repl" in str(exc.value)


def test_empty_and_non_mail_files():
    with pytest.raises(InputError, match="no patches"):
        parse_mbox(b"", "empty.mbox")
    with pytest.raises(InputError, match="'notes.txt': no patches"):
        parse_mbox(b"just some text\nwith lines\n", "notes.txt")
    with pytest.raises(InputError, match="cannot read"):
        read_mbox(FIX / "does-not-exist.mbox")


def test_two_unrelated_series_claiming_the_same_places():
    other = re.sub(r"dma-buf: ", "mm: ", FORMAT_PATCH.read_text())
    with pytest.raises(PatchError) as exc:
        parse_mbox((FORMAT_PATCH.read_text() + other).encode(), "two.mbox")
    assert "mix of unrelated series" in str(exc.value) and "mm: " in str(exc.value)


def test_unrelated_series_of_different_lengths():
    single = messages(FORMAT_PATCH)[0].decode().replace("[PATCH 1/3]", "[PATCH 1/2]").replace(
        "dma-buf: spell", "mm: spell")
    with pytest.raises(PatchError, match="disagree on the series length"):
        parse_mbox((FORMAT_PATCH.read_text() + single).encode(), "mix.mbox")


def test_unrelated_older_revision_is_a_mix_not_an_old_version():
    v2 = re.sub(r"\[PATCH (\d)/3\]", r"[PATCH v2 \1/3]", FORMAT_PATCH.read_text())
    unrelated_v1 = re.sub(r"dma-buf: \w+", "net: tweak", FORMAT_PATCH.read_text())
    with pytest.raises(PatchError, match="v1 .* shares no patch subject and no thread with v2"):
        parse_mbox((unrelated_v1 + v2).encode(), "mix.mbox")


def test_unnumbered_patches_in_file_order():
    """`git format-patch -N --stdout`: [PATCH] without k/n, applied in file order like git am."""
    text = re.sub(r"\[PATCH \d/3\]", "[PATCH]", FORMAT_PATCH.read_text())
    s = parse_mbox(text.encode(), "plain.mbox")
    assert [p.subject for p in s.patches] == SUBJECTS and s.patches[0].number is None
    assert [p.index for p in s.patches] == [1, 2, 3]


def with_first(text: str) -> bytes:
    """The fixture mbox with its first message replaced."""
    return (text + "".join(m.decode() for m in messages(FORMAT_PATCH)[1:])).encode()


def test_binary_and_traversal_patches_rejected():
    one = messages(FORMAT_PATCH)[0].decode()
    binary = one.replace("--- a/drivers/dma-buf/dma-fence.c", "GIT binary patch\nliteral 4\nxxxx\n"
                         "--- a/drivers/dma-buf/dma-fence.c", 1)
    with pytest.raises(PatchError, match=r"patch 1/3 .*line \d+: binary content"):
        parse_mbox(with_first(binary), "bin.mbox")
    evil = one.replace("a/drivers/dma-buf/dma-fence.c", "a/../../etc/passwd")
    with pytest.raises(PatchError, match=r"'bin.mbox': patch 1/3 .*outside the kernel tree"):
        parse_mbox(with_first(evil), "bin.mbox")


def test_bidi_control_characters_rejected():
    one = messages(FORMAT_PATCH)[0].decode()
    trojan = one.replace("+ * signaled already.", "+ * signaled\u202e already.", 1)
    with pytest.raises(PatchError, match="bidirectional control character"):
        parse_mbox(with_first(trojan), "t.mbox")


def test_in_body_from_names_the_author():
    """A patch sent by someone else: `From:` in the body is the author (as git am reads it)."""
    one = messages(FORMAT_PATCH)[0].decode()
    head, body = one.split("\n\n", 1)
    sent = head.replace("From: Harness Test Series <harness-tests@example.org>",
                        "From: Maintainer <maint@example.org>")
    s = parse_mbox(with_first(sent + "\n\nFrom: Original Author <author@example.org>\n\n" + body), "fw.mbox")
    assert s.patches[0].author == "Original Author <author@example.org>"


def test_partial_reroll_is_completed_from_the_older_revision():
    """v2 of patch 3 only, sent in reply to v1's 3/3 (b4's partial reroll)."""
    msgs = messages(THREAD)
    v1 = [m for m in msgs if b"harness-tests@example.org>\n" in m and b"Message-Id: <20250106.v1-" in m]
    v2_3 = next(m for m in msgs if b"Message-Id: <20250106.v2-3." in m).decode()
    v2_3 = re.sub(r"In-Reply-To: <[^>]+>", "In-Reply-To: <20250106.v1-3.harness-tests@example.org>", v2_3)
    v2_3 = re.sub(r"References: <[^>]+>", "References: <20250106.v1-0.harness-tests@example.org> "
                                          "<20250106.v1-3.harness-tests@example.org>", v2_3)
    s = parse_mbox(b"".join(v1) + v2_3.encode(), "reroll.mbox")
    assert s.revision == 2 and [p.subject for p in s.patches] == SUBJECTS
    assert [p.message_id.split(".")[1] for p in s.patches] == ["v1-1", "v1-2", "v2-3"]
    assert [p.revision for p in s.patches] == [1, 1, 2]
    assert any("partial reroll" in n for n in s.notes)


def test_transfer_encoded_mail_is_decoded():
    """Mail clients send patches quoted-printable or base64: git am input is the decoded text."""
    import base64
    import email
    import email.policy
    first = messages(FORMAT_PATCH)[0]
    sep, raw = first.split(b"\n", 1)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_payload(decode=True)
    del msg["Content-Transfer-Encoding"]
    msg["Content-Transfer-Encoding"] = "base64"
    msg.set_payload(base64.encodebytes(body).decode())
    encoded = sep + b"\n" + msg.as_bytes()
    assert b"diff --git" not in encoded
    s = parse_mbox(with_first(encoded.decode()), "b64.mbox")
    plain = read_mbox(FORMAT_PATCH)
    tail = plain.patches[0].data.index(b"\ndiff --git")
    assert s.patches[0].data.rstrip(b"\n").endswith(plain.patches[0].data[tail:].rstrip(b"\n"))
    assert s.patches[0].subject == SUBJECTS[0]
