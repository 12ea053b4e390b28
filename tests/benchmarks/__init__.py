"""Benchmarks: scripts that print figures (not collected by pytest).

Each runs as a module from tests/, where Python's own rule (`-m` puts the working directory on
sys.path) makes `support` and this package importable, e.g.

    cd tests && ../.venv/bin/python -m benchmarks.bench_cli --runs 1

They measure the dpaguard installed in the interpreter's environment (`.ci/setup` installs the
checkout in editable mode). Shared material comes from `support` only.
"""
