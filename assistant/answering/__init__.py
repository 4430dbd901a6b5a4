"""Answerers turn a question and retrieved passages into an Answer with citations."""
