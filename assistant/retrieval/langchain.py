"""The index as a LangChain retriever, so it drops into any LangChain chain."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever


class AssistantRetriever(BaseRetriever):
    """``Assistant.as_retriever()``: hybrid retrieval returning LangChain Documents.

    ``papers`` (doc ids; None: every paper) keeps the search inside those papers, filtered in
    the index as ``Assistant.retrieve(papers=...)`` does, so ``k`` documents still come back.
    """

    assistant: Any
    k: int = 6
    papers: list[str] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content=p.text,
                metadata={
                    "chunk_id": p.chunk_id,
                    "doc_id": p.doc_id,
                    "title": p.title,
                    "section": p.section,
                    "start": p.start,
                    "end": p.end,
                    "score": p.score,
                    "versions": p.versions,
                    "pages": list(p.pages) if p.pages else None,
                },
            )
            for p in self.assistant.retrieve(query, k=self.k, papers=self.papers)
        ]
