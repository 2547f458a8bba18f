"""The packages of simfleet import in one direction (DESIGN §2.2): no cycle between them, and the layers hold.

A package is the first path component under `simfleet/`: a subpackage (`simfleet/metrics/`) or a
top-level module (`simfleet/fleet.py`); the top-level `simfleet/__init__.py`, the public API, is
the package `simfleet`. The graph is built from the source with `ast`, not by importing: every
`import simfleet.x…` and `from simfleet.x… import …` anywhere in a module counts, at module level,
inside functions (a lazy import is still a dependency) or under `if TYPE_CHECKING:`, and relative
imports are resolved. Imports by a name computed at run time (`importlib.import_module(name)`, as
the public API's lazy `RunMetrics` does) are not seen.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SIMFLEET = Path(__file__).resolve().parent.parent / "simfleet"

#: Package-level imports that close a cycle and are expected to, for now. Every other cycle fails
#: the test; an entry that no longer exists, or no longer closes a cycle, fails it too.
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()

#: DESIGN §2.2 as imports: a package imports only packages of its own layer or of layers above it
#: in this list (cycles within a layer are caught by the cycle test). The DESIGN writes the chain in
#: the order data flows (… fleet → engine → metrics → outputs …); in imports the engine drives the
#: metrics (the simulation feeds the aggregator, the autoscaler glue reads its datapoints), so
#: `metrics` sits below `engine` and never imports it. Every package must be listed.
LAYERS = [
    {"units", "errors", "rng", "distributions", "input_files", "request_records", "version"},  # foundations
    {"schema"},  # the schema toolkit: field types with units, validation messages, TOML lines
    {"catalog", "cloudwatch"},  # the instance catalog; CloudWatch's metric catalog and statistics
    {"config"},  # the experiment file's schema
    {"profiles", "traffic", "autoscaling"},  # the documents the scenario assembles
    {"serverless_sizing", "multi_model", "inference_components"},  # a profile sized for serverless; a multi-model
    # population and cache; inference component copies placed and their cost shared
    # (scenario checks them, fleet builds them)
    {"run_limits"},  # the work a run creates, estimated and held against the experiment's limits
    {"aws_requests"},  # CreateEndpointConfig and CreateModel requests translated into the experiment schema
    {"scenario"},  # scenario assembly
    {"fleet"},
    {"metrics"},
    {"engine"},
    {"outputs"},
    {"query", "sweep", "recommender", "report", "input_kinds", "calibration"},  # jobs over runs; every input kind
    # checked as its job would; profiles calibrated by simulating candidates
    {"cli", "__main__", "simfleet"},  # entry points: the command line, the public API
]


# --- the graph ------------------------------------------------------------------------------------


def module_name(path: Path, root: Path = SIMFLEET) -> str:
    """`simfleet/metrics/aggregator.py` -> `simfleet.metrics.aggregator`; a package's `__init__.py` is the package."""
    parts = (root.name, *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """The package a dotted module name belongs to: `simfleet.metrics.aggregator` -> `metrics`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imported_modules(tree: ast.Module, module: str, is_package: bool, root: Path = SIMFLEET):
    """(dotted name, line) of every simfleet module `tree` imports, wherever the import statement is."""
    top = root.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == top or alias.name.startswith(top + "."):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source != top and not source.startswith(top + "."):
                continue
            # `from simfleet.x import y` depends on package x whatever y is; `from simfleet import y` on
            # package y when y is a module or subpackage, else on the public API (`simfleet`).
            targets = set()
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                relative = Path(*candidate.split(".")[1:])
                is_module = (root / relative).is_dir() or (root / relative).with_suffix(".py").is_file()
                targets.add(candidate if source == top and is_module else source)
            for target in sorted(targets):
                yield target, node.lineno


def package_edges(root: Path = SIMFLEET) -> dict[tuple[str, str], list[str]]:
    """{(importing package, imported package): ["path:line imports module", …]} over all of `root`."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for target, line in imported_modules(tree, module, path.name == "__init__.py", root):
            source_package, target_package = package_of(module), package_of(target)
            if source_package != target_package:
                where = path.relative_to(root.parent).as_posix()
                edges[source_package, target_package].append(f"{where}:{line} imports {target}")
    return dict(edges)


def packages(root: Path = SIMFLEET) -> set[str]:
    return {package_of(module_name(path, root)) for path in root.rglob("*.py")}


# --- cycles -----------------------------------------------------------------------------------------


def find_cycles(edges) -> list[tuple[str, ...]]:
    """Every elementary cycle of the directed graph whose edges are the (source, target) pairs in
    `edges`, each as its nodes from its smallest one, e.g. ("a", "b", "c") for a -> b -> c -> a; sorted."""
    successors: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        successors[source].add(target)
    cycles = []

    def extend(path: list[str], on_path: set[str]) -> None:
        start = path[0]
        for nxt in sorted(successors[path[-1]]):
            if nxt == start:
                cycles.append(tuple(path))
            elif nxt > start and nxt not in on_path:  # each cycle once, from its smallest node
                path.append(nxt)
                on_path.add(nxt)
                extend(path, on_path)
                on_path.discard(nxt)
                path.pop()

    for start in sorted(set(successors) | {t for targets in successors.values() for t in targets}):
        extend([start], {start})
    return sorted(cycles)


def describe_cycle(cycle: tuple[str, ...], edges: dict[tuple[str, str], list[str]]) -> str:
    lines = [" -> ".join(cycle + cycle[:1])]
    for source, target in zip(cycle, cycle[1:] + cycle[:1]):
        lines.append(f"  {source} -> {target}:")
        lines += [f"    {evidence}" for evidence in edges[source, target]]
    return "\n".join(lines)


# --- the tests ----------------------------------------------------------------------------------------


def test_no_import_cycle_between_packages():
    edges = package_edges()
    assert ("metrics", "fleet") in edges and ("scenario", "autoscaling") in edges  # the graph is read at all
    checked = {edge: where for edge, where in edges.items() if edge not in KNOWN_CYCLE_EDGES}
    cycles = find_cycles(checked)
    assert not cycles, "import cycles between simfleet's packages (DESIGN §2.2):\n" + "\n".join(
        describe_cycle(cycle, edges) for cycle in cycles)


def test_known_cycle_edges_are_still_there_and_still_cycles():
    """An allowed edge that went away, or no longer closes a cycle, must leave `KNOWN_CYCLE_EDGES`."""
    edges = package_edges()
    checked = {edge for edge in edges if edge not in KNOWN_CYCLE_EDGES}
    for source, target in sorted(KNOWN_CYCLE_EDGES):
        assert (source, target) in edges, f"{source} no longer imports {target}: remove it from KNOWN_CYCLE_EDGES"
        closing = [cycle for cycle in find_cycles(checked | {(source, target)})
                   if any((a, b) == (source, target) for a, b in zip(cycle, cycle[1:] + cycle[:1]))]
        assert closing, f"{source} -> {target} closes no cycle any more: remove it from KNOWN_CYCLE_EDGES"


def test_packages_import_down_the_layers_only():
    layer = {package: i for i, members in enumerate(LAYERS) for package in members}
    assert sum(len(members) for members in LAYERS) == len(layer), "a package is listed in two layers"
    assert packages() == set(layer), "LAYERS must list every package of simfleet/ (and only those)"
    upward = [f"{source} (layer {layer[source]}) -> {target} (layer {layer[target]}):\n"
              + "\n".join(f"    {evidence}" for evidence in where)
              for (source, target), where in sorted(package_edges().items())
              if layer[target] > layer[source] and (source, target) not in KNOWN_CYCLE_EDGES]
    assert not upward, "imports against the layering of DESIGN §2.2:\n" + "\n".join(upward)


def test_the_cycle_finder_finds_exactly_the_cycles():
    acyclic = {("cli", "engine"), ("engine", "metrics"), ("metrics", "fleet"), ("engine", "fleet"), ("cli", "fleet")}
    assert find_cycles(acyclic) == []
    assert find_cycles(acyclic | {("fleet", "engine")}) == [("engine", "fleet"), ("engine", "metrics", "fleet")]
    assert find_cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [("a", "b", "c")]
    assert find_cycles({("x", "x")}) == [("x",)]
    message = describe_cycle(("engine", "fleet"), {("engine", "fleet"): ["simfleet/engine/a.py:3 imports simfleet.fleet"],
                                                   ("fleet", "engine"): ["simfleet/fleet.py:9 imports simfleet.engine.b"]})
    assert message.splitlines()[0] == "engine -> fleet -> engine"
    assert "simfleet/fleet.py:9 imports simfleet.engine.b" in message


def test_the_graph_sees_every_kind_of_import(tmp_path):
    root = tmp_path / "simfleet"
    (root / "engine").mkdir(parents=True)
    (root / "__init__.py").write_text("from simfleet.engine.run import simulate\n")
    (root / "units.py").write_text("import numpy\n")
    (root / "fleet.py").write_text("def build():\n    import simfleet.units\n")
    (root / "metrics.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                     "    from simfleet.fleet import Fleet\nfrom simfleet import units, simulate\n")
    (root / "engine" / "__init__.py").write_text("from . import run\n")
    (root / "engine" / "run.py").write_text("from ..metrics import x\nfrom .. import fleet\nfrom .kernels import k\n")
    (root / "engine" / "kernels.py").write_text("")
    edges = package_edges(root)
    assert set(edges) == {("simfleet", "engine"), ("fleet", "units"), ("metrics", "fleet"), ("metrics", "units"),
                          ("metrics", "simfleet"), ("engine", "metrics"), ("engine", "fleet")}
    assert edges["engine", "metrics"] == ["simfleet/engine/run.py:1 imports simfleet.metrics"]
    assert packages(root) == {"simfleet", "units", "fleet", "metrics", "engine"}
    assert find_cycles(edges) == [("engine", "metrics", "simfleet")]
