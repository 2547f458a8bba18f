"""Inference Recommender jobs: which instance type, how many, at what cost, within which latency.

Input layer so far, pure validation: `job_file.load_job_file` reads a job (the
`CreateInferenceRecommendationsJob` request JSON unchanged, or the same keys in TOML, plus a
`simfleet` member naming the model profile) and `job_file.load_job` validates it with the
request models of `job_request`, `traffic_pattern` and `endpoint_configurations`, built on the
field types of `api_fields` (which builds on `simfleet.config.aws_fields`); `json_lines` locates keys in JSON for messages; `traffic_schedule`
turns a validated traffic pattern into closed-loop users over time. See
reference/sagemaker-semantics.md §7 and DESIGN §4.
"""

__all__ = ["api_fields", "endpoint_configurations", "job_file", "job_request", "json_lines", "traffic_pattern",
           "traffic_schedule"]
