"""Walking AWS-shaped request dicts for mutation tests (autoscaling and recommender requests)."""

from __future__ import annotations


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
