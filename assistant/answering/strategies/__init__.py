"""One answer strategy per kind of question: each composes an answer from what the reader
read (:class:`~.common.Reading`), quoting the papers verbatim with exact citations.

``factual`` (who / when / how many), ``listing`` (sub-section headings, enumerations),
``comparison`` (two papers side by side), ``compound`` (several questions at once), ``prose``
(why / how / other), ``front_matter`` (the paper's title block, funding, keywords).
"""
