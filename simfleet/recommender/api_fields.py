"""The cross-field-rule machinery of the Inference Recommender request models.

Their members are the service-independent field types of `simfleet.schema.aws_fields`; `_Spec`,
the base of every request model of `job_request`, extends its `Spec` with rules (`_rule` methods)
that each name the members they read, so that `job_file.load_job` can collect, one per key path,
the problems of every rule whose members are valid even when the request as a whole is not.
Underscore names are private to `simfleet.recommender`.
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import Annotated, Any, Mapping

from pydantic import TypeAdapter, ValidationError

from simfleet.schema.aws_fields import DEFER, Spec, spec_in

__all__: list[str] = []

_CATALOG = "simfleet.recommender.catalog"  # validation-context key: the instance catalog to check against
_SIMFLEET = "simfleet.recommender.simfleet"  # validation-context flag: also refuse what simfleet can't simulate


def _rule(*members: str):
    """Mark a method of a `_Spec` as a cross-field rule reading `members` (none named: all of them).

    A rule returns (key path relative to the model, one-line message) for each problem it finds.
    When a request is invalid, a rule still runs if every member it reads is valid.
    """
    def mark(method):
        method._rule_members = frozenset(members) or None
        return method
    return mark


class _Spec(Spec):
    """A request model whose cross-field rules are its `_rule` methods, which read the validation context.

    Alone they raise like any validator; under `job_file.load_job` (validation context `DEFER`)
    they are collected instead, so each lands on its own key path.
    """

    @classmethod
    def _rules(cls) -> list:
        found = []
        for klass in reversed(cls.__mro__):
            found += [m for m in vars(klass).values() if callable(m) and hasattr(m, "_rule_members")]
        return found

    def semantic_problems(self, context: Mapping[str, Any] = MappingProxyType({}),
                          invalid: frozenset[str] = frozenset()) -> list[tuple[tuple, str]]:
        """(key path relative to this model, one-line message) for every cross-field problem, from
        the rules that read none of the `invalid` members."""
        found: list[tuple[tuple, str]] = []
        for method in self._rules():
            if not invalid & (method._rule_members or set(type(self).model_fields)):
                found += method(self, context)
        return found

    def problems_under(self, context: Mapping[str, Any]) -> list[tuple[tuple, str]]:
        return self.semantic_problems(context)


def _walk(model: _Spec, loc: tuple, context: Mapping) -> list[tuple[tuple, str]]:
    """Cross-field problems of a validated model and of every model inside it."""
    found = [(loc + rel, msg) for rel, msg in model.semantic_problems(context)]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for position, item in (enumerate(value) if isinstance(value, tuple) else [(None, value)]):
            if isinstance(item, _Spec):
                found += _walk(item, loc + ((name,) if position is None else (name, position)), context)
    return found


@cache
def _adapter(cls: type[_Spec], name: str) -> TypeAdapter:
    field = cls.model_fields[name]
    return TypeAdapter(Annotated[field.annotation, field])


def _semantic_only(cls: type[_Spec], raw: Any, loc: tuple, context: Mapping) -> list[tuple[tuple, str]]:
    """Cross-field problems of every part of `raw` that can be judged although `raw` is invalid.

    Members are validated one by one; each rule of the model runs when every member it reads is
    valid, and invalid members holding models are searched the same way.
    """
    deferred = {**context, DEFER: True}
    try:
        return _walk(cls.model_validate(raw, context=deferred), loc, context)
    except ValidationError:
        pass
    if not isinstance(raw, dict):
        return []
    valid: dict[str, Any] = {}
    failed: set[str] = set()
    found: list[tuple[tuple, str]] = []
    for name, field in cls.model_fields.items():
        if name not in raw:
            if field.is_required():
                failed.add(name)
            continue
        try:
            valid[name] = _adapter(cls, name).validate_python(raw[name], context=deferred)
        except ValidationError:
            failed.add(name)
            sub = spec_in(field.annotation)
            value = raw[name]
            if sub is None:
                continue
            for position, item in (enumerate(value) if isinstance(value, (list, tuple)) else [(None, value)]):
                if isinstance(item, dict):
                    found += _semantic_only(sub, item, loc + ((name,) if position is None else (name, position)),
                                            context)
    partial = cls.model_construct(**valid)
    found += [(loc + rel, msg) for rel, msg in partial.semantic_problems(context, frozenset(failed))]
    for name, value in valid.items():
        for position, item in (enumerate(value) if isinstance(value, tuple) else [(None, value)]):
            if isinstance(item, _Spec):
                found += _walk(item, loc + ((name,) if position is None else (name, position)), context)
    return found
