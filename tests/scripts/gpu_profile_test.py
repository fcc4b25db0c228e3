#!/usr/bin/env python3
"""Tests scripts/gpu-profile's trace analysis (standard library only; PyTorch and a GPU are not
needed: the functions under test read the profiler's Chrome-trace events, made up here in the
shape PyTorch writes them). Usage: gpu_profile_test.py [REPO_ROOT]. Exits 1 if a check fails."""
import importlib.machinery
import importlib.util
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
loader = importlib.machinery.SourceFileLoader("gpu_profile", os.path.join(root, "scripts", "gpu-profile"))
spec = importlib.util.spec_from_loader("gpu_profile", loader)
gp = importlib.util.module_from_spec(spec)
loader.exec_module(gp)

failures = []
checks = 0


def check(what, got, want):
    global checks
    checks += 1
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")


def annotation(name, ts, dur, tid=1):
    return {"ph": "X", "cat": "user_annotation", "name": name, "ts": ts, "dur": dur, "tid": tid}


def launch(corr, ts, cat="cuda_runtime", tid=1):
    return {"ph": "X", "cat": cat, "name": "cudaLaunchKernel", "ts": ts, "dur": 2, "tid": tid,
            "args": {"correlation": corr}}


def kernel(name, corr, dur, grid=(64, 1, 1)):
    return {"ph": "X", "cat": "kernel", "name": name, "ts": 1000 + corr, "dur": dur, "tid": 7,
            "args": {"correlation": corr, "grid": list(grid), "block": [384, 1, 1]}}


# Two ops, qkv and rope, rope nested inside a wider "attention" range (the innermost wins); a kernel
# launched through the driver API; a kernel launched outside every range; a range on another
# thread that overlaps in time but launched nothing of these.
events = [
    annotation("qkv", 0, 10), annotation("attention", 10, 30), annotation("rope", 12, 5),
    annotation("o", 0, 100, tid=2),
    launch(1, 3), launch(2, 13), launch(3, 20, cat="cuda_driver"), launch(4, 50),
    kernel("gemm_a", 1, 40.0), kernel("rope_k", 2, 3.0), kernel("flash", 3, 25.0), kernel("loose", 4, 1.5),
    {"ph": "i", "cat": "kernel", "name": "an instant event, not a span"},
]
spans = [e for e in events if e.get("ph") == "X"]
totals, unlabelled = gp.gpu_us_by_label(spans, ["qkv", "rope", "attention", "o"])
check("qkv", totals["qkv"], 40.0)
check("rope (innermost range)", totals["rope"], 3.0)
check("attention (driver-API launch)", totals["attention"], 25.0)
check("o (another thread's range)", totals["o"], 0.0)
check("unlabelled", unlabelled, 1.5)

# summarize_kernels: one row per name, launches per call, median duration, heaviest first.
ks = [kernel("small", 1, 2.0), kernel("big", 2, 50.0), kernel("small", 3, 4.0), kernel("small", 4, 3.0),
      kernel("big", 5, 60.0, grid=(132, 1, 1))]
rows = gp.summarize_kernels(ks, calls=2)
check("rows", [r["name"] for r in rows], ["big", "small"])
check("big per call", rows[0]["per_call"], 1.0)
check("big median", rows[0]["us_median"], 55.0)
check("big grid (first launch's)", rows[0]["grid"], [64, 1, 1])
check("small per call", rows[1]["per_call"], 1.5)
check("small median", rows[1]["us_median"], 3.0)
check("kernel_events (spans only)", len(gp.kernel_events(spans)), 4)

for f in failures:
    print("FAIL:", f)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
