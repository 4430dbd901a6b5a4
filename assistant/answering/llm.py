"""The LLM answerer: any LangChain chat model writes the answer, the verifier checks it.

The model sees the top passages as numbered ``<source>`` blocks (quoted data, never
instructions), as many as fit the context budget, and must cite every sentence with ``[n]``
or say the abstention sentence. Its reply streams out as it comes; then each citation is
verified against the passage it names (see ``citations.py``). A backend that fails mid-ask
never loses the question: the extractive answer is given instead, with a notice saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from ..chunking import count_tokens
from ..embeddings import Embedder
from ..prompts import load_prompt
from ..retrieval.plan import QuestionPlan
from ..settings import LLMSettings
from ..types import Answer, Passage, Turn
from .base import ABSTAIN_TEXT, AnswerContext, Answerer, abstention
from .citations import CitationVerifier
from .extractive import ExtractiveAnswerer

# cl100k counts differ from the served model's tokenizer (SmolLM2's runs 3-12% longer on this
# corpus, plus its chat template): keep 15% of the window spare.
_HEADROOM = 0.85
_HISTORY_TURNS = 3
_HISTORY_CHARS = 400


class LLMAnswerer:
    """Answer with a chat model, cite with ``[n]``, verify every citation.

    >>> from langchain_core.language_models import FakeListChatModel
    >>> bot = LLMAnswerer(FakeListChatModel(responses=["..."]), embedder)  # doctest: +SKIP
    >>> bot.answer(question, passages, ctx).citation_recall
    """

    def __init__(
        self,
        model: BaseChatModel,
        embedder: Embedder,
        settings: LLMSettings | None = None,
        *,
        fallback: Answerer | None = None,
        name: str = "llm",
        prompts_dir: Path | None = None,
    ) -> None:
        self.model = model
        self.settings = settings or LLMSettings()
        if self.settings.answer_tokens >= self.settings.max_context_tokens:
            raise ValueError(
                f"llm.answer_tokens ({self.settings.answer_tokens}) must be below "
                f"llm.max_context_tokens ({self.settings.max_context_tokens})"
            )
        self.name = name
        self.fallback = fallback or ExtractiveAnswerer(embedder)
        self.verifier = CitationVerifier(
            embedder, self.settings.support_threshold, self.settings.support_coverage
        )
        self.answer_prompt = load_prompt("answer", prompts_dir)
        self.condense_prompt = load_prompt("condense", prompts_dir)

    # -- answering -------------------------------------------------------------------------

    def answer(
        self,
        question: str,
        passages: list[Passage],
        ctx: AnswerContext,
        plan: QuestionPlan | None = None,
    ) -> Answer:
        final: Answer | None = None
        for piece in self.stream(question, passages, ctx, plan):
            if isinstance(piece, Answer):
                final = piece
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        passages: list[Passage],
        ctx: AnswerContext,
        plan: QuestionPlan | None = None,
    ) -> Iterator[str | Answer]:
        """The model's text as it arrives, then the verified :class:`Answer` (the model reads
        ``question`` itself; ``plan`` goes to the extractive fallback)."""
        if not passages:
            answer = abstention(question, passages, self.name)
            yield answer.text
            yield answer
            return
        sources = self.fit(question, passages)
        if not sources:
            why = "llm.max_context_tokens leaves no room for a single source"
            yield from self._fallback(question, passages, ctx, plan, why, started=False)
            return
        pieces: list[str] = []
        try:
            for chunk in self.model.stream(self.messages(question, sources)):
                if chunk.text:
                    pieces.append(chunk.text)
                    yield chunk.text
        except Exception as e:  # network, server crash, context overflow: any backend failure
            why = f"{type(e).__name__}: {str(e)[:200]}"
            yield from self._fallback(question, passages, ctx, plan, why, started=bool(pieces))
            return
        yield self.finish(question, "".join(pieces), passages, sources, ctx)

    def messages(self, question: str, sources: list[Passage]) -> list[tuple[str, str]]:
        blocks = "\n\n".join(render_source(i, p) for i, p in enumerate(sources, 1))
        return self.answer_prompt.messages(
            question=question, sources=blocks, abstain_text=ABSTAIN_TEXT
        )

    def fit(self, question: str, passages: list[Passage]) -> list[Passage]:
        """The longest prefix of ``passages`` whose prompt leaves ``answer_tokens`` free.

        A prefix, so marker ``[n]`` is ``Answer.passages[n - 1]`` for the UI as for the model.
        """
        budget = self.budget(question)
        chosen: list[Passage] = []
        used = 0
        for i, passage in enumerate(passages, 1):
            cost = count_tokens(render_source(i, passage) + "\n\n")
            if used + cost > budget:
                break
            chosen.append(passage)
            used += cost
        return chosen

    def budget(self, question: str) -> int:
        """Tokens left for sources once the prompt and the answer are counted."""
        prompt = "\n".join(text for _, text in self.messages(question, []))
        window = int(self.settings.max_context_tokens * _HEADROOM)
        return window - self.settings.answer_tokens - count_tokens(prompt)

    def finish(
        self,
        question: str,
        text: str,
        passages: list[Passage],
        sources: list[Passage],
        ctx: AnswerContext,
    ) -> Answer:
        """Verify the model's reply against the sources it was shown."""
        if not text.strip():
            answer = abstention(question, passages, self.name)
            answer.notice = "The language model returned no text."
            return answer
        v = self.verifier.verify(text.strip(), sources, ctx)
        if v.abstained:
            return abstention(question, passages, self.name)
        return Answer(
            question=question,
            text=v.text,
            citations=v.citations,
            passages=passages,
            answerer=self.name,
            notice=v.notice(),
            unsupported=v.unsupported,
            citation_precision=v.precision,
            citation_recall=v.recall,
        )

    def _fallback(
        self,
        question: str,
        passages: list[Passage],
        ctx: AnswerContext,
        plan: QuestionPlan | None,
        why: str,
        started: bool,
    ) -> Iterator[str | Answer]:
        answer = self.fallback.answer(question, passages, ctx, plan)
        answer.notice = f"The language model failed ({why}); this is the extractive answer."
        yield ("\n\n" if started else "") + answer.text
        yield answer

    # -- follow-ups ------------------------------------------------------------------------

    def condense(self, question: str, turns: Sequence[Turn]) -> str | None:
        """The follow-up rewritten as a standalone question, or None (then offline rules)."""
        if not turns:
            return None
        history = render_history(turns[-_HISTORY_TURNS:])
        try:
            reply = self.model.invoke(
                self.condense_prompt.messages(question=question, history=history)
            )
        except Exception:  # the offline follow-up rules still resolve the question
            return None
        return standalone(reply.text, question)


def render_source(n: int, passage: Passage) -> str:
    """One numbered source block; a ``</source>`` inside the text cannot close it early."""
    text = re.sub(r"(?i)<(/?)source", r"‹\1source", passage.text)
    title = passage.title.replace('"', "'")
    return f'<source id="{n}" paper="{title}">\n{text}\n</source>'


def render_history(turns: Sequence[Turn]) -> str:
    lines: list[str] = []
    for turn in turns:
        lines.append(f"User: {turn.question}")
        if turn.answer is not None:
            said = re.sub(r"\s*\[\d+(?:,\s*\d+)*\]", "", turn.answer.text)
            lines.append(f"Assistant: {said[:_HISTORY_CHARS]}")
    return "\n".join(lines)


def standalone(reply: str, question: str) -> str | None:
    """The first line of the model's rewrite, labels and quotes stripped; None if unusable.

    Small models often answer instead of rewriting ("The liner has made 47 trips."): anything
    that is not a question is refused, so invented facts never become the search query.
    """
    line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
    line = re.sub(r"(?i)^(standalone question|question)\s*:\s*", "", line).strip(" \"'“”")
    if not line.endswith("?") or len(line) > max(400, 4 * len(question)):
        return None
    return line
