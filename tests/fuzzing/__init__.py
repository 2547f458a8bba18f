"""Fuzzing every input simfleet reads, through its command line.

Mutated shipped files of every kind `simfleet validate` knows (`cases`), run through `validate` and
the command that reads them, and judged (`harness`): a run succeeds, or fails with one-line
`error:` messages, a non-zero exit code and nothing written. `tests/test_fuzzing.py` runs a short
campaign in the test suite; `python tests/fuzzing --minutes 60` runs a long one (`__main__`).
"""
