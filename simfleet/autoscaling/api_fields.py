"""Field types shared by the AWS request models of `policies` and `alarm_requests`.

The constraints botocore's service models put on strings, numbers, lists and timestamps
(lengths, patterns, enumerations, strictness: `"1"` is not an integer and an explicit null is
refused), and `_Spec`, the base of every request model: field validation first, then its
cross-field rules (`semantic_problems`), which `document.load_autoscaling` collects one per key
instead of raising. Underscore names are private to the `simfleet.autoscaling` package.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Literal, Union

from pydantic import (AfterValidator, BeforeValidator, Field, Strict, ValidationInfo,
                      model_validator)

from simfleet.config.quantities import StrictModel
from simfleet.config.validation import dotted

__all__ = ["SAGEMAKER", "VARIANT_DIMENSION", "VARIANT_METRIC_TYPES", "DEFAULT_COOLDOWN_S", "STANDARD_UNITS"]

SAGEMAKER = "sagemaker"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
#: Predefined metric types of the `MetricType` enumeration that apply to endpoint variants (§3.2).
VARIANT_METRIC_TYPES = ("SageMakerVariantInvocationsPerInstance",
                        "SageMakerVariantConcurrentRequestsPerModelHighResolution")
#: Cooldown default for SageMaker endpoint variants, both directions and step policies (§3.3).
DEFAULT_COOLDOWN_S = 300
#: CloudWatch `StandardUnit` enumeration.
STANDARD_UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
                  "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
                  "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
                  "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
                  "Gigabits/Second", "Terabits/Second", "Count/Second", "None")
_ANOMALY_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                      "GreaterThanUpperThreshold")
_DEFER = "simfleet.autoscaling.defer"  # validation-context flag: collect semantic problems, don't raise

# --- field types ------------------------------------------------------------------------------

_XML = re.compile("[\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff\r\n\t]*")
_PRINT = re.compile(r"[\x20-\x7e]+")  # Java \p{Print}
_ACTION_NAME = re.compile("(?!((^[ ]+.*)|(.*([\u0000-\u001f]|[\u007f-\u009f]|[:/|])+.*)|(.*[ ]+$))).+", re.S)
_NAME63 = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
_RESOURCE_ID = re.compile(rf"endpoint/(?P<endpoint>{_NAME63})/variant/(?P<variant>{_NAME63})")


def _not_null(value):
    if value is None:
        raise ValueError("null is not accepted; leave the key out instead")
    return value


def _optional(tp):
    """An optional key: absent means None, but an explicit null is refused (as botocore does)."""
    return Annotated[Union[tp, None], BeforeValidator(_not_null)]


def _text(min_len: int, max_len: int | None = None, pattern: re.Pattern | None = None, expected: str = ""):
    """A string of `min_len`..`max_len` characters, fully matching `pattern`."""
    def check(value: str) -> str:
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            span = f"{min_len} to {max_len}" if max_len is not None else f"at least {min_len}"
            raise ValueError(f"expected {span} characters, got {len(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise ValueError(f"expected {expected or 'a valid value'}, got {value!r}")
        return value
    return Annotated[str, Strict(), AfterValidator(check)]


def _one_of(values: tuple[str, ...], what: str = ""):
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"{what}expected one of {', '.join(values)}, got {value!r}")
        return value
    return Annotated[str, Strict(), AfterValidator(check)]


def _sequence(value):
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _list(tp, max_len: int | None = None, min_len: int = 0):
    return Annotated[tuple[tp, ...], BeforeValidator(_sequence), Field(min_length=min_len, max_length=max_len)]


def _timestamp(value) -> datetime:
    """ISO 8601 text, epoch seconds or a datetime, as an aware UTC datetime (naive means UTC)."""
    if isinstance(value, bool):
        raise ValueError(f"expected an ISO 8601 timestamp, got {value!r}")
    try:
        if isinstance(value, (int, float)):
            moment = datetime.fromtimestamp(value, timezone.utc)
        elif isinstance(value, str):
            moment = datetime.fromisoformat(value.strip())
        elif isinstance(value, datetime):
            moment = value
        else:
            raise TypeError
    except (TypeError, ValueError, OverflowError, OSError):
        raise ValueError(f"expected an ISO 8601 timestamp like '2024-05-20T17:05:00Z', got {value!r}") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]
Capacity = Annotated[int, Strict(), Field(ge=0)]
CooldownSeconds = Annotated[int, Strict(), Field(ge=0)]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
ResourceIdText = _text(1, 1600, _RESOURCE_ID, "'endpoint/<endpoint-name>/variant/<variant-name>' (names of up to 63 "
                   "letters, digits and inner hyphens)")
MetricNameText = _text(1, 255)
NamespaceText = _text(1, 255, re.compile(r"[^:].*", re.S), "a namespace not starting with ':'")
StatisticName = Literal["Average", "Minimum", "Maximum", "SampleCount", "Sum"]
UnitName = _one_of(STANDARD_UNITS)
_XmlText = _text(1, 1600, _XML, "XML characters")
_PolicyName = _text(1, 256, _PRINT, "printable ASCII characters")
_ActionName = _text(1, 256, _ACTION_NAME, "no ':', '/', '|' or control characters and no leading or trailing "
                    "spaces")
_Percentile = _text(1, 20, re.compile(r"p(100(\.0+)?|[0-9]{1,2}(\.[0-9]{1,10})?)"), "a percentile like 'p99' or "
                    "'p99.9'")
_VariantMetricType = _one_of(VARIANT_METRIC_TYPES, "for sagemaker:variant:DesiredInstanceCount ")
_MissingData = _one_of(("breaching", "notBreaching", "ignore", "missing"))
_LowSampleCount = _one_of(("evaluate", "ignore"))
_Text255 = _text(1, 255)
_Text1024 = _text(1, 1024)
_Text1023 = _text(1, 1023)
_Text0To1024 = _text(0, 1024)
_Text128 = _text(1, 128)
_Text0To256 = _text(0, 256)
_PositiveInt = Annotated[int, Strict(), Field(ge=1)]


class _Spec(StrictModel):
    """A request model whose cross-field rules (`semantic_problems`) run after field validation.

    Alone they raise like any validator; under `load_autoscaling` they are collected instead, so
    each lands on its own key path.
    """

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        """(key path relative to this model, one-line message) for every cross-field problem."""
        return []

    @model_validator(mode="after")
    def _semantics(self, info: ValidationInfo):
        if info.context and info.context.get(_DEFER):
            return self
        found = self.semantic_problems()
        if found:
            raise ValueError("; ".join(f"{dotted(loc)}: {msg}" if loc else msg for loc, msg in found))
        return self
