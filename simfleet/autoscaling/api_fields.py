"""Application Auto Scaling and CloudWatch field types of the requests of `policies` and `alarm_requests`.

The SageMaker constants, enumerations and patterns of those services' members, built from the
service-independent field types of `simfleet.schema.aws_fields` (whose `Spec` is the base of every
request model), and the timestamps of scheduled actions. Underscore names are private to the
`simfleet.autoscaling` package.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import BeforeValidator

from simfleet.schema.aws_fields import integer, one_of, text

__all__ = ["SAGEMAKER", "VARIANT_DIMENSION", "PROVISIONED_DIMENSION", "COMPONENT_DIMENSION", "SCALABLE_DIMENSIONS",
           "VARIANT_METRIC_TYPES", "PROVISIONED_METRIC_TYPES", "COMPONENT_METRIC_TYPES", "METRIC_TYPES_BY_DIMENSION",
           "DEFAULT_COOLDOWN_S", "STANDARD_UNITS"]

SAGEMAKER = "sagemaker"
#: A real-time variant's instance count.
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
#: A serverless variant's provisioned concurrency (§3.1; 0 allowed: no provisioned environments).
PROVISIONED_DIMENSION = "sagemaker:variant:DesiredProvisionedConcurrency"
#: An inference component's copy count (§3.1; 0 allowed: scale to zero, §3.6). Its ResourceId is
#: ``inference-component/<InferenceComponentName>``.
COMPONENT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
SCALABLE_DIMENSIONS = (VARIANT_DIMENSION, PROVISIONED_DIMENSION, COMPONENT_DIMENSION)
#: Predefined metric types of the `MetricType` enumeration that apply to endpoint variants (§3.2).
VARIANT_METRIC_TYPES = ("SageMakerVariantInvocationsPerInstance",
                        "SageMakerVariantConcurrentRequestsPerModelHighResolution")
#: ... and to a serverless variant's provisioned concurrency (§3.2).
PROVISIONED_METRIC_TYPES = ("SageMakerVariantProvisionedConcurrencyUtilization",)
#: ... and to an inference component's copies (§3.2).
COMPONENT_METRIC_TYPES = ("SageMakerInferenceComponentInvocationsPerCopy",
                          "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution")
#: The predefined metric types each scalable dimension can track.
METRIC_TYPES_BY_DIMENSION = {VARIANT_DIMENSION: VARIANT_METRIC_TYPES, PROVISIONED_DIMENSION: PROVISIONED_METRIC_TYPES,
                             COMPONENT_DIMENSION: COMPONENT_METRIC_TYPES}
#: Cooldown default for SageMaker endpoint variants and inference components, both directions and step
#: policies (§3.3).
DEFAULT_COOLDOWN_S = 300
#: CloudWatch `StandardUnit` enumeration.
STANDARD_UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
                  "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
                  "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
                  "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
                  "Gigabits/Second", "Terabits/Second", "Count/Second", "None")
_ANOMALY_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                      "GreaterThanUpperThreshold")

# --- field types ------------------------------------------------------------------------------

_XML = re.compile("[\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff\r\n\t]*")
_PRINT = re.compile(r"[\x20-\x7e]+")  # Java \p{Print}
_ACTION_NAME = re.compile("(?!((^[ ]+.*)|(.*([\u0000-\u001f]|[\u007f-\u009f]|[:/|])+.*)|(.*[ ]+$))).+", re.S)
_NAME63 = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
#: A variant's ResourceId, or an inference component's (whose name pattern, botocore's
#: ``[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?`` of 1 to 63 characters, is the same language).
_RESOURCE_ID = re.compile(rf"endpoint/(?P<endpoint>{_NAME63})/variant/(?P<variant>{_NAME63})"
                          rf"|inference-component/(?P<component>{_NAME63})")


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


Capacity = integer(ge=0)
CooldownSeconds = integer(ge=0)
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
ResourceIdText = text(1, 1600, _RESOURCE_ID, "'endpoint/<endpoint-name>/variant/<variant-name>' or "
                      "'inference-component/<inference-component-name>' (names of up to 63 letters, digits and inner "
                      "hyphens)")
MetricNameText = text(1, 255)
NamespaceText = text(1, 255, re.compile(r"[^:].*", re.S), "a namespace not starting with ':'")
StatisticName = Literal["Average", "Minimum", "Maximum", "SampleCount", "Sum"]
UnitName = one_of(STANDARD_UNITS)
_XmlText = text(1, 1600, _XML, "XML characters")
_PolicyName = text(1, 256, _PRINT, "printable ASCII characters")
_ActionName = text(1, 256, _ACTION_NAME, "no ':', '/', '|' or control characters and no leading or trailing "
                   "spaces")
_Percentile = text(1, 20, re.compile(r"p(100(\.0+)?|[0-9]{1,2}(\.[0-9]{1,10})?)"), "a percentile like 'p99' or "
                   "'p99.9'")
_VariantMetricType = one_of(VARIANT_METRIC_TYPES + PROVISIONED_METRIC_TYPES + COMPONENT_METRIC_TYPES,
                            what="for a SageMaker variant or inference component ")
_MissingData = one_of(("breaching", "notBreaching", "ignore", "missing"))
_LowSampleCount = one_of(("evaluate", "ignore"))
_Text255 = text(1, 255)
_Text1024 = text(1, 1024)
_Text1023 = text(1, 1023)
_Text0To1024 = text(0, 1024)
_Text128 = text(1, 128)
_Text0To256 = text(0, 256)
_PositiveInt = integer(ge=1)

