"""The package version, in a module of its own so that modules inside the package can read it
without importing ``assistant`` (whose ``__init__`` imports them: an import circle)."""

__version__ = "0.1.0"
