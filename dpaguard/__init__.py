"""dpaguard: keep a Pulumi-managed estate inside its GDPR Data Processing Agreement."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dpaguard")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
