"""Issue 20's trials: files shaped to make cleaning drop text, and what it must do instead.

A line that read "References" anywhere cut everything after it (a 503-word paper indexed 14
words) and ingest reported success. Each trial builds one such file and checks three things:
the paper's own text survives (or the real reference list is split off), the removal tallies
add up to exactly the raw text, and ``cleaning_warning`` speaks only when most text is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from assistant.corpus.cleaning import clean_text, cleaning_warning

pytestmark = pytest.mark.unit

SENTENCES = (
    "Chengdu opened a rail freight hub that now reaches Lodz in twelve days.",
    "Exporters in Mianyang cut customs clearance times after the pilot zone began.",
    "The provincial government trained engineers for projects in Central Asia.",
    "Bonded warehouses in Yibin store batteries before they leave by river.",
    "Deyang turbine makers signed contracts with partners in Pakistan and Laos.",
    "Researchers counted patents filed jointly with universities along the route.",
)
PROSE = " ".join(SENTENCES)
BODY = f"1. Introduction\n\n{PROSE}\n{PROSE}\n\n2. Results\n\n{PROSE}\n{PROSE}\n"
NUMBERED = "\n".join(
    f"[{k}] Wang L, Zhou J. Cooperation of province {k} along the route [J]. "
    f"Science Management Research, {2010 + k}, 43({k}): {k * 10}-{k * 10 + 7}."
    for k in range(1, 9)
)
AUTHOR_YEAR = "\n".join(
    f"{name}, {initial}. ({year}). Trade corridors and growth in region {k}. Journal of\n"
    f"Development Studies, {k + 40}({k}), {k * 3}-{k * 3 + 20}. https://doi.org/10.1000/jd.{k}"
    for k, (name, initial, year) in enumerate(
        [("Baldwin", "R", 2016), ("Chen", "X", 2019), ("Du", "J", 2018), ("Frankel", "J", 1999)]
    )
)


@dataclass(frozen=True)
class Trial:
    name: str
    raw: str
    refs_at: Callable[[str], int | None]  # where the reference list must start (None: none)
    kept: tuple[str, ...]  # phrases that must be in the clean text
    dropped: tuple[str, ...] = ()  # phrases that must not be
    warns: bool = False


def _no_refs(raw: str) -> None:
    return None


def _last_refs(raw: str) -> int:
    return max(raw.rfind("References"), raw.rfind("REFERENCES"), raw.rfind("Bibliography"))


def _one_word_per_line(text: str, words: int, sep: str = "\n") -> str:
    """The tester's file: one word a line, "References" the 15th of ``words`` words."""
    kept = text.split()[: words - 1]
    kept.insert(14, "References")
    return sep.join(kept)


TRIALS = [
    Trial(
        "toc-references-line-mid-document",
        "Contents\n\n1. Introduction\n2. Results\nReferences\nAppendix\n\n"
        + BODY
        + f"\n3. Discussion\n\n{PROSE}\n",
        _no_refs,
        SENTENCES,
    ),
    Trial("one-word-per-line-503-words", _one_word_per_line(PROSE * 8, 503), _no_refs, ()),
    Trial(
        "one-word-per-line-double-spaced", _one_word_per_line(PROSE * 4, 250, "\n\n"), _no_refs, ()
    ),
    Trial(
        "references-heading-over-prose",
        BODY + "\nReferences\n\n" + "\n\n".join(SENTENCES * 3) + "\n",
        _no_refs,
        SENTENCES,
    ),
    Trial(
        "numbered-list-at-the-end",
        BODY + "\nReferences\n\n" + NUMBERED + "\n",
        _last_refs,
        SENTENCES,
        ("Science Management Research",),
    ),
    Trial(
        "numbered-heading-markdown-bullets",
        BODY + "\n## 5. References\n\n" + "\n".join(f"- {ln}" for ln in NUMBERED.splitlines()),
        lambda raw: raw.index("## 5. References"),
        SENTENCES,
        ("Science Management Research",),
    ),
    Trial(
        "author-year-list-wrapped",
        BODY + "\nREFERENCES\n" + AUTHOR_YEAR + "\n",
        _last_refs,
        SENTENCES,
        ("Trade corridors and growth",),
    ),
    Trial(
        "double-spaced-pdf-list",
        BODY.replace("\n", "\n\n")
        + "\n\nBibliography\n\n"
        + "\n\n".join(ln[i : i + 40] for ln in NUMBERED.splitlines() for i in (0, 40, 80)),
        _last_refs,
        SENTENCES,
        ("Science Management Research",),
    ),
    Trial(
        "list-then-appendix",
        BODY + "\nReferences\n\n" + NUMBERED + "\n\nAppendix A. Interview guide\n\n" + PROSE + "\n",
        _last_refs,
        ("Appendix A. Interview guide", *SENTENCES),
        ("Science Management Research",),
    ),
    Trial(
        "toc-line-and-real-list",
        "Contents\nIntroduction\nResults\nReferences\n\n" + BODY + "\nReferences\n\n" + NUMBERED,
        _last_refs,
        ("Contents Introduction Results References", *SENTENCES),
        ("Science Management Research",),
    ),
    Trial(
        "citation-list-at-the-start",
        "References\n\n" + NUMBERED + "\n\n" + BODY * 2,
        _no_refs,
        ("Science Management Research", *SENTENCES),
    ),
    Trial(
        "references-over-a-column-of-numbers",
        BODY + "\nReferences\n" + "\n".join(str(2000 + k) for k in range(40)) + "\n",
        _no_refs,
        ("2000 2001 2002", *SENTENCES),
    ),
    Trial(
        "mostly-bibliography",
        "Note\n\n" + SENTENCES[0] + "\n\nReferences\n\n" + "\n".join([NUMBERED] * 6),
        _last_refs,
        (SENTENCES[0],),
        ("Science Management Research",),
        warns=True,
    ),
    Trial("empty-file", "  \n\n\f  \n", _no_refs, ()),
]


def _solid(text: str) -> int:
    return sum(len(w) for w in text.split())


@pytest.mark.parametrize("trial", TRIALS, ids=[t.name for t in TRIALS])
def test_cleaning_trial(trial: Trial) -> None:
    doc = clean_text(trial.raw)
    assert doc.references_raw_start == trial.refs_at(trial.raw)
    flat = " ".join(doc.text.split())
    for phrase in trial.kept:
        assert phrase in flat, phrase
    for phrase in trial.dropped:
        assert phrase not in flat, phrase
    # the tallies account for every non-whitespace character of the raw file
    assert doc.raw_chars == _solid(trial.raw)
    assert doc.kept_chars == _solid(doc.text)
    if doc.references_raw_start is None:
        assert doc.removed.get("references", 0) == 0
        assert doc.kept_words == doc.raw_words  # nothing lost: every word is still there
    else:
        tail = trial.raw[doc.references_raw_start :]
        assert 0 < doc.removed["references"] <= _solid(tail)
    warning = cleaning_warning(doc)
    assert (warning is not None) == trial.warns, warning
    if trial.warns:
        assert warning is not None and "was removed as references — check the file" in warning
