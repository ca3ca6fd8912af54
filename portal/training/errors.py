class TrainingError(Exception):
    """A rule refused the action; `str(exc)` is the translated message for the page."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)
