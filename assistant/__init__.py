"""groundwork: answers from your own documents where every sentence is cited and checked.

    from assistant import ask
    answer = ask("How many reports were escalated as urgent in 2023?")
    print(answer)            # the rendered answer with [n] citations
    answer.undocumented      # what the sources do not say
"""

from assistant.config import Settings, make_offline

make_offline()  # before any model library is imported

from assistant.render import NOT_DOCUMENTED  # noqa: E402
from assistant.types import Answer, Citation, Claim, Passage  # noqa: E402


def __getattr__(name: str):
    """`Assistant` and `ask` load the pipeline (numpy, retrieval) only when first used, so a
    command that needs neither, such as re-ingesting an unchanged folder, starts quickly."""
    if name in ("Assistant", "ask"):
        from assistant import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")

__all__ = ["NOT_DOCUMENTED", "Answer", "Assistant", "Citation", "Claim", "Passage", "Settings",
           "ask"]
