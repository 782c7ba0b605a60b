"""What the UI and the HTTP API share: one Assistant per process, the limits on a question, and
what a failure means to the person asking.
"""

from __future__ import annotations

import logging
import threading

from assistant.answer import GeneratorError
from assistant.config import Settings
from assistant.store import StoreError

log = logging.getLogger("groundwork.engine")

EMPTY_INDEX = "The index is empty: upload documents or run `groundwork ingest`."
MAX_QUESTION_CHARS = 2000
MAX_K = 20  # passages a question may ask for (the UI's slider, the API's "k")


def generators() -> list[str]:
    """The generator names the pipeline knows (its registry when it has one)."""
    from assistant import answer

    return list(getattr(answer, "GENERATORS", None) or ["extractive", "llama-cpp", "openai"])


class Engine:
    """One Store and one Assistant per process, built under a lock (Chroma's client creation is
    not thread-safe); `reset()` after an ingest so the next question sees the new chunks."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._store = None
        self._assistant = None
        self._lock = threading.RLock()

    def store(self):
        from assistant.store import Store

        with self._lock:
            if self._store is None:
                self._store = Store(self.settings)
            return self._store

    def assistant(self):
        from assistant.pipeline import Assistant
        from assistant.retrieve import Retriever

        with self._lock:
            if self._assistant is None:
                # Loads the index now: StoreError when it is empty, and nothing is kept.
                retriever = Retriever(self.settings, store=self.store())
                self._assistant = Assistant(self.settings, retriever=retriever)
            return self._assistant

    def reset(self) -> None:
        with self._lock:
            self._assistant = None

    def warm_up(self) -> None:
        """The answering models, then the chunker's imports: a server's first upload waits
        for neither."""
        from assistant.ingest import prepare

        try:
            self.assistant()
        except Exception as exc:  # the banner and the first question report it
            log.info("index not loaded yet: %s", exc)
        prepare()

    def status(self) -> tuple[bool, str]:
        """(has documents, one line about the index)."""
        from assistant.ingest import Manifest

        try:
            store = self.store()
            chunks = store.count()
            files = len(Manifest(store.manifest_path).entries)
        except Exception as exc:
            return False, f"The index cannot be opened: {exc}"
        if not chunks:
            return False, EMPTY_INDEX
        return True, (f"{files} document{'' if files == 1 else 's'}, {chunks} "
                      f"passage{'' if chunks == 1 else 's'} indexed.")


def explain(exc: Exception, generator: str) -> tuple[int, str]:
    """(HTTP status, a message for the person asking) for a failure to answer: their request
    (400), the index or a model missing here (503), the LLM behind a generator (502)."""
    if isinstance(exc, StoreError):
        return 503, EMPTY_INDEX if "is empty" in str(exc) else str(exc)
    if isinstance(exc, GeneratorError | FileNotFoundError):
        return 502, (f"The {generator} generator could not run: {exc}. The extractive generator "
                     "works without any model server.")
    if isinstance(exc, ValueError):
        return 400, str(exc)
    log.exception("answering failed", exc_info=exc)
    return 500, f"Something went wrong ({type(exc).__name__}: {str(exc)[:300]})."
