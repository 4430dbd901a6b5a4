"""Does a question ask what a paper (or every paper) is about, or what it concludes?

Recognised from the question's English wording alone (no index needed), so the question plan
(``plan.py``) can record it before retrieval; ``answering/overview.py`` answers such questions
from abstracts and conclusions.
"""

from __future__ import annotations

import re
from typing import Literal

from .query import answer_kind

OverviewKind = Literal["summary", "conclusion"]

# What a question calls a paper ("the NLP paper", "Lee's article", "both versions").
_PAPER_NOUN = (
    r"(?:papers?|articles?|stud(?:y|ies)|works?|versions?|documents?|docs|texts?|"
    r"publications?|reports?|manuscripts?|drafts?|editions?|corpus|collection|files?|pdfs?)"
)
# Words that end a noun phrase: "the challenges in the paper" is not a paper.
_NOT_IN_NP = (
    r"(?:about|on|in|of|regarding|concerning|for|with|to|from|at|into|under|is|are|was|were|"
    r"do|does|did|what|how|why|which|who|that|or|but|say|says|said|conclude|concludes|find|"
    r"finds|found)"
)
_NP = rf"(?:(?!{_NOT_IN_NP}\b)[\w'\-&.]+ ){{0,6}}{_PAPER_NOUN}"
# What may follow the paper noun and still name a paper: "the paper by ...", "the papers here".
_NP_TAIL = (
    r"(?: (?:by|from|of|on|about|titled|called|named|in|that|which|you|i|we|here|there|"
    r"available|indexed|uploaded|loaded|written)\b[^?]{0,80})?"
)
_PRONOUN = (
    r"(?:it|they|them|this|these|those|this one|that one|each|all|both|everything|each one|"
    r"(?:each|all|both) of them)"
)
_REF = rf"(?:(?:(?:each|all|both|every|any|one|either) of )?{_NP}{_NP_TAIL}|{_PRONOUN})"
# Who concludes or argues: the paper, or its authors.
_AGENT = (
    rf"(?:{_REF}|(?:the |these |its |their )?(?:authors?|researchers?|writers?)"
    rf"(?: of {_REF})?)"
)
_SUBJECT = rf"(?:(?!{_NOT_IN_NP}\b)[\w'\-&.]+ ){{0,4}}(?!{_NOT_IN_NP}\b)[\w'\-&.]+"
_BE = r"(?:'s|s| is| are| was| were)"
_ADVERB = r"(?:(?:all|mainly|mostly|really|actually|generally|broadly|basically|overall) )?"

_SUMMARY_NOUN = (
    r"(?:(?:main|central|key|core|overall|general|principal|primary|basic|big|major) )?"
    r"(?:argument|point|idea|thesis|message|contribution|topic|subject|theme|purpose|aim|goal|"
    r"objective|focus|gist|summary|summari[sz]ation|overview|abstract|research questions?|"
    r"research problem|synopsis|premise|scope|contents?|rundown|tl;?dr)s?"
)
_CONCLUSION_NOUN = (
    r"(?:(?:main|key|central|overall|major|final|principal|primary|general|core|"
    r"(?:most )?important) )?"
    r"(?:conclusions?|findings?|results?|take-?aways?|take-home messages?|outcomes?|"
    r"lessons?(?: learned| learnt)?|bottom line|verdict|concluding remarks|closing remarks|"
    r"final remarks|implications?)"
)
_SIZE = (
    r"(?:(?:short|brief|quick|general|high[- ]level|one[- ](?:line|sentence|paragraph)|"
    r"concise|simple|overall) )?"
)
_SUMMARISE = (
    r"(?:summari[sz]e|sum up|outline|recap|overview|describe|introduce|explain|characteri[sz]e|"
    r"review|present|digest|condense)"
)

_CONCLUSION_PATTERNS = [
    # what does the revised version conclude / how did the study end / what did the authors find
    rf"(?:what|how) (?:(?:do|does|did) )?{_AGENT} (?:(?:finally|ultimately|eventually|mainly) )?"
    r"(?:conclude[sd]?|find|finds|found|conclude with|end(?:s|ed)?(?: up)?(?: with)?|"
    r"come to|arrive at|wrap up|close|show(?:s|ed)?|demonstrate[sd]?|discover(?:s|ed)?)"
    rf"(?: in {_REF})?",
    # what did Ann Lee conclude (in her paper): any short subject of "conclude"
    rf"what (?:do|does|did) {_SUBJECT} conclude(?: in {_REF})?",
    # what are the main findings (of the NLP paper) / the paper's conclusion
    rf"(?:what{_BE} )?(?:the |an? |its |their )?{_SIZE}(?:summary of (?:the |its |their )?)?"
    rf"{_CONCLUSION_NOUN}(?: (?:of|in|from|for|reached by|drawn by|by|drawn in) {_AGENT})?",
    rf"(?:what{_BE} )?{_AGENT}(?:'s|') {_CONCLUSION_NOUN}",
    # what conclusions do the authors draw
    rf"(?:what|which) (?:conclusions?|findings?|results?|lessons?) (?:do|does|did|can|could) "
    rf"{_AGENT} (?:draw|reach|make|come to|arrive at|offer|present|report|give|provide|have)",
    rf"(?:what|which) (?:conclusions?|findings?|results?) (?:are|were|is|was) (?:drawn|reached|"
    rf"presented|reported|given)(?: (?:in|by) {_AGENT})?",
    # summarise the findings (of the papers)
    rf"(?:{_SUMMARISE}|list|state) (?:the |its |their )?{_CONCLUSION_NOUN}"
    rf"(?: (?:of|in|from) {_AGENT})?",
    # what does the paper say in its conclusion
    rf"what (?:do|does|did) {_AGENT} (?:say|write|state|argue|conclude) in (?:its |their |the )?"
    r"conclusions?(?: section)?",
    rf"what(?:'s| is| was)? (?:said |written |stated )?in (?:the |its |their )?conclusions?"
    rf"(?: section)?(?: (?:of|in) {_REF})?",
]
_SUMMARY_PATTERNS = [
    # what are these papers about / what is Lee's paper about / (tell me) what it is about
    rf"(?:so )?what{_BE} {_REF} {_ADVERB}about",
    rf"what {_REF} (?:is|are|was|were) {_ADVERB}about",
    rf"(?:all )?about {_REF}",  # "tell me about the papers"
    # what topics do the papers cover
    rf"(?:what|which) (?:topics?|subjects?|themes?|areas?|issues?|problems?|questions?|fields?)"
    rf" (?:do|does|did) {_AGENT} (?:cover|address|discuss|deal with|study|examine|investigate|"
    r"tackle|focus on|treat|explore|look at|analy[sz]e|answer|raise)",
    r"(?:what|which) (?:topics?|subjects?|themes?|issues?) (?:are|is|were|was) (?:covered|"
    rf"discussed|addressed|studied|examined|treated|explored)(?: (?:in|by) {_REF})?",
    # what does the paper argue / discuss / say
    rf"what (?:do|does|did) {_AGENT} {_ADVERB}(?:cover|discuss|deal with|address|focus on|study|"
    r"examine|investigate|argue|claim|say|talk about|explore|look at|analy[sz]e|do|"
    r"(?:try|want|set out) to (?:say|show|argue|do))",
    rf"what{_BE} {_AGENT} {_ADVERB}(?:saying|arguing|claiming|trying to (?:say|show|argue|do))",
    # what is the main argument of the NLP paper / give me an overview (of the papers)
    rf"(?:what{_BE} )?(?:the |an? |its |their )?{_SIZE}{_SUMMARY_NOUN}"
    rf"(?: (?:of|in|for|behind|from) {_AGENT})?",
    rf"(?:what{_BE} )?{_AGENT}(?:'s|') {_SIZE}{_SUMMARY_NOUN}",
    # summarise (Lee's paper) / sum it up / summarise what the papers say
    rf"{_SUMMARISE}(?: {_REF})?",
    rf"sum {_REF} up",
    rf"{_SUMMARISE} (?:the |its |their )?{_SUMMARY_NOUN}(?: (?:of|in) {_REF})?",
    rf"{_SUMMARISE} what {_REF} (?:is|are|was|were) {_ADVERB}about",
    rf"{_SUMMARISE} what {_AGENT} (?:says?|argues?|covers?|discuss(?:es)?|claims?)",
    rf"how (?:would|could|can|do|should) (?:you|i|we|one) (?:summari[sz]e|describe|sum up)"
    rf"(?: {_REF})?",
]
_CONCLUSION = re.compile("|".join(f"(?:{p})" for p in _CONCLUSION_PATTERNS))
_SUMMARY = re.compile("|".join(f"(?:{p})" for p in _SUMMARY_PATTERNS))

# Requests wrapped around the question ("can you ...", "... in two sentences, please").
_LEAD = re.compile(
    r"^(?:please|so|ok(?:ay)?|and|now|then|well|hi|hello|hey|briefly|quickly|"
    r"(?:can|could|would|will) you(?: please)?|"
    r"(?:can|could|may) (?:i|we)(?: please)?(?: get| have| see)?|"
    r"i(?:'d| would) like(?: you)?(?: to)?|i want(?: you)?(?: to)?|i need(?: you to)?|"
    r"i'm wondering|i wonder|(?:tell|give|show) (?:me|us)|let me (?:know|see)|"
    r"do you know|get me|provide(?: me with)?|give|show|get)\b[\s,:]*"
)
_TAIL = re.compile(
    r"[\s,]*(?:please|for me|for us|briefly|in brief|in short|quickly|in a nutshell|"
    r"in (?:a|one|two|three|a few|few|some) (?:short )?(?:sentences?|lines?|words?|paragraphs?|"
    r"bullet points?)|in plain (?:english|words|language)|overall|in general|again|"
    r"for (?:each|every) (?:one|paper|of them))$"
)


def wants_overview(question: str) -> OverviewKind | None:
    """``"summary"`` for a question asking what a paper (or the papers) is about or for its
    gist, overview or main argument; ``"conclusion"`` for what a paper concludes or finds;
    None for anything else, such as what a paper says about a given topic."""
    text = _normalise(question)
    if not text or answer_kind(question) == "comparison":
        return None
    if _CONCLUSION.fullmatch(text):
        return "conclusion"
    if _SUMMARY.fullmatch(text):
        return "summary"
    return None


def _normalise(question: str) -> str:
    text = question.lower().replace("’", "'").replace("‘", "'").replace("“", "").replace("”", "")
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"[\s?.!:;,]+$", "", text)
    for _ in range(4):  # a request can be wrapped twice ("could you please tell me ...")
        before = text
        text = _TAIL.sub("", _LEAD.sub("", text)).strip(" ,?.!:;")
        if text == before:
            break
    return text
