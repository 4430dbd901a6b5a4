"""bri-assistant: cited question answering over research papers, offline by default."""

__version__ = "0.1.0"

from .core import Assistant  # noqa: E402
from .settings import Settings  # noqa: E402
from .types import Answer, Citation, Passage  # noqa: E402

__all__ = ["Answer", "Assistant", "Citation", "Passage", "Settings", "__version__"]
