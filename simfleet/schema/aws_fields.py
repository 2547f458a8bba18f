"""Field types of AWS API request members, as botocore's service models constrain them: lengths,
patterns, enumerations and strictness (`"1"` is not an integer and an explicit null is refused).

Service-independent: the request models of `simfleet.autoscaling` (Application Auto Scaling,
CloudWatch) and `simfleet.recommender` (SageMaker Inference Recommender) build their members from
these, and derive from `Spec`, whose cross-field rules run after field validation and raise,
unless the validation context sets `DEFER`, in which case the loader collects them one per key path.
The service-specific constants, patterns and enumerations stay in each package's `api_fields`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Mapping, Union, get_args

from pydantic import AfterValidator, BeforeValidator, Field, Strict, ValidationInfo, model_validator

from simfleet.schema.quantities import StrictModel
from simfleet.schema.validation import dotted

__all__ = ["DEFER", "Spec", "spec_in", "optional", "text", "one_of", "list_of", "integer", "Int", "Float", "Bool"]

DEFER = "simfleet.aws_fields.defer"  # validation-context flag: collect semantic problems, don't raise


def _not_null(value):
    if value is None:
        raise ValueError("null is not accepted; leave the key out instead")
    return value


def optional(tp):
    """An optional member: absent means None, but an explicit null is refused (as botocore does)."""
    return Annotated[Union[tp, None], BeforeValidator(_not_null)]


def text(min_len: int, max_len: int | None = None, pattern: str | re.Pattern | None = None, expected: str = ""):
    """A string of `min_len`..`max_len` characters, fully matching `pattern`.

    `expected` describes the pattern in the message of a mismatch (default: the pattern itself).
    """
    compiled = re.compile(pattern) if pattern is not None else None

    def check(value: str) -> str:
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            span = f"{min_len} to {max_len}" if max_len is not None else f"at least {min_len}"
            raise ValueError(f"expected {span} characters, got {len(value)}")
        if compiled is not None and not compiled.fullmatch(value):
            raise ValueError(f"expected {expected or 'text matching ' + compiled.pattern}, got {value!r}")
        return value
    return Annotated[str, Strict(), AfterValidator(check)]


def one_of(values: tuple[str, ...], what: str = ""):
    """A string from an enumeration (botocore's, or the values the documentation lists).

    `what` prefixes the message of a value outside it, e.g. the member it applies to.
    """
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"{what}expected one of {', '.join(values)}, got {value!r}")
        return value
    return Annotated[str, Strict(), AfterValidator(check)]


def _sequence(value):
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return tuple(value)  # a tuple: the schema is strict (`StrictModel`), and TOML and JSON give lists


def list_of(tp, max_len: int | None = None, min_len: int = 0):
    """A list of `min_len`..`max_len` members of type `tp`, as a tuple."""
    return Annotated[tuple[tp, ...], BeforeValidator(_sequence), Field(min_length=min_len, max_length=max_len)]


def integer(ge: int | None = None, le: int | None = None):
    """A strict integer within [`ge`, `le`] (either bound may be absent)."""
    return Annotated[int, Strict(), Field(ge=ge, le=le)]


Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]


class Spec(StrictModel):
    """A request model whose cross-field rules (`semantic_problems`) run after field validation.

    Alone they raise like any validator; under a loader (validation context `DEFER`) they are
    collected instead, so each lands on its own key path.
    """

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        """(key path relative to this model, one-line message) for every cross-field problem."""
        return []

    def problems_under(self, context: Mapping[str, Any]) -> list[tuple[tuple, str]]:
        """The cross-field problems under validation `context`; override when the rules read it."""
        return self.semantic_problems()

    @model_validator(mode="after")
    def _semantics(self, info: ValidationInfo):
        context = info.context or {}
        if context.get(DEFER):
            return self
        found = self.problems_under(context)
        if found:
            raise ValueError("; ".join(f"{dotted(loc)}: {msg}" if loc else msg for loc, msg in found))
        return self


def spec_in(annotation) -> type[Spec] | None:
    """The `Spec` model an annotation holds (directly, optional, or as list members), if any."""
    if isinstance(annotation, type) and issubclass(annotation, Spec):
        return annotation
    for arg in get_args(annotation):
        if (found := spec_in(arg)) is not None:
            return found
    return None
