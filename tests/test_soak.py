"""`groundwork bench --soak` in its short form (issue 14, scenario 6): a real `groundwork serve`
on a copy of the demo index, clients asking through POST /api/ask and documents uploaded through
the page's own upload route, for 15 s (two uploads, each asked about). The 20-minute run is the
same command with the defaults; its figures are in the README's Reliability section."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS

from assistant.bench.soak import Call, document, summarise

MINUTES, CLIENTS, UPLOAD_EVERY = 0.25, 3, 7.5


@pytest.fixture(scope="module")
def soaked(cli, demo_index, tmp_path_factory):
    out = tmp_path_factory.mktemp("soak") / "out"
    proc = cli("bench", "--soak", "--minutes", MINUTES, "--clients", CLIENTS, "--upload-every",
               UPLOAD_EVERY, "--index", demo_index.index_dir, "--corpus", CORPUS, "--out", out,
               "--json", timeout=900)
    report = json.loads((out / "report.json").read_text())
    assert proc.returncode == 0, (proc.stderr[-3000:], report.get("soak", {}).get("errors"))
    assert json.loads(proc.stdout) == report
    return report["soak"], (out / "report.md").read_text()


def test_short_soak_serves_every_request(soaked):
    soak, md = soaked
    assert soak["failed"] == 0 and soak["errors"] == [], soak["errors"]
    # Every client asked more than once, so the server answered them side by side.
    assert soak["served"] == soak["requests"] > 2 * CLIENTS
    assert 0 < soak["p50_ms"] <= soak["p95_ms"] <= soak["max_ms"]
    assert sum(m["requests"] for m in soak["per_minute"]) == soak["requests"]
    assert "| requests served / failed |" in md and "| minute |" in md


def test_uploads_through_the_page_become_answerable(soaked):
    soak, _ = soaked
    expected = int(MINUTES * 60 // UPLOAD_EVERY)  # one at 0 s, one at 7.5 s
    assert soak["uploads"] == soak["uploads_ingested"] == soak["uploads_answerable"] == expected
    for i, upload in enumerate(soak["upload_results"]):
        assert upload["file"] == document(i)[0] and document(i)[3] in upload["summary"], upload


def test_server_memory_is_reported(soaked):
    soak, md = soaked
    assert 100 < soak["rss_start_mb"] <= soak["rss_peak_mb"]
    assert soak["rss_end_mb"] <= soak["rss_peak_mb"]
    assert soak["rss_growth"] == pytest.approx(soak["rss_end_mb"] / soak["rss_start_mb"] - 1,
                                               abs=1e-3)
    assert len(soak["rss_samples"]) >= MINUTES * 60 // 5
    assert "server RSS start -> end" in md


def test_summary_counts_failures_per_minute():
    calls = [Call("ask", 1.0, 0.2, True), Call("ask", 59.0, 0.4, False, "HTTP 503: busy"),
             Call("upload", 61.0, 3.0, True), Call("check", 65.0, 0.6, True),
             Call("ask", 130.0, 0.8, True)]
    s = summarise(calls, [{"ingested": True, "answerable": False}], [(0, 800.0), (130, 880.0)])
    assert (s["requests"], s["served"], s["failed"]) == (5, 4, 1)
    assert s["errors"] == ["HTTP 503: busy"]
    assert [(m["minute"], m["requests"], m["failed"], m["uploads"]) for m in s["per_minute"]] \
        == [(1, 2, 1, 0), (2, 2, 0, 1), (3, 1, 0, 0)]
    assert s["per_minute"][1]["p50_ms"] == 600.0  # the upload's 3 s is not an answer's latency
    assert s["rss_growth"] == 0.1 and s["uploads_answerable"] == 0


def test_uploaded_documents_are_distinct():
    docs = [document(i) for i in range(40)]
    assert len({d[0] for d in docs}) == len({d[2] for d in docs}) == len({d[3] for d in docs}) == 40
    assert all(d[3] in d[1] for d in docs)
