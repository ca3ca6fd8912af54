"""Translated names for the ledger's stored keys (channels, kinds, statuses, measures)."""

from flask_babel import lazy_gettext as _l

CHANNEL_LABELS = {
    "bank": _l("Bank transfer"),
    "wechat": _l("WeChat Pay"),
    "alipay": _l("Alipay"),
    "cash": _l("Cash"),
    "online": _l("Online giving platform"),
    "goods": _l("Goods (valued)"),
}
STATUS_LABELS = {
    "fundraising": _l("Fundraising"),
    "running": _l("Running"),
    "closed": _l("Closed"),
}
EVIDENCE_LABELS = {
    "invoice": _l("Invoice"),
    "photo": _l("Photo"),
    "handover": _l("Handover list"),
}
KIND_LABELS = {"money": _l("Money"), "goods": _l("Goods")}
DONOR_KIND_LABELS = {"person": _l("A person"), "organisation": _l("An organisation")}


def channel_label(key: str | None) -> str:
    return str(CHANNEL_LABELS.get(key or "", key or ""))


def status_label(key: str) -> str:
    return str(STATUS_LABELS.get(key, key))


def evidence_label(key: str) -> str:
    return str(EVIDENCE_LABELS.get(key, key))


def kind_label(key: str) -> str:
    return str(KIND_LABELS.get(key, key))


def donor_label(public_label: str) -> str:
    """What a list shows for a donor: the stored public label, or "anonymous"."""
    return public_label or str(_l("Anonymous"))


def helpers() -> dict:
    """For templates: `labels.channel(...)` and the like."""
    return {
        "channel": channel_label,
        "status": status_label,
        "evidence": evidence_label,
        "kind": kind_label,
        "donor": donor_label,
    }
