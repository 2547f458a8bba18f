"""Walking and editing AWS-shaped request dicts for mutation tests (autoscaling and recommender requests)."""

from __future__ import annotations

from hypothesis import strategies as st

DEL = object()  # `set_path` marker: remove the key


def set_path(doc, path: str, value):
    """Set (or with DEL remove) the dotted/indexed `path` in `doc` (`policies[0].PolicyName`); a list
    index one past the end appends."""
    keys = [int(p) if p.isdigit() else p for p in path.replace("[", ".").replace("]", "").split(".")]
    node = doc
    for key in keys[:-1]:
        node = node[key]
    if value is DEL:
        del node[keys[-1]]
    elif isinstance(node, list) and keys[-1] == len(node):
        node.append(value)
    else:
        node[keys[-1]] = value


def member_paths(node, prefix=()):
    """Every (container path, key) in a request, for mutation."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix, key
            yield from member_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield prefix, index
            yield from member_paths(value, prefix + (index,))


def mutate(data, request: dict, added_keys: list[str], junk) -> dict:
    """Apply 1–3 drawn mutations to `request` in place: delete a member, replace one with `junk`,
    or add one of `added_keys` holding `junk`. Stops early if the request becomes empty."""
    for _ in range(data.draw(st.integers(1, 3))):
        container_path, key = data.draw(st.sampled_from(list(member_paths(request)) or [((), "x")]))
        node = request
        for part in container_path:
            node = node[part]
        action = data.draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete" and isinstance(node, dict):
            del node[key]
        elif action == "add" and isinstance(node, dict):
            node[data.draw(st.sampled_from(added_keys))] = data.draw(junk)
        else:
            node[key] = data.draw(junk)
        if not request:
            break
    return request
