"""Calibration: model profile entries fitted to a user's own measurements (`simfleet calibrate`).

Data flow, one module per step:

* readers turn each source format into one observation model (`observations`):
  `cloudwatch_export` (get-metric-data / get-metric-statistics JSON), `locust_csv` (Locust `--csv`
  stats and stats history), `recommender_response` (DescribeInferenceRecommendationsJob),
  `request_log` (per-request CSV/Parquet), `stated` (`--p50 … --p99 …`); `sources` picks the
  reader of each file (and recognises them for `simfleet validate`);
* `candidate` is one lognormal-and-workers entry; `workload` simulates observed traffic with a
  candidate on simfleet's engine;
* `direct_fit` fits the service-time distribution from the least loaded periods;
  `simulated_fit` fits it by minimising a stated distance between simulated and observed
  percentiles; `fit` decides which applies and fits the worker count;
* `replay` replays the calibration workload with the fitted entry (self-validation);
* `profile_writer` writes the profile entry with every number's source and the fit's quality;
* `settings` holds every choice calibration makes; `run` and `cli` are the command;
* `examples` and `locust_export` generate the shipped examples (simulated, not measured);
* `theory_checks` and `validation_page` write `docs/validation.md`.

Nothing here touches the engine's internals: candidates run through `simfleet.engine.simulation`.
"""
