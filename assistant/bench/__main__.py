"""`python -m assistant.bench --phase NAME --params FILE`: one measurement in a child process."""

import sys

from assistant.bench.runner import child_main

sys.exit(child_main())
