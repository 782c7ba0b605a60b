"""groundwork: answers from your own documents where every sentence is cited and checked.

    from assistant import ask
    answer = ask("How many reports were escalated as urgent in 2023?")
    print(answer)            # the rendered answer with [n] citations
    answer.undocumented      # what the sources do not say
"""

from assistant.config import Settings, make_offline

make_offline()  # before any model library is imported

from assistant.pipeline import Assistant, ask  # noqa: E402
from assistant.types import NOT_DOCUMENTED, Answer, Citation, Claim, Passage  # noqa: E402

__all__ = ["NOT_DOCUMENTED", "Answer", "Assistant", "Citation", "Claim", "Passage", "Settings",
           "ask"]
