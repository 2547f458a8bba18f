"""User-facing errors: one line per problem, naming the file, the key and what was expected.

Every layer that reads user input (`config`, `profiles`, `catalog`, `traffic` replay files)
raises `InputError` with all the problems it found, and the CLI prints them and exits with
`EXIT_INVALID_INPUT`; nothing past validation ever sees a half-valid input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Problem", "InputError", "EXIT_INVALID_INPUT", "EXIT_USAGE"]

EXIT_USAGE = 2
EXIT_INVALID_INPUT = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file."""

    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        key = f" {self.key}:" if self.key else ""
        return _one_line(f"{where}:{key} {self.message}")


#: Characters that end a line (for a terminal or `str.splitlines`), as a user's key or value may hold them.
_LINE_BREAKS = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    """`text` with its line breaks escaped (`\\n`, `\\u2028`), so that a problem is one line."""
    return _LINE_BREAKS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class InputError(Exception):
    """Raised with every problem found in a user's input, so they can all be fixed at once."""

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str | Path, message: str, key: str = "", line: int | None = None):
        return cls([Problem(str(file), key, message, line)])
