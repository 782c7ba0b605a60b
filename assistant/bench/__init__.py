"""`groundwork bench`: measured speed and scale, each figure next to the limit it is judged by.

    groundwork bench [--sizes 1000,10000,100000] [--out DIR] [--json]
    groundwork bench --soak [--minutes 20] [--clients 10] [--upload-every 60] [--corpus DIR]

Sections, one module each (every measurement runs in a child process of its own, so its peak
memory is its own; a module holds both the child's measuring and the parent's part):

- `encoder`: the encoder options on CPU (batch size, threads, torch or onnxruntime, OpenMP wait
  policy) on the same chunk texts; the fastest that keeps the same top-10 results is named.
- `ingest`: chunks/s of `ingest()` on a deterministic generated corpus versus the raw encoder's
  `encode` of the very same chunk texts in the same process; where the time goes (exclusive
  time per component); re-ingest of the unchanged corpus as a fraction, in process and as a new
  `groundwork ingest` process.
- `retrieval`: p50/p95 of `Retriever.run` (query embedding + dense + BM25 + fusion + floor, no
  LLM) at each size, embedded Chroma and a `chroma run` server. Sizes up to the ingest corpus
  use its real vectors; larger ones use seeded random unit vectors (BM25 texts and queries stay
  real).
- `ask`: `Assistant.ask` with the extractive generator, warm p50/p95, and first answer from a
  cold process.
- `startup`: `groundwork --help` and `groundwork ask` (the full bench: on the demo index)
  as new processes, and where the ask's imports go (`python -X importtime`).
- `concurrency`: 50 questions at once through the Python API, the HTTP API (`/api/ask`) and the
  UI's queue.

`groundwork bench --soak` runs `soak` instead of the sections: one `groundwork serve` under
clients asking and an uploader adding documents for `--minutes`, with requests served and
failed, p50/p95 per minute and the server's RSS at the start and the end.

`runner` starts the children and runs the sections in order, `report` writes the Markdown,
`plan` says how much of each to do, `corpus` makes the deterministic text. The largest size
decides the scale of everything else: below 10,000 chunks is the quick mode CI runs (it checks
that the report is complete, not the timings). Nothing here touches the index named by
--index: the bench works in a temporary folder and deletes it.
"""
