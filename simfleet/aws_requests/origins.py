"""Where each translated key came from, and problems put back there.

A translation records, for each snake_case key it writes into the experiment, the `Origin` it was
read from (a file, its key path, that file's key lines); `Translation` holds those origins and the
problems found, and checks a request's members and value types against its shape (`shapes`);
`relocate` puts a problem the experiment schema finds in a translated key back on the JSON file,
key path (`ProductionVariants[0].InstanceType`) and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simfleet.aws_requests.shapes import ignored_type_problem, pascal, snake
from simfleet.errors import Problem
from simfleet.schema.toml_lines import line_of
from simfleet.schema.validation import dotted, undotted

__all__ = ["Origin", "Translation", "relocate"]


@dataclass(frozen=True)
class Origin:
    """Where a translated key was written: a file, the key path in it, and that file's key lines."""

    file: str
    path: tuple
    lines: dict = field(default_factory=dict, compare=False, hash=False)


class Translation:
    """The state of one expansion: origins of translated keys, problems found, the TOML's origin."""

    def __init__(self, origins: dict, problems: list, toml: Origin):
        self.origins = origins
        self.problems = problems
        self.toml = toml
        self.spoiled: set[tuple] = set()

    def at_toml(self, path: tuple) -> Origin:
        return Origin(self.toml.file, path, self.toml.lines)

    def report(self, origin: Origin, message: str) -> None:
        self.problems.append(Problem(origin.file, dotted(origin.path), message, line_of(origin.lines, origin.path)))

    def members(self, data: dict, origin: Origin, shape: str, keys: set, ignored: set, refused: dict) -> bool:
        """Report members simfleet refuses or AWS does not know; True when there are none."""
        ok = True
        for name in data:
            where = Origin(origin.file, origin.path + (name,), origin.lines)
            if name in refused:
                self.report(where, f"not supported by simfleet: {refused[name]} (remove it to simulate the rest)")
            elif name not in keys and name not in ignored:
                self.report(where, f"unknown member of {shape} (members simfleet reads: {', '.join(sorted(keys))})")
            elif name in ignored and (message := ignored_type_problem(name, data[name])) is not None:
                self.report(where, message)
            else:
                continue
            ok = False
        return ok

    def convert(self, value, target: tuple, origin: Origin):
        """A JSON value with its PascalCase keys in snake_case; records the origin of each key."""
        self.origins[target] = origin
        if isinstance(value, dict):
            return {snake(k): self.convert(v, target + (snake(k),), Origin(origin.file, origin.path + (k,), origin.lines))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.convert(v, target + (i,), Origin(origin.file, origin.path + (i,), origin.lines))
                    for i, v in enumerate(value)]
        return value

    def expected(self, value, kind: type, origin: Origin, what: str) -> bool:
        if isinstance(value, kind):
            return True
        self.report(origin, f"expected {what}, got {type(value).__name__}")
        return False


def relocate(problem: Problem, origins: dict[tuple, Origin], source: str) -> Problem:
    """A problem the experiment `source` has in a translated key, put back on the file, key path and
    line the key came from."""
    if not origins or problem.file != source:
        return problem
    path = undotted(problem.key) if problem.key else ()
    for cut in range(len(path), 0, -1):
        origin = origins.get(path[:cut])
        if origin is not None:
            rest = path[cut:]
            if origin.file.endswith(".json"):
                rest = tuple(pascal(p) for p in rest)
            full = origin.path + rest
            line = line_of(origin.lines, full) or line_of(origin.lines, origin.path)
            return Problem(origin.file, dotted(full), problem.message, line)
    return problem
