"""`groundwork bench` in its quick mode: it completes and writes a full report (timings are not
checked here, only that every section ran and measured something), plus the pure helpers."""

from __future__ import annotations

import json
import random

import pytest
from conftest import GROUNDWORK, chroma_run, subprocess_env

from assistant.bench import common, corpus, ingest, retrieval
from assistant.procs import free_port
from assistant.store import chroma_dir

QUICK = common.MIN_INGEST_CHUNKS  # the smallest corpus that fills every row of the report
SECTIONS = {"machine", "plan", "goals", "settings", "encoder", "ingest", "retrieval", "ask",
            "startup", "concurrency", "seconds", "command"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One quick bench run for the module, on the smallest corpus that fills every row of the
    report: (report dict, Markdown text, parsed stdout)."""
    import subprocess

    out = tmp_path_factory.mktemp("bench") / "out"
    proc = subprocess.run([str(GROUNDWORK), "bench", "--sizes", str(QUICK), "--out", str(out),
                           "--json"], capture_output=True, text=True, timeout=900,
                          env=subprocess_env(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    return report, (out / "report.md").read_text(), json.loads(proc.stdout)


def positive(value) -> bool:
    return isinstance(value, int | float) and value > 0


def test_report_has_every_section(quick):
    report, md, stdout = quick
    assert not SECTIONS - set(report), SECTIONS - set(report)
    assert stdout == report
    for key in ("encoder", "ingest", "ask", "startup"):
        assert "error" not in report[key], report[key]
    assert report["machine"]["cpus"] >= 1
    assert report["command"].startswith(f"groundwork bench --sizes {QUICK}")
    for heading in ("| measure | result | goal |", "## Retrieval", "## Encoder options",
                    "## Where the first ingest", "## ask", "## Start-up", "## Peak memory"):
        assert heading in md, heading


def test_ingest_numbers(quick):
    ing = quick[0]["ingest"]
    assert ing["chunks"] >= QUICK
    for key in ("seconds", "chunks_per_s", "encode_seconds", "encode_chunks_per_s", "ratio",
                "reingest_seconds", "reingest_cli_seconds", "peak_rss_mb",
                "encoder_in_ingest_seconds", "chunker_load_seconds",
                "ratio_to_best_raw_with_chunker_load"):
        assert positive(ing[key]), (key, ing[key])
    # the chunker's imports are outside the timed ingest, and the ratio with them is lower
    assert ing["ratio_to_best_raw_with_chunker_load"] < ing["ratio_to_best_raw"]
    assert "with the chunker's imports" in quick[1]
    assert 0 < ing["reingest_fraction"] < 1
    # the breakdown is exclusive time: its parts add up to the whole ingest
    assert sum(ing["breakdown_seconds"].values()) == pytest.approx(ing["seconds"], abs=0.05)


def test_retrieval_rows_for_both_stores(quick):
    rows = quick[0]["retrieval"]
    assert {(r["size"], r["backend"]) for r in rows} == {(QUICK, "embedded"), (QUICK, "server")}
    for r in rows:
        assert "error" not in r, r
        assert r["vectors"] == "real"
        assert r["queries"] > 0
        for key in ("p50_ms", "p95_ms", "cpu_p50_ms", "load_seconds", "peak_rss_mb",
                    "chroma_alone_top10_p50_ms"):
            assert positive(r[key]), (key, r)
        assert r["p95_ms"] >= r["p50_ms"]
        assert set(r["stages_p50_ms"]) == set(retrieval.STAGES.values())
    assert positive(next(r for r in rows if r["backend"] == "server")["server_peak_rss_mb"])


def test_synthetic_chunks_bulk_loaded_into_a_server_read_as_ingested_ones(
        chroma_server, make_settings, monkeypatch):
    """The large rows load a server by chromadb's `add`, not through the Store: the Retriever
    must open that collection and its BM25 index as it opens an ingested one."""
    from assistant.retrieve import Retriever
    from assistant.store import record_to_passage

    monkeypatch.setattr(retrieval, "BULK_BATCH", 500)  # three batches, the last one short
    settings = make_settings(chroma_url=chroma_server, collection="bench-bulk")
    built = retrieval.build({"index": str(settings.index_dir), "collection": "bench-bulk",
                             "size": 1200, "vectors": "synthetic", "chroma_url": chroma_server,
                             "settings": common.settings_fields(settings)})
    assert built["bulk"] and positive(built["add_seconds"]) and positive(built["bm25_seconds"])
    retriever = Retriever(settings)
    assert retriever.store.count() == 1200 and retriever.repaired == ""
    question = corpus.questions(1)[0]
    pid, _ = retriever.lexical.search(question, 1)[0]
    (text, metadata, vector), = retriever.store.fetch([pid]).values()
    passage = record_to_passage(pid, text, metadata)
    assert passage.source.startswith("synthetic/doc") and passage.end - passage.start == len(text)
    assert abs(sum(x * x for x in vector) - 1) < 1e-4
    retriever.run(question)
    assert retriever.timings["dense"] > 0 and retriever.timings["lexical"] > 0


def test_a_store_bulk_loaded_embedded_then_served_reads_as_an_ingested_one(
        make_settings, monkeypatch, tmp_path):
    """The 1,000,000-chunk row: the bulk load goes into the embedded PersistentClient, and
    `chroma run --path` then serves that directory to the Retriever."""
    from assistant.retrieve import Retriever

    monkeypatch.setattr(retrieval, "BULK_BATCH", 500)
    settings = make_settings(collection="bench-served")
    built = retrieval.build({"index": str(settings.index_dir), "collection": "bench-served",
                             "size": 1200, "vectors": "synthetic", "served": True,
                             "settings": common.settings_fields(settings)})
    assert built["bulk"] and built["batch"] == 500 and positive(built["chunks_per_s"])
    assert retrieval._disk_mb(settings.index_dir) > 1
    port = free_port()
    with chroma_run(tmp_path / "served", port, db=chroma_dir(settings)):
        retriever = Retriever(settings.replace(chroma_url=f"http://127.0.0.1:{port}"))
        assert retriever.store.count() == 1200 and retriever.repaired == ""
        question = corpus.questions(1)[0]
        assert retriever.lexical.search(question, 1)
        retriever.run(question)
        assert retriever.timings["dense"] > 0 and retriever.timings["lexical"] > 0


def test_a_kept_work_folder_measures_its_store_again_without_rebuilding(tmp_path):
    """`bench --work DIR`: an hour's build of the 1M row outlives a measurement that fails."""
    from assistant.bench.runner import Bench
    from assistant.config import Settings

    logged = []
    bench = Bench(Settings.load(), common.Plan.from_sizes([40]), tmp_path, log=logged.append,
                  keep=True)
    first = retrieval._row(bench, 40, "embedded", "synthetic")
    assert bench.calls == 2 and (tmp_path / "index-40-embedded" / "built.json").exists()
    again = retrieval._row(bench, 40, "embedded", "synthetic")
    assert bench.calls == 3, "only the measurement ran again"
    assert again["build"] == first["build"] and positive(again["p50_ms"])
    assert any("reusing the store of 40 chunks" in line for line in logged)


def test_encoder_options(quick):
    enc = quick[0]["encoder"]
    current = enc["current"]
    assert current and positive(current["chunks_per_s"]) and current["same_top10"]
    assert enc["fastest"]["same_top10"]
    assert any(o["backend"] == "onnx" for o in enc["options"])  # measured, or why it cannot run


def test_ask_and_cold_start(quick):
    ask = quick[0]["ask"]
    assert ask["questions"] > 0 and positive(ask["p50_ms"]) and ask["p95_ms"] >= ask["p50_ms"]
    assert positive(ask["cold"]["first_answer_seconds"])
    assert ask["cold"]["first_answer_seconds"] > ask["cold"]["answer_seconds"]
    assert positive(ask["peak_rss_mb"]) and positive(ask["cold"]["peak_rss_mb"])


def test_start_up_of_new_processes(quick):
    start = quick[0]["startup"]
    assert start["index"] == "the bench corpus"  # the demo index in the full bench
    assert positive(start["help_seconds"]) and positive(start["ask_seconds"])
    assert len(start["ask_runs"]) == start["runs"]
    assert start["ask_seconds"] > start["help_seconds"]
    assert "assistant" in start["imports"] and all(map(positive, start["imports"].values()))
    assert quick[0]["ask"]["cold"]["heavy_modules"] == []


def test_fifty_concurrent_questions_all_answered(quick):
    conc = quick[0]["concurrency"]
    api = conc["api"]
    assert api["answered"] == common.CONCURRENT == 50 and api["dropped"] == 0, api
    assert positive(api["seconds"])
    for key in ("http", "ui"):  # POST /api/ask and the UI's queue, on one server
        served = conc[key]
        assert served.get("answered") == 50 and served["dropped"] == 0, served
        assert served["same_answer_as_api"] == 50 and positive(served["seconds"]), served
    assert positive(conc["server"]["peak_rss_mb"]) and positive(conc["server"]["start_seconds"])


# -- pure helpers -------------------------------------------------------------------------------


def test_plan_scales_with_the_largest_size():
    quick, full = common.Plan.from_sizes([100]), common.Plan.from_sizes([1000, 10000, 100000])
    assert not quick.full and full.full
    assert quick.ingest_chunks == 100 and full.ingest_chunks == 2000
    assert full.sizes == (1000, 10000, 100000)
    with pytest.raises(ValueError):
        common.Plan.from_sizes([0])
    assert common.parse_sizes("1k,10_000") == [1000, 10000]
    with pytest.raises(ValueError):
        common.parse_sizes("ten")


def test_generated_text_is_deterministic():
    assert corpus.questions(5) == corpus.questions(5)
    assert corpus.synthetic_texts(3, 1) == corpus.synthetic_texts(3, 1)
    rng_a, rng_b = random.Random(1), random.Random(1)
    assert corpus.sentence(rng_a) == corpus.sentence(rng_b)
    v = corpus.unit_vectors(4, 7)
    assert v.shape == (4, common.DIM)
    assert abs(float((v * v).sum(axis=1).max()) - 1) < 1e-5


def test_percentile_and_exclusive_timers():
    assert common.pct([0.001, 0.002, 0.003, 0.004], 50) == 2.0
    assert common.pct([0.001, 0.002, 0.003, 0.004], 95) == 4.0
    assert common.pct([], 50) == 0.0

    class Work:
        def outer(self):
            self.inner()

        def inner(self):
            sum(range(20000))

    timers = ingest.Timers()
    timers.wrap(Work, "outer", "outer")
    timers.wrap(Work, "inner", "inner")
    Work().outer()
    timers.restore()
    assert timers.calls == {"outer": 1, "inner": 1}
    assert timers.seconds["inner"] > 0 and timers.seconds["outer"] >= 0
    assert not hasattr(Work.outer, "__wrapped__")
