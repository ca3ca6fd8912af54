"""The one error every donations service raises for a broken rule."""


class LedgerError(ValueError):
    """A rule of the ledger refused the entry; the message is translated text to show."""
