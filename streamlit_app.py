"""Placeholder chat page until the UI lands: calls the public API only."""

import streamlit as st

from assistant import Assistant

st.set_page_config(page_title="BRI Papers Assistant")
st.title("BRI Papers Assistant")


@st.cache_resource
def _assistant() -> Assistant:
    return Assistant.load()


question = st.chat_input("Ask about the papers")
if question:
    answer = _assistant().ask(question)
    st.markdown(answer.text)
