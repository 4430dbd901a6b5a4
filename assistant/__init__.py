"""bri-assistant: cited question answering over research papers, offline by default."""

from ._version import __version__
from .core import Assistant
from .settings import Settings
from .types import Answer, Citation, Passage

__all__ = ["Answer", "Assistant", "Citation", "Passage", "Settings", "__version__"]
