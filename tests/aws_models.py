"""botocore's service models, each loaded once per test session.

Loading one reads and parses its JSON description (SageMaker's: about 0.2 s), and
`botocore.session.get_session()` starts a fresh session, with an empty loader cache, on every call:
a test that loaded the model per hypothesis example spent a minute in the loader. The models are only
read (shapes, operations, enumerations), so one per service serves every test.
"""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.model import ServiceModel

__all__ = ["service_model"]


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of `service` ("sagemaker", "cloudwatch", "application-autoscaling")."""
    return botocore.session.get_session().get_service_model(service)
