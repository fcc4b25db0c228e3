#!/usr/bin/env python3
"""Writes the small request traces of tests/data/serving/, one per format tasim serve reads
(sim/serve/request_trace.h): an Azure LLM inference trace CSV, a Mooncake JSONL with hash_ids, a
Vidur CSV and tasim's own JSONL. Made-up requests (seeded, so the files are the same on every run):
no data is downloaded. Usage: scripts/make_serving_samples.py [OUT_DIR]"""

import datetime
import json
import os
import random
import sys

N = 40


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "serving")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261130)
    t = 0.0
    rows = []
    for _ in range(N):
        t += rng.expovariate(2.0)  # 2 requests per second
        rows.append((t, rng.randint(16, 2048), rng.randint(1, 256)))

    start = datetime.datetime(2023, 11, 16, 18, 15, 46)
    with open(os.path.join(out, "azure_sample.csv"), "w", newline="") as f:
        f.write("TIMESTAMP,ContextTokens,GeneratedTokens\n")
        for t, p, o in rows:
            stamp = start + datetime.timedelta(seconds=t)
            f.write("%s.%07d,%d,%d\n" % (stamp.strftime("%Y-%m-%d %H:%M:%S"), stamp.microsecond * 10, p, o))

    with open(os.path.join(out, "vidur_sample.csv"), "w", newline="") as f:
        f.write("arrived_at,num_prefill_tokens,num_decode_tokens\n")
        for t, p, o in rows:
            f.write("%.6f,%d,%d\n" % (t, p, o))

    # Mooncake: timestamps in ms; hash_ids of 512-token blocks. Three conversations share their
    # first blocks (a system prompt of two blocks, then each turn adds blocks).
    next_id = 1000
    system = [1, 2]
    conversations = [list(system) for _ in range(3)]
    with open(os.path.join(out, "mooncake_sample.jsonl"), "w") as f:
        for i, (t, p, o) in enumerate(rows):
            conv = conversations[i % 3]
            if len(conv) >= 7:  # a conversation starts over after 7 blocks (3,584 tokens)
                del conv[len(system):]
            for _ in range(rng.randint(1, 2)):
                conv.append(next_id)
                next_id += 1
            ids = list(conv)
            f.write(json.dumps({"timestamp": int(t * 1000), "input_length": 512 * len(ids) - rng.randint(0, 300),
                                "output_length": o, "hash_ids": ids}) + "\n")

    with open(os.path.join(out, "tasim_sample.jsonl"), "w") as f:
        for i, (t, p, o) in enumerate(rows):
            r = {"arrival_s": round(t, 6), "prompt_tokens": p + 256, "output_tokens": o,
                 "priority": i % 2, "prefix_group": 0, "prefix_tokens": 256}
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
