"""`python -m dpaguard` runs the command line."""

from dpaguard.cli import run

run()
