"""The autoscaling document and its loader: targets, policies, scheduled actions and alarms together.

``{"targets": [...], "policies": [...], "scheduled_actions": [...], "alarms": [...]}``, each item
the JSON of one request. `load_autoscaling` validates every request (`policies`,
`alarm_requests`) and the references between them, and reports every problem at once, one
`Problem` per key path.
"""

import re
from functools import cache
from typing import Any, get_args, get_origin

from pydantic import ValidationError

from simfleet.autoscaling.alarm_requests import PutMetricAlarm
from simfleet.autoscaling.api_fields import COMPONENT_DIMENSION, PROVISIONED_DIMENSION, VARIANT_DIMENSION
from simfleet.autoscaling.policies import PutScalingPolicy, PutScheduledAction, RegisterScalableTarget
from simfleet.errors import InputError, Problem
from simfleet.schema.aws_fields import DEFER as _DEFER, Spec as _Spec, spec_in
from simfleet.schema.quantities import StrictModel
from simfleet.schema.validation import dotted, problems_from_validation

__all__ = ["AutoscalingConfig", "load_autoscaling"]

# --- the document and its loader ---------------------------------------------------------------

class AutoscalingConfig(StrictModel):
    """Every validated request of one autoscaling document, in the user's order."""

    targets: tuple[RegisterScalableTarget, ...] = ()
    policies: tuple[PutScalingPolicy, ...] = ()
    scheduled_actions: tuple[PutScheduledAction, ...] = ()
    alarms: tuple[PutMetricAlarm, ...] = ()

    def policies_for(self, target: RegisterScalableTarget) -> tuple[PutScalingPolicy, ...]:
        return tuple(p for p in self.policies if p.target_key == target.target_key)

    def scheduled_actions_for(self, target: RegisterScalableTarget) -> tuple[PutScheduledAction, ...]:
        return tuple(a for a in self.scheduled_actions if a.target_key == target.target_key)

    def alarms_for(self, policy: PutScalingPolicy) -> tuple[PutMetricAlarm, ...]:
        return tuple(a for a in self.alarms
                     if any(_action_names(action) in ((policy.ResourceId, policy.PolicyName), (None, policy.PolicyName))
                            for action in a.AlarmActions))


_SECTIONS = {"targets": RegisterScalableTarget, "policies": PutScalingPolicy,
             "scheduled_actions": PutScheduledAction, "alarms": PutMetricAlarm}
_POLICY_ARN = re.compile(r"arn:aws[a-z-]*:autoscaling:[^:]*:[^:]*:scalingPolicy:[^:]*:resource/sagemaker/"
                         r"(?P<resource>[^:]+):policyName/(?P<name>.+)", re.S)


def _action_names(action: str) -> tuple[str | None, str]:
    """(ResourceId or None, PolicyName) named by an alarm action."""
    if (match := _POLICY_ARN.fullmatch(action)):
        return match["resource"], match["name"]
    return None, action


def _is_sequence(annotation) -> bool:
    return get_origin(annotation) is tuple or any(_is_sequence(arg) for arg in get_args(annotation))


def _walk(model: _Spec, loc: tuple) -> list[tuple[tuple, str]]:
    found = [(loc + rel, msg) for rel, msg in model.semantic_problems()]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for position, item in (enumerate(value) if isinstance(value, tuple) else [(None, value)]):
            if isinstance(item, _Spec):
                found += _walk(item, loc + ((name,) if position is None else (name, position)))
    return found


def _semantic_only(cls: type[_Spec], raw: Any, loc: tuple) -> list[tuple[tuple, str]]:
    """Cross-field problems of every part of `raw` that validates on its own."""
    try:
        return _walk(cls.model_validate(raw, context={_DEFER: True}), loc)
    except ValidationError:
        pass
    found = []
    if isinstance(raw, dict):
        for name, field in cls.model_fields.items():
            sub, value = spec_in(field.annotation), raw.get(name)
            if sub is None or isinstance(value, list) != _is_sequence(field.annotation):
                continue
            for position, item in (enumerate(value) if isinstance(value, list) else [(None, value)]):
                if isinstance(item, dict):
                    found += _semantic_only(sub, item, loc + ((name,) if position is None else (name, position)))
    return found


@cache
def _simulated_metrics() -> frozenset[tuple[str, str]]:
    from simfleet.cloudwatch.catalog import metric_catalog
    return frozenset(spec.key for spec in metric_catalog())


def _cross_problems(built: dict, failed: dict, variants, serverless, components) -> list[tuple[tuple, str]]:
    """References between requests: targets, policies and alarms that name each other; targets
    whose scalable dimension the variant does not have (instances of a serverless variant,
    provisioned concurrency of a real-time one); inference components the experiment does not
    define; variant targets on a variant that hosts inference components; provisioned-concurrency
    capacities above the variant's MaxConcurrency."""
    found: list[tuple[tuple, str]] = []
    targets: dict[tuple, int] = {}
    hosting = set(components.values()) if components is not None else set()
    for i, target in built["targets"]:
        if target.target_key in targets:
            found.append((("targets", i, "ResourceId"), f"{target.ResourceId} is registered twice "
                          f"(also targets[{targets[target.target_key]}])"))
        targets.setdefault(target.target_key, i)
        if not target.consistent:
            continue  # reported by the request itself
        if target.copies:
            if components is not None and target.component_name not in components:
                known = ", ".join(components) or "none"
                found.append((("targets", i, "ResourceId"), f"no inference component {target.component_name!r} in "
                              f"the experiment (its inference components: {known})"))
            continue
        key = (target.endpoint_name, target.variant_name)
        if variants is not None and key not in variants:
            found.append((("targets", i, "ResourceId"), f"no endpoint {target.endpoint_name!r} with variant "
                          f"{target.variant_name!r} in the experiment"))
        elif key in hosting:
            names = ", ".join(name for name, where in components.items() if where == key)
            found.append((("targets", i, "ResourceId"), f"variant {target.variant_name!r} of {target.endpoint_name!r} "
                          f"hosts inference components ({names}): it has no {target.ScalableDimension} of its own, "
                          "its instances follow managed_instance_scaling and the copies placed on them; scale a "
                          f"component's copies with ResourceId 'inference-component/<name>' and {COMPONENT_DIMENSION}"))
        elif key in serverless and target.ScalableDimension == VARIANT_DIMENSION:
            found.append((("targets", i, "ScalableDimension"), f"variant {target.variant_name!r} of "
                          f"{target.endpoint_name!r} is serverless: a serverless variant has no instances; its "
                          f"scalable dimension is {PROVISIONED_DIMENSION}"))
        elif variants is not None and key not in serverless and target.provisioned:
            found.append((("targets", i, "ScalableDimension"), f"variant {target.variant_name!r} of "
                          f"{target.endpoint_name!r} is not serverless: only a serverless variant has "
                          f"provisioned concurrency; scale its instances with {VARIANT_DIMENSION}"))
        elif target.provisioned:
            found += _above_max_concurrency(target, ("targets", i), serverless.get(key))
    for i, action in built["scheduled_actions"]:
        if action.provisioned:
            found += _above_max_concurrency(action.ScalableTargetAction,
                                            ("scheduled_actions", i, "ScalableTargetAction"),
                                            serverless.get((action.endpoint_name, action.variant_name)))
    # a target refused on its own (or mixing a variant's and a component's names) is not reported again
    # through every request that names it
    targets_failed = bool(failed["targets"]) or any(not t.consistent for _, t in built["targets"])
    named: dict[tuple, int] = {}
    for section, name_key in (("policies", "PolicyName"), ("scheduled_actions", "ScheduledActionName")):
        for i, request in built[section]:
            if not targets_failed and request.consistent and (request.ResourceId, request.ScalableDimension) \
                    not in targets:
                found.append(((section, i, "ResourceId"), f"no scalable target {request.ResourceId} is registered "
                              "in targets"))
            key = (section, request.ResourceId, getattr(request, name_key))
            if key in named:
                found.append(((section, i, name_key), f"{key[2]!r} is used twice for {request.ResourceId} "
                              f"(also {section}[{named[key]}])"))
            named.setdefault(key, i)
    for i, policy in built["policies"]:
        custom = policy.TargetTrackingScalingPolicyConfiguration and \
            policy.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification
        if custom and (custom.Namespace, custom.MetricName) not in _simulated_metrics():
            found.append((("policies", i, "TargetTrackingScalingPolicyConfiguration", "CustomizedMetricSpecification",
                           "MetricName"), f"{custom.MetricName!r} in {custom.Namespace!r} is not a metric simfleet "
                          "simulates (see docs/metrics.md)"))
    alarm_names: dict[str, int] = {}
    driven: set[int] = set()
    for i, alarm in built["alarms"]:
        if alarm.AlarmName in alarm_names:
            found.append((("alarms", i, "AlarmName"), f"{alarm.AlarmName!r} is used twice (also "
                          f"alarms[{alarm_names[alarm.AlarmName]}])"))
        alarm_names.setdefault(alarm.AlarmName, i)
        if (alarm.Namespace, alarm.MetricName) not in _simulated_metrics():
            found.append((("alarms", i, "MetricName"), f"{alarm.MetricName!r} in {alarm.Namespace!r} is not a "
                          "metric simfleet simulates (see docs/metrics.md)"))
        for k, action in enumerate(alarm.AlarmActions):
            resource, name = _action_names(action)
            matches = list({p.target_key: (j, p) for j, p in reversed(built["policies"])
                            if p.PolicyName == name and resource in (None, p.ResourceId)}.values())
            where = ("alarms", i, "AlarmActions", k)
            if not matches:
                if not failed["policies"]:
                    found.append((where, f"no scaling policy named {name!r}" +
                                  (f" for {resource}" if resource else "") + " in policies"))
            elif len(matches) > 1:
                found.append((where, f"{name!r} names policies of several targets; use the policy ARN "
                              "ending ':resource/sagemaker/<ResourceId>:policyName/<name>'"))
            elif matches[0][1].PolicyType != "StepScaling":
                found.append((where, f"{name!r} is a target tracking policy, whose alarms Application Auto "
                              "Scaling creates itself; alarms drive step scaling policies"))
            else:
                driven.add(matches[0][0])
    for j, policy in built["policies"]:
        if policy.PolicyType == "StepScaling" and j not in driven and failed["alarms"] == 0:
            found.append((("policies", j, "PolicyName"), f"no alarm in alarms names step scaling policy "
                          f"{policy.PolicyName!r} in its AlarmActions, so it would never run"))
    return found


def _above_max_concurrency(request, loc: tuple, max_concurrency: int | None) -> list[tuple[tuple, str]]:
    """AWS: ProvisionedConcurrency is at most the variant's MaxConcurrency, so no capacity bound of a
    provisioned-concurrency target may exceed it."""
    if max_concurrency is None:
        return []
    return [(loc + (name,), f"{name} {value} is above the variant's max_concurrency {max_concurrency}: "
             "provisioned concurrency must be less than or equal to MaxConcurrency")
            for name in ("MinCapacity", "MaxCapacity")
            if (value := getattr(request, name)) is not None and value > max_concurrency]


def load_autoscaling(data: dict, source: str, *, variants=None, serverless=None, components=None) -> AutoscalingConfig:
    """Validate an autoscaling document; raise `InputError` with every problem found.

    `variants`, when given, is the set of (EndpointName, VariantName) the experiment defines, and
    every variant target must name one of them; `serverless` maps the serverless ones among them to
    their MaxConcurrency (a set of them skips the MaxConcurrency checks): no target may scale one by
    `sagemaker:variant:DesiredInstanceCount`, nor any other by
    `sagemaker:variant:DesiredProvisionedConcurrency`, and the capacities of a provisioned-concurrency
    target (registered or scheduled) are at most its MaxConcurrency. `components` maps each
    InferenceComponentName of the experiment to its (EndpointName, VariantName): every
    `inference-component/<name>` target must name one of them, and no variant target may name a
    variant that hosts components (simfleet gives such a variant no instance-count target: its
    instances follow managed instance scaling). With `variants` given and `components` not, the
    experiment has no inference components.
    """
    serverless = dict.fromkeys(serverless) if isinstance(serverless, (set, frozenset)) else dict(serverless or {})
    if components is None and variants is not None:
        components = {}
    if not isinstance(data, dict):
        raise InputError.single(source, f"expected a table of {', '.join(_SECTIONS)}, got {type(data).__name__}")
    problems: list[Problem] = []
    located: list[tuple[tuple, str]] = []
    for key in data:
        if key not in _SECTIONS:
            problems.append(Problem(source, str(key), f"unknown key (expected {', '.join(_SECTIONS)})"))
    built: dict[str, list] = {section: [] for section in _SECTIONS}
    failed = {section: 0 for section in _SECTIONS}
    for section, cls in _SECTIONS.items():
        items = data.get(section, [])
        if not isinstance(items, list):
            problems.append(Problem(source, section, f"expected a list of {cls.__name__} requests"))
            continue
        for i, raw in enumerate(items):
            try:
                request = cls.model_validate(raw, context={_DEFER: True})
            except ValidationError as error:
                problems += problems_from_validation(error, source, (section, i), None, raw=raw)
                located += _semantic_only(cls, raw, (section, i))
                failed[section] += 1
                continue
            located += _walk(request, (section, i))
            built[section].append((i, request))
    located += _cross_problems(built, failed, variants, serverless, components)
    problems += [Problem(source, dotted(loc), message) for loc, message in located]
    if problems:
        raise InputError(problems)
    return AutoscalingConfig(**{section: tuple(r for _, r in built[section]) for section in _SECTIONS})
