"""Which generation folders an index holds and which one ``CURRENT`` names (no reading)."""

from __future__ import annotations

from pathlib import Path


def live_generation(index_dir: Path) -> str | None:
    """The folder name ``CURRENT`` points at, or None."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if name.startswith("gen-") and "/" not in name else None


def generations(index_dir: Path) -> list[Path]:
    """Complete generation folders, newest first (names sort by time of writing)."""
    if not index_dir.is_dir():
        return []
    return sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), reverse=True)


def ordered_generations(index_dir: Path) -> list[Path]:
    """The live generation first, then the others newest first (the order a load tries)."""
    live = live_generation(index_dir)
    first = [index_dir / live] if live is not None and (index_dir / live).is_dir() else []
    return first + [g for g in generations(index_dir) if g.name != live]
