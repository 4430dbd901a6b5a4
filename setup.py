"""Package layout only (metadata lives in pyproject.toml).

The bundled papers and prompt templates stay in the repository's top-level ``corpus/`` and
``prompts/`` folders (the layout the project fixed) and ship inside the wheel as
``assistant/_data/corpus`` and ``assistant/_data/prompts`` through a ``package_dir`` mapping;
``assistant.bundled`` finds them in either place.
SEE: https://setuptools.pypa.io/en/latest/userguide/package_discovery.html
"""

from setuptools import find_packages, setup

DATA = {"assistant._data.corpus": "corpus", "assistant._data.prompts": "prompts"}

setup(
    packages=find_packages(include=["assistant", "assistant.*"]) + list(DATA),
    package_dir=DATA,
    package_data={
        "assistant": ["py.typed"],
        "assistant.answering": ["*.json"],
        "assistant._data.corpus": ["*.txt", "*.md", "*.pdf", "*.toml"],
        "assistant._data.prompts": ["*.txt"],
    },
)
