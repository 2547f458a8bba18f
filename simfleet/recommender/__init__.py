"""Inference Recommender jobs: which instance type, how many, at what cost, within which latency.

Input: `job_file.load_job_file` reads a job (the `CreateInferenceRecommendationsJob` request JSON
unchanged, or the same keys in TOML, plus a `simfleet` member naming the model profile) and
`job_file.load_job` validates it with the request models of `job_request`, `traffic_pattern`
and `endpoint_configurations`, built on the field types of `api_fields` (which build on
`simfleet.schema.aws_fields`); `simfleet.schema.json_lines` locates keys in JSON for messages;
`traffic_schedule` turns a traffic pattern into closed-loop users over time.

Results, pure logic over a load test's per-minute observations: `stopping` decides, minute by
minute, when a test meets the job's StoppingConditions; `plateau` finds the minute invocations
level off within the latency threshold; `results` turns a test into MaxInvocations, ModelLatency
(µs), InitialInstanceCount and costs (`serverless_tests`: what a serverless configuration
tests, its ModelSetupTime and billed cost per inference); `responses` shapes them as DescribeInferenceRecommendationsJob
and ListInferenceRecommendationsJobSteps responses; `ranking` orders them by the console's five
importance levels for cost, latency and throughput, and prints a table.

Running a job: `test_plan` says which load tests run (configurations × environment parameter
combinations, Default-job candidates and their users) and when (the MaxParallelOfTests
timeline); `load_test` simulates one as an ordinary experiment whose closed-loop users are the
job's load generator, judging it minute by minute; `job_runner` runs them all (in worker
processes) and places them on the job's timeline; `job_output` writes recommendations.json,
steps.json and each test's run directory; `cli` is `simfleet recommend`. See
reference/sagemaker-semantics.md §7 and DESIGN §4.
"""

__all__ = ["api_fields", "cli", "endpoint_configurations", "job_file", "job_output", "job_request", "job_runner",
           "load_test", "plateau", "ranking", "responses", "results", "serverless_tests", "stopping",
           "test_plan", "traffic_pattern", "traffic_schedule"]
