"""`python tests/fuzzing --minutes 60`: the long fuzzing campaign (`campaign`), from the repository root.

Run as a folder, not with `-m tests.fuzzing`: tests/ is not a package (pytest imports its helper
modules from the folder itself), and a `tests` package of some installed distribution may shadow it.
"""

import sys
from pathlib import Path

if __package__:
    from .campaign import main
else:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from fuzzing.campaign import main

sys.exit(main())
