"""Query analysis, dense + BM25 search, fusion and version collapse; the LangChain retriever."""

from .search import BM25Index, Retriever, normalise_query

__all__ = ["BM25Index", "Retriever", "normalise_query"]
