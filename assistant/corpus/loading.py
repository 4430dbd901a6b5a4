"""Read a paper from disk (.txt, .md, .pdf) into raw text, refusing bad files clearly.

PDFs are read with pypdf: pure Python (no system libraries to install), BSD-licensed, and it
reports encryption and corruption as distinct errors we can turn into actionable messages.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import DocumentError

SUPPORTED = (".txt", ".md", ".pdf")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # C0 controls but \t \n \r \f
# C1 controls and bidi embeddings, overrides and isolates: invisible, never part of a word,
# and glued to one they hid it from the reader ("2020\u202e" is not a year). Each becomes a
# space, one for one, so offsets into the file stay exact. (LRM/RLM marks stay: RTL text
# uses them; the display sanitiser strips them on output.)
_INVISIBLE = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069]")
logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass(frozen=True)
class RawDocument:
    doc_id: str  # the file name: stable, and what gold sets cite
    path: Path
    text: str
    kind: str  # txt | md | pdf
    content_hash: str  # sha256 of the file's bytes
    pages: int = 1
    page_starts: tuple[int, ...] = ()  # PDFs: offset in ``text`` where each page begins


def load_document(path: Path, max_mb: float = 50.0) -> RawDocument:
    """Load one file; raise :class:`DocumentError` with the reason and fix when it can't."""
    path = Path(path)
    if not path.exists():
        raise DocumentError(path, "no such file: check the path")
    if not path.is_file():
        raise DocumentError(path, "not a file")
    kind = path.suffix.lower()
    if kind not in SUPPORTED:
        raise DocumentError(path, f"unsupported type '{kind}': use one of {', '.join(SUPPORTED)}")
    data = path.read_bytes()
    return load_bytes(path.name, data, path=path, max_mb=max_mb)


def load_bytes(
    name: str, data: bytes, path: Path | None = None, max_mb: float = 50.0
) -> RawDocument:
    """Load a paper given as bytes (an upload); ``name`` decides the type and the doc id."""
    where = path or Path(name)
    kind = Path(name).suffix.lower()
    if kind not in SUPPORTED:
        raise DocumentError(where, f"unsupported type '{kind}': use one of {', '.join(SUPPORTED)}")
    if not data:
        raise DocumentError(where, "empty file: nothing to index")
    if len(data) > max_mb * 1024 * 1024:
        size = len(data) / 1024 / 1024
        raise DocumentError(where, f"file is {size:.0f} MB, over the {max_mb:.0f} MB limit")
    pages = 1
    if kind == ".pdf":
        text, pages = _pdf_text(where, data)
    else:
        text = _plain_text(where, data)
    if len(text.strip()) < 20:
        raise DocumentError(where, "no readable text in the file")
    return RawDocument(
        doc_id=Path(name).name,
        path=where,
        text=text,
        kind=kind.lstrip("."),
        content_hash=hashlib.sha256(data).hexdigest(),
        pages=pages,
        page_starts=_page_starts(text) if kind == ".pdf" else (),
    )


def _page_starts(text: str) -> tuple[int, ...]:
    """Where each page begins: the loader joins a PDF's pages with form feeds."""
    return (0, *(m.end() for m in re.finditer("\f", text)))


def _plain_text(where: Path, data: bytes) -> str:
    """The file's text, decoded as its byte-order mark says (UTF-8, UTF-16, UTF-32), as
    UTF-16 when its NUL bytes show it (see :func:`_bomless_utf16`), else as UTF-8. Offsets
    into the paper are offsets into this text (a BOM is not part of it)."""
    codec = _text_codec(data)
    if codec == "utf-8-sig" and b"\x00" in data:  # no UTF-8 text holds NUL bytes
        raise DocumentError(
            where,
            "binary data, not text: is it a PDF or Word file renamed? "
            "(text files must be UTF-8, UTF-16 or UTF-32)",
        )
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as e:
        name = _CODEC_NAMES[codec]
        raise DocumentError(
            where, f"not {name} text (byte {e.start}): re-save the file as UTF-8"
        ) from e
    controls = len(_CONTROL.findall(text))  # the whole file: binary can follow clean text
    if controls > 0.05 * max(len(text), 1):
        raise DocumentError(where, "binary data, not text: too many control characters")
    # A few stray control bytes (terminal colour codes, say) become spaces, one for one, so
    # character offsets into the file stay exact and nothing reaches a terminal raw.
    return _blank_invisible(_CONTROL.sub(" ", text) if controls else text)


def _blank_invisible(text: str) -> str:
    return _INVISIBLE.sub(" ", text)


# Byte-order marks and the codec each names (which drops the mark), the longest first: UTF-32
# LE's mark begins with UTF-16 LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CODEC_NAMES = {
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "utf-32": "UTF-32",
}


def _text_codec(data: bytes) -> str:
    """The codec to read a text file with: its BOM's, BOM-less UTF-16's, or UTF-8."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return _bomless_utf16(data) or "utf-8-sig"


def _bomless_utf16(data: bytes, sample: int = 4096) -> str | None:
    """The UTF-16 codec (``utf-16-le`` or ``-be``) when ``data`` looks like UTF-16 written
    without a BOM (as some Windows tools do), else None. Told by its NUL bytes: text mostly
    in the Latin alphabet has a NUL high byte in nearly every code unit (the odd bytes in
    little-endian, the even ones in big-endian) and hardly any NUL in the other bytes; binary
    data and UTF-32 put NULs in both. A wrong guess still fails decoding or the
    control-character check, as binary does."""
    head = data[:sample]
    if len(data) % 2 or len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd >= 0.5 and nul_even <= 0.02:
        return "utf-16-le"
    if nul_even >= 0.5 and nul_odd <= 0.02:
        return "utf-16-be"
    return None


def _pdf_text(where: Path, data: bytes) -> tuple[str, int]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError(where, "not a PDF (no %PDF header): is the file corrupt or renamed?")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(where, "encrypted PDF: save an unprotected copy and upload that")
        pages = [page.extract_text() or "" for page in reader.pages]
    except FileNotDecryptedError as e:
        raise DocumentError(where, "encrypted PDF: save an unprotected copy and upload that") from e
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as e:
        raise DocumentError(where, f"corrupt PDF ({type(e).__name__}: {e})") from e
    text = "\f".join(pages)
    if len(text.strip()) < 20:
        raise DocumentError(
            where, "PDF has no text layer (scanned?): run OCR first, e.g. `ocrmypdf in.pdf out.pdf`"
        )
    return _blank_invisible(text), len(pages)
