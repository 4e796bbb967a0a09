"""What a process pays to start: `chatbot search` on the demo shop, its embedding model run by
torch (sentence-transformers) and by ONNX Runtime, in one run, alternately; and `chatbot ingest`
of a 1,500-row FAQ (3,000 short texts to embed) with the runtime chosen as shipped (`auto`)
beside torch, which the shipped choice took for any 200 passages until 2026-12-07.

    python -m bench.startup [--runs 5]

Prints the median wall seconds and the peak memory of each, and the ratio. The ONNX file
is exported into a temporary cache before the first timed run (the export is once per machine).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "chatbot" / "demo"


def _run(data: Path, runtime: str, cache: Path, *args: str) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one `chatbot` process."""
    env = {
        **os.environ,
        "CHATBOT_EMBEDDING__RUNTIME": runtime,
        "CHATBOT_EMBEDDING__CACHE_DIR": str(cache),
    }
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "--data-dir", str(data), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest so far
    seconds = time.perf_counter() - began
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"chatbot {' '.join(args)} failed ({code})")
    return seconds, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args(argv).runs
    with tempfile.TemporaryDirectory() as tmp:
        data, cache = Path(tmp) / "data", Path(tmp) / "cache"
        _run(data, "onnx", cache, "ingest", "--bot", "demo", str(DEMO / "documents"))
        search = ("search", "--bot", "demo", "How much is an iPhone battery?", "--k", "3")
        times: dict[str, list[float]] = {"onnx": [], "torch": []}
        peaks: dict[str, float] = {}
        for _ in range(runs):
            for runtime in ("onnx", "torch"):
                seconds, peak = _run(data, runtime, cache, *search)
                times[runtime].append(seconds)
                peaks.setdefault(runtime, peak)
        faq = Path(tmp) / "parts.csv"
        with faq.open("w", newline="", encoding="utf-8") as f:
            rows = csv.writer(f)
            rows.writerow(["question", "answer"])
            for n in range(1500):
                rows.writerow([f"How much is spare part {n}?", f"Spare part {n} costs RM{n + 10}."])
        ingests: dict[str, list[float]] = {"auto": [], "torch": []}
        ingest_peaks: dict[str, float] = {}
        for run in range(runs):
            for runtime in ("auto", "torch"):
                args = ("ingest", "--bot", f"faq-{runtime}-{run}", str(faq))
                seconds, peak = _run(data, runtime, cache, *args)
                ingests[runtime].append(seconds)
                ingest_peaks.setdefault(runtime, peak)
    print("| runtime | `chatbot search`, s (median) | peak memory, MB |")
    print("|---|---|---|")
    for runtime in ("torch", "onnx"):
        print(f"| {runtime} | {statistics.median(times[runtime]):.2f} | {peaks[runtime]:.0f} |")
    ratio = statistics.median(times["torch"]) / statistics.median(times["onnx"])
    print(f"\nONNX Runtime starts {ratio:.1f}x faster than torch, in the same run.\n")
    print("| runtime | `chatbot ingest` of a 1,500-row FAQ, s (median) | peak memory, MB |")
    print("|---|---|---|")
    for runtime in ("torch", "auto"):
        median = statistics.median(ingests[runtime])
        print(f"| {runtime} | {median:.2f} | {ingest_peaks[runtime]:.0f} |")


if __name__ == "__main__":
    main()
