"""`python -m simfleet` runs the command line."""

from simfleet.cli import main

main()
