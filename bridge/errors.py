"""One family of errors, so the CLI can turn any of them into a one-line message."""

from __future__ import annotations

import os


class BarlightError(Exception):
    """A problem the user can fix; ``str(err)`` is a one-line message for them."""


class InputError(BarlightError, ValueError):
    """Bad user input: a file, a field or an argument, and what is wrong with it."""

    def __init__(self, where: str | os.PathLike[str], problem: str) -> None:
        self.where = os.fspath(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")


class InputWarning(UserWarning):
    """Input that was usable after a repair (NaN samples replaced...): ``where`` and what was done.
    The CLI prints it as one line, ``barlight CMD: warning: WHERE: WHAT``."""

    def __init__(self, where: str | os.PathLike[str], problem: str) -> None:
        self.where = os.fspath(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")
