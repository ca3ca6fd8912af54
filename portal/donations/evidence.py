"""Evidence files behind expenses (invoices, photos, handover lists).

Safe storage: only JPEG, PNG and PDF, recognised by their first bytes (never by the
name or the browser's claimed type), at most EVIDENCE_MAX_BYTES; stored under the
instance folder by a random key (never under static/, never under the uploaded name),
and served by `views` with the checked type, `nosniff`, a sandboxing CSP and an inline
Content-Disposition carrying a cleaned name, so nothing uploaded can run as a page."""

import contextlib
import hashlib
import os
import secrets
import time
import unicodedata
from datetime import timedelta
from urllib.parse import quote

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.donations.errors import LedgerError
from portal.donations.models import EVIDENCE_KINDS, Evidence, Expense
from portal.extensions import db

EVIDENCE_MAX_BYTES = 1_900_000  # under MAX_CONTENT_LENGTH, which caps the whole form
_WRITTEN = "evidence_files_written"  # db.session.info: this transaction's new files
TYPES = (  # (first bytes, content type, extension)
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG or PDF; None for anything else."""
    for magic, content_type, extension in TYPES:
        if data.startswith(magic):
            return content_type, extension
    return None


def clean_filename(name: str | None, extension: str) -> str:
    """The uploaded name without folders or hidden characters, at most 60 characters
    before an extension that matches the checked type."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(c for c in base if unicodedata.category(c)[0] not in ("C", "Z") or c == " ")
    stem = os.path.splitext(base)[0].strip(" .")[:60] or "evidence"
    return stem + extension


def folder() -> str:
    return os.path.join(current_app.instance_path, "evidence")


def path_of(evidence: Evidence) -> str:
    return os.path.join(folder(), evidence.storage_key[:2], evidence.storage_key)


def store(expense: Expense, kind: str, filename: str | None, data: bytes, actor) -> Evidence:
    """Keep one evidence file for `expense`. Refuses other types, empty and oversized files."""
    if kind not in EVIDENCE_KINDS:
        raise LedgerError(_l("Please choose what the file shows."))
    if not data:
        raise LedgerError(_l("The file is empty."))
    if len(data) > EVIDENCE_MAX_BYTES:
        raise LedgerError(_l("The file is too large: at most 1.9 MB."))
    found = sniff(data)
    if found is None:
        raise LedgerError(_l("Only photos (JPEG, PNG) and PDF files can be uploaded."))
    content_type, extension = found
    key = secrets.token_hex(16)
    evidence = Evidence(
        expense_id=expense.id,
        kind=kind,
        filename=clean_filename(filename, extension),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_by_id=actor.id if actor is not None else None,
    )
    path = path_of(evidence)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Written before the commit, so there is never a row without its file; a rollback
    # removes the file again (below), and `sweep` whatever a crash left behind.
    with open(path, "xb") as out:
        out.write(data)
    db.session.info.setdefault(_WRITTEN, []).append(path)
    db.session.add(evidence)
    db.session.flush()
    return evidence


@event.listens_for(Session, "after_commit")
def _kept(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_rollback")
def _forget_written(session: Session) -> None:
    for path in session.info.pop(_WRITTEN, ()):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def sweep(older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Remove evidence files no row refers to (a process that died between writing the
    file and committing its row), older than `older_than` so an upload in progress is
    never touched. Returns the removed keys."""
    cutoff = time.time() - older_than.total_seconds()
    found = {}
    for directory, _subdirectories, names in os.walk(folder()):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.getmtime(path) < cutoff:
                found[name] = path
    keys = sorted(found)
    known = set()
    for start in range(0, len(keys), 500):
        batch = keys[start : start + 500]
        known.update(
            db.session.scalars(select(Evidence.storage_key).where(Evidence.storage_key.in_(batch)))
        )
    removed = [key for key in keys if key not in known]
    for key in removed:
        os.remove(found[key])
    return removed


def disposition(evidence: Evidence) -> str:
    """Inline (a phone shows a photo or PDF in place: WeChat cannot download), with the
    cleaned name; ASCII fallback plus the UTF-8 form for Chinese names."""
    return (
        f'inline; filename="evidence{os.path.splitext(evidence.filename)[1]}"; '
        f"filename*=UTF-8''{quote(evidence.filename)}"
    )


def read(evidence: Evidence) -> bytes | None:
    try:
        with open(path_of(evidence), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
