#!/usr/bin/env python3
"""Regenerates scalesim_gemm_reference.csv by running SCALE-Sim v2 itself (not shipped with tasim).

usage: make_scalesim_reference.py SCALESIM_ROOT OUT_CSV [--jobs N]

SCALE_SIM_ROOT is a checkout of https://github.com/scalesim-project/scale-sim-v2 (its scalesim/ package
is put on PYTHONPATH; needs numpy and tqdm). For every (dataflow, array) pair one SCALE-Sim run is made in
GEMM mode (-i gemm) with one topology layer per GEMM shape; the "Total Cycles" column of its
COMPUTE_REPORT.csv is recorded and its "Stall Cycles" column is checked to be zero, so the figure is the
pure compute time of the array (the CALC bandwidth mode serves every read as a hit, and the SRAMs are
large enough that the output buffer never fills).
"""
import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

DATAFLOWS = ["ws", "os", "is"]
ARRAYS = [(8, 8), (16, 16), (32, 32), (8, 16), (16, 8), (4, 32), (128, 128)]
VALUES = [1, 7, 8, 9, 13, 31, 32, 64, 100, 128, 129, 257]
SHAPES_PER_RUN = 18          # random shapes per (dataflow, array), besides the fixed ones
MAX_FOLDS = 300              # keeps SCALE-Sim's runtime modest (its per-fold numpy concatenation is quadratic)
SRAM_KB = 4096

CONFIG = """[general]
run_name = {name}

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:   {sram}
FilterSramSzkB:  {sram}
OfmapSramSzkB:   {sram}
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : {df}
MemoryBanks:   1

[run_presets]
InterfaceBandwidth: CALC
"""


def ceil_div(a, b):
    return -(-a // b)


def folds(df, rows, cols, m, n, k):
    # Spatial dimensions per dataflow (SCALE-Sim's Sr x Sc); only used to bound runtime here.
    sr, sc = {"ws": (k, n), "os": (m, n), "is": (k, m)}[df]
    return ceil_div(sr, rows) * ceil_div(sc, cols)


def shapes_for(df, rows, cols, rng):
    fixed = [(1, 1, 1), (rows, cols, rows), (cols, rows, cols), (2 * rows, 2 * cols, 3 * rows),
             (rows + 1, cols + 1, rows + 1), (rows - 1 or 1, cols - 1 or 1, 2 * rows - 1)]
    out = []
    for s in fixed:
        if s not in out and folds(df, rows, cols, *s) <= MAX_FOLDS:
            out.append(s)
    added = 0
    while added < SHAPES_PER_RUN:
        s = (rng.choice(VALUES), rng.choice(VALUES), rng.choice(VALUES))
        if s in out or folds(df, rows, cols, *s) > MAX_FOLDS:
            continue
        out.append(s)
        added += 1
    return out


def run_one(scalesim_root, workdir, df, rows, cols, shapes):
    name = f"gemm_{df}_{rows}x{cols}"
    d = os.path.join(workdir, name)
    os.makedirs(d)
    cfg = os.path.join(d, "config.cfg")
    topo = os.path.join(d, "topology.csv")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(name=name, rows=rows, cols=cols, sram=SRAM_KB, df=df))
    with open(topo, "w") as f:
        f.write("Layer,M,N,K,\n")
        for i, (m, n, k) in enumerate(shapes):
            f.write(f"g{i},{m},{n},{k},\n")
    env = dict(os.environ, PYTHONPATH=scalesim_root)
    cmd = [sys.executable, os.path.join(scalesim_root, "scalesim", "scale.py"),
           "-c", cfg, "-t", topo, "-p", os.path.join(d, "out"), "-i", "gemm"]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows_out = []
    with open(os.path.join(d, "out", name, "COMPUTE_REPORT.csv")) as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        assert header[1] == "Total Cycles" and header[2] == "Stall Cycles", header
        for rec in reader:
            layer, total, stall = int(rec[0]), int(rec[1]), int(rec[2])
            assert stall == 0, f"{name} layer {layer}: {stall} stall cycles"
            m, n, k = shapes[layer]
            rows_out.append((df, rows, cols, m, n, k, total))
    assert len(rows_out) == len(shapes), name
    print(f"{name}: {len(shapes)} GEMMs", file=sys.stderr)
    return rows_out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scalesim_root")
    ap.add_argument("out_csv")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--commit", default="unknown")
    args = ap.parse_args()

    rng = random.Random(20250225)
    runs = [(df, r, c, shapes_for(df, r, c, rng)) for df in DATAFLOWS for (r, c) in ARRAYS]
    with tempfile.TemporaryDirectory() as work, ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda a: run_one(args.scalesim_root, work, *a), runs))

    with open(args.out_csv, "w") as f:
        f.write(f"# SCALE-Sim v2 (scalesim-project/scale-sim-v2 @ {args.commit}) compute cycles, GEMM mode, "
                f"ideal memory (InterfaceBandwidth CALC, {SRAM_KB} KB SRAMs, 0 stall cycles); "
                "regenerate with tests/data/make_scalesim_reference.py, see tests/data/README.md\n")
        f.write("dataflow,rows,cols,m,n,k,cycles\n")
        for block in results:
            for rec in block:
                f.write(",".join(str(x) for x in rec) + "\n")


if __name__ == "__main__":
    main()
