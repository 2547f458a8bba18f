"""Mutating parsed documents and their text: the junk a user (or a broken script) puts in a file.

Every mutation draws its choices from a `Chooser`, so one engine serves both campaigns: the test
suite's, where hypothesis draws (and shrinks a failing case), and the long one, where a seeded
`random.Random` draws (a case is replayed from its seed). Each mutation says what it did, and
whether what it put there is nonsense for any key that holds a number (NaN, a boolean, a table
for a scalar…): a command that accepts such a document is a finding (`harness`).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

__all__ = ["Chooser", "RandomChooser", "HypothesisChooser", "Unmutated", "Deep", "Mutation", "mutate_document",
           "mutate_text", "mutate_rows", "JUNK"]


class Chooser:
    """The draws a mutation makes. `bounded`: only values that keep a run's work small (no huge
    counts, rates or durations, no tiny intervals), for the test suite's campaign, whose cases must
    each finish in a second or so; the long campaign draws from everything, and a case that runs
    past its time there is a finding."""

    bounded = False

    def integer(self, low: int, high: int) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def choice(self, options):
        options = list(options)
        return options[self.integer(0, len(options) - 1)]

    def chance(self, percent: int) -> bool:
        return self.integer(1, 100) <= percent


class RandomChooser(Chooser):
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


class Unmutated(Chooser):
    """Draws the first option every time and makes every mutation a no-op: the seed documents as
    they are (their unmutated run must succeed, or the campaign tests nothing)."""

    identity = True

    def integer(self, low: int, high: int) -> int:
        return low


class HypothesisChooser(Chooser):
    def __init__(self, data, bounded: bool = False):
        from hypothesis import strategies as st

        self.data, self.st, self.bounded = data, st, bounded

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(self.st.integers(low, high))


@dataclass(frozen=True)
class Deep:
    """An array nested `depth` deep, written as text ("[[[…]]]") by the document writers, so that
    the writer never recurses: what is tested is the reader."""

    depth: int


#: Values that break assumptions: zero, negatives, the float limits, non-finite floats, integers
#: past 64 bits, booleans, numeric and empty strings, empty containers, odd unicode, deep nesting.
JUNK = (
    0, -1, 1, 0.0, -0.0, 1e-300, 5e-324, 1e308, -1e308, 1.7976931348623157e308,
    float("nan"), float("inf"), float("-inf"),
    2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, 10**400,
    True, False,
    "", " ", "0", "-1", "1e308", "nan", "inf", "-inf", "true", "NaN", "0x10", "1_000", "١٢٣",
    "2 KB", "-5 KB", "1e308 GB", "nan KB", "10min", "-1min", "0s", "1e308h", "nanmin", "inf s",
    "1us", "1e-300s", "18000/min", "0/min", "-5/s", "1e308/s",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
    "ml.c5.xlarge", "ml.p99.48xlarge", "ml.", "P95", "p100", "p0",
    "ü€𝄞", "\u202e\u200b", "x" * 5000, "a\nb", "\\", "..", "/", "/dev/zero", "CON",
    [], {}, [[]], [{}], {"": ""}, {"x": 1}, [1, "a", True],
    Deep(64), Deep(5000),
)


def _small(value) -> bool:
    """Whether `value` keeps a run's work small wherever it goes (see `Chooser.bounded`)."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, float) and not math.isfinite(value):
        return True
    if isinstance(value, int | float):
        return value <= 0 or 0.5 <= value <= 1000
    if isinstance(value, str):
        numbers = re.findall(r"\d+(?:\.\d*)?(?:e[+-]?\d+)?", value, re.IGNORECASE)
        tiny_unit = re.search(r"\d\s*(us|µs|ns)\b", value)
        return len(value) <= 100 and not tiny_unit and all(_small(float(n)) for n in numbers)
    if isinstance(value, list):
        return len(value) <= 20 and all(_small(v) for v in value)
    if isinstance(value, dict):
        return all(_small(v) for v in value.values())
    return True


#: The junk of a bounded campaign (`Chooser.bounded`).
BOUNDED_JUNK = tuple(value for value in JUNK if _small(value))


def _junk(chooser: Chooser):
    """A value of `JUNK`, copied: a table or list put into a document is mutated further (a key
    added to it), and shared, it would change `JUNK` for every later case and could come to
    contain itself (an endless document)."""
    return _copy(chooser.choice(BOUNDED_JUNK if chooser.bounded else JUNK))


@dataclass
class Mutation:
    """What was done, and how it made the document nonsense for certain ("" if it did not: see
    `nonsense_kind`). `path` and `value`: where the nonsense went, to check it is still there
    once later mutations are done."""

    description: str
    nonsense: str = ""
    path: tuple | None = None
    value: object = None


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: The kinds of certain nonsense (`Mutation.nonsense`).
NAN, BOOLEAN, SHAPE = "NaN for a value", "a boolean for a number", "a table swapped with a scalar"


def nonsense_kind(old, new) -> str:
    """Why no schema may accept `new` where `old` stood ("" if one may): NaN, a boolean for a
    number, a table for a scalar or a scalar for a table."""
    if isinstance(new, float) and math.isnan(new):
        return NAN
    if _is_number(old) and isinstance(new, bool):
        return BOOLEAN
    if isinstance(old, dict) and isinstance(new, str | int | float):
        return SHAPE
    if isinstance(new, dict) and isinstance(old, str | int | float):
        return SHAPE
    return ""


def _paths(node, prefix=()):
    """Every (container path, key or index) in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix, key
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield prefix, index
            yield from _paths(value, prefix + (index,))


def _container(document, path):
    node = document
    for part in path:
        node = node[part]
    return node


_QUANTITY = re.compile(r"^(\s*)(-?[0-9.]+(?:e[+-]?\d+)?)(.*)$", re.IGNORECASE)


def _variant_of(chooser: Chooser, value):
    """A value derived from `value`: scaled, negated, its type swapped, its unit kept with an
    extreme number ("1e308min")."""
    if _is_number(value):
        make = chooser.choice([
            lambda: -value, lambda: value * 10**6, lambda: value / 10**6, lambda: value * 1e300, lambda: str(value),
            lambda: float(value) + 0.5, lambda: int(value) if math.isfinite(value) else 0, lambda: [value],
            lambda: value > 0,
        ])
        try:
            return make()
        except OverflowError:  # an integer past the floats
            return value // 10**6
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        if match:
            number = chooser.choice(["1e308", "-1", "0", "nan", "inf", "1e-300", "99999999999999999999",
                                     "0.0000001", "1e400", ""])
            return f"{match.group(1)}{number}{match.group(3)}"
        return chooser.choice([value * 2, value.upper(), value[:-1], value + "x", [value], 1.0, ""])
    if isinstance(value, list):
        return chooser.choice([value * 2, value[:1], list(reversed(value)), value * 200, [value]])
    if isinstance(value, dict):
        return chooser.choice([list(value.values()), [value], [value, value], {k: "" for k in value}])
    return _junk(chooser)


def mutate_document(chooser: Chooser, document, extra_keys=("x", "name", "seed", "rate", "file", "kind")) -> list[Mutation]:
    """Apply 1–3 mutations to `document` in place; returns what was done."""
    done: list[Mutation] = []
    # values the mutations put in: replacing one says nothing about the document's own shape (a
    # table added as junk, then replaced by a string, is a string where the schema wants one)
    placed: list = []
    for _ in range(0 if getattr(chooser, "identity", False) else chooser.integer(1, 3)):
        paths = list(_paths(document))
        if not paths:
            break
        path, key = chooser.choice(paths)
        node = _container(document, path)
        where = ".".join(map(str, path + (key,)))
        old = node[key]
        action = chooser.choice(["delete", "junk", "junk", "variant", "variant", "duplicate", "add", "transplant"])
        if action == "delete":
            del node[key]
            done.append(Mutation(f"delete {where}"))
        elif action in ("junk", "variant"):
            new = _junk(chooser) if action == "junk" else _variant_of(chooser, old)
            if chooser.bounded and not _small(new):
                new = _junk(chooser)
            node[key] = new
            nonsense = "" if any(old is value for value in placed) else nonsense_kind(old, new)
            placed.append(new)
            done.append(Mutation(f"{where} = {new!r}"[:200], nonsense, path + (key,), new))
        elif action == "transplant":  # a value from elsewhere in the document: well-formed, misplaced
            source_path, source_key = chooser.choice(paths)
            new = _copy(_container(document, source_path)[source_key])
            if chooser.bounded and not _small(new):  # a seed or a date moved to a rate
                new = _junk(chooser)
            node[key] = new
            placed.append(new)
            done.append(Mutation(f"{where} = the value of {'.'.join(map(str, source_path + (source_key,)))}"))
        elif action == "duplicate" and isinstance(node, list):
            node.insert(key, _copy(old))
            done.append(Mutation(f"duplicate {where}"))
        elif isinstance(node, dict):
            name = chooser.choice(extra_keys)
            if name not in node:
                node[name] = _junk(chooser)
                placed.append(node[name])
                done.append(Mutation(f"add {'.'.join(map(str, path + (name,)))} = {node[name]!r}"[:200]))
    for mutation in done:  # nonsense that a later mutation deleted or replaced is not nonsense any more
        if mutation.nonsense and not _still_there(document, mutation.path, mutation.value):
            mutation.nonsense = ""
    return done


def _still_there(document, path: tuple, value) -> bool:
    node = document
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return node is value


def _copy(value):
    import copy

    return copy.deepcopy(value)


def mutate_text(chooser: Chooser, text: str) -> tuple[Mutation, str]:
    """(what was done, the new text): a mutation of the text itself: truncated, a line (a table header with its body) duplicated,
    a line deleted, a byte of junk inserted, BOM and line-ending changes."""
    if getattr(chooser, "identity", False):
        return Mutation("unmutated"), text
    lines = text.splitlines(keepends=True)
    action = chooser.choice(["truncate", "truncate", "duplicate-lines", "delete-line", "insert", "crlf", "empty"])
    if action == "truncate" and text:
        at = chooser.integer(0, len(text) - 1)
        return Mutation(f"truncated at character {at}"), text[:at]
    if action == "duplicate-lines" and lines:
        start = chooser.integer(0, len(lines) - 1)
        end = min(len(lines), start + chooser.integer(1, 8))
        return Mutation(f"lines {start + 1}-{end} duplicated"), "".join(lines[:end] + lines[start:end] + lines[end:])
    if action == "delete-line" and lines:
        at = chooser.integer(0, len(lines) - 1)
        return Mutation(f"line {at + 1} deleted"), "".join(lines[:at] + lines[at + 1:])
    if action == "insert" and text:
        at = chooser.integer(0, len(text))
        junk = chooser.choice(["\x00", "\ufeff", "\ud800", "]", "[", "{", '"', "=", "\n[experiment]\n", "\u2028", "é"])
        return Mutation(f"{junk!r} inserted at character {at}"), text[:at] + junk + text[at:]
    if action == "crlf":
        return Mutation("CRLF line endings"), text.replace("\n", "\r\n")
    return Mutation("emptied"), ""


def mutate_rows(chooser: Chooser, header: list[str], rows: list[list[str]]) -> list[Mutation]:
    """Mutate a trace table in place: cells of junk, rows shuffled, dropped or duplicated, columns
    renamed or dropped, the table emptied."""
    cell_junk = ["", "nan", "NaN", "inf", "-inf", "1e308", "-1", "0", "1e400", "abc", "2026-13-45T00:00:00Z",
                 "9999-12-31T23:59:59Z", "1772452200000", "1772452200", "2026-03-02T12:10:00+05:00",
                 "2026-03-02 12:10:00", "2026-03-02T12:10:00", "ü€𝄞", "true", "1_000", "0x10", " 5 ", '"',
                 "-1e308", "3.5e-7", "99999999999999999999999"]
    done: list[Mutation] = []
    for _ in range(0 if getattr(chooser, "identity", False) else chooser.integer(1, 3)):
        action = chooser.choice(["cell", "cell", "column", "shuffle", "drop-rows", "duplicate", "header",
                                 "drop-column", "empty"])
        if action == "cell" and rows:
            r, c = chooser.integer(0, len(rows) - 1), chooser.integer(0, len(header) - 1)
            rows[r][c] = chooser.choice(cell_junk)
            done.append(Mutation(f"row {r + 1} column {header[c]!r} = {rows[r][c]!r}"))
        elif action == "column" and rows:
            c = chooser.integer(0, len(header) - 1)
            value = chooser.choice(cell_junk)
            for row in rows:
                row[c] = value
            done.append(Mutation(f"every {header[c]!r} = {value!r}"))
        elif action == "shuffle" and rows:
            chooser_rng = random.Random(chooser.integer(0, 2**31))
            chooser_rng.shuffle(rows)
            done.append(Mutation("rows shuffled"))
        elif action == "drop-rows" and rows:
            keep = chooser.integer(0, len(rows))
            del rows[keep:]
            done.append(Mutation(f"only the first {keep} rows kept"))
        elif action == "duplicate" and rows:
            r = chooser.integer(0, len(rows) - 1)
            rows[r:r] = [list(rows[r]) for _ in range(chooser.integer(1, 50))]
            done.append(Mutation(f"row {r + 1} repeated"))
        elif action == "header":
            c = chooser.integer(0, len(header) - 1)
            header[c] = chooser.choice(["", "Timestamp", "time", "timestamp ", "payload_bytes", "timestamp", "ü"])
            done.append(Mutation(f"column {c + 1} renamed {header[c]!r}"))
        elif action == "drop-column" and len(header) > 1:
            c = chooser.integer(0, len(header) - 1)
            done.append(Mutation(f"column {header[c]!r} dropped"))
            del header[c]
            for row in rows:
                del row[c]
        elif action == "empty":
            del rows[:]
            done.append(Mutation("no rows"))
    return done
