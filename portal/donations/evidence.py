"""Evidence files behind expenses (invoices, photos, handover lists).

Safe storage: only JPEG, PNG and PDF, recognised by their first bytes (never by the
name or the browser's claimed type), at most EVIDENCE_MAX_BYTES; stored under the
instance folder by a random key (never under static/, never under the uploaded name),
and served by `views` with the checked type, `nosniff`, a sandboxing CSP and an inline
Content-Disposition carrying a cleaned name, so nothing uploaded can run as a page."""

import hashlib
import os
import secrets
import unicodedata
from urllib.parse import quote

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.donations.errors import LedgerError
from portal.donations.models import EVIDENCE_KINDS, Evidence, Expense
from portal.extensions import db

EVIDENCE_MAX_BYTES = 1_900_000  # under MAX_CONTENT_LENGTH, which caps the whole form
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
    # Written before the commit: a rolled-back upload leaves an unreferenced file behind,
    # never a row without its file.
    with open(path, "xb") as out:
        out.write(data)
    db.session.add(evidence)
    db.session.flush()
    return evidence


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
