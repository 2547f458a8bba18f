"""The schema toolkit: what every validated input document is built from, and nothing else.

Bottom layer of the inputs, above `units`, `errors` and the runtime `simfleet.distributions` only
(DESIGN §2.2): `quantities` (pydantic field types with units, and `StrictModel`), `distributions`
(declarative distribution specs, which build the runtime ones), `aws_fields` (field types of AWS API
request members), `toml_lines` and `json_lines` (where a key path is written in a TOML or JSON file) and `validation`
(pydantic errors as one-line `Problem`s with key paths and lines). The documents built on it
(`catalog`, `profiles`, `config`'s experiment file, `traffic`, `autoscaling`, the metric catalog,
the recommender's job and the sweep's spec) import it; it imports none of them.
"""
