"""dpaguard: keep a Pulumi-managed estate inside its GDPR Data Processing Agreement."""

# The one place the version is written: pyproject.toml reads it from here (tool.setuptools.dynamic),
# so that `dpaguard --version` needs no importlib.metadata, the largest import of a cold start.
__version__ = "0.1.0"

__all__ = ["__version__"]
