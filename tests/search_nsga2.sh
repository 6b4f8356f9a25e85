#!/bin/bash
# tests/search_nsga2.sh - issue 17, items 3 and 4 through the CLI: a short
# search (tiny MNIST subset, a trial budget) with `--sampler nsga2` (the
# Pareto objective by default) and `--formats int8,int4` keeps every trial
# inside the formats, reports sampler, objective, front size and
# hypervolume in stdout JSON, report.json and report.html, and the
# hypervolume equals one recomputed here from the store's trials (exactly,
# by inclusion-exclusion over the front's boxes) with the stated reference
# point. Then a weighted-cost search on a space of three structures (int8,
# quantization settings only, successive halving by 2) rejects, before
# training, proposals whose predicted Flash, RAM and latency are no better
# than a feasible full-data trial's, and says so in the trial's note.
# Usage: tests/search_nsga2.sh path/to/mcuopt (cwd: repo root). Exits 77
# (skipped) without MNIST, the Arm toolchain and QEMU, or python3.
set -uo pipefail
CLI=$1
. "$(dirname "$0")/lib/skip.sh"
require_mnist
require_arm_tools
require_cmd python3 python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/lib/mini_mnist.sh"
make_mini_model "$CLI" "$W" || exit 1
args=(search "$W/m.mco" --target stm32f405 --min-accuracy 30 --data "$W/mini" --val-images 100 --budget 300s)

"$CLI" "${args[@]}" --sampler nsga2 --formats int8,int4 --eta 2 --max-trials 16 --json -o "$W/nsga" > "$W/nsga.json" \
    2> "$W/nsga.err" || { echo "FAIL: nsga2 search exited $?: $(cat "$W/nsga.err")"; exit 1; }
"$CLI" trials "$W/nsga/search.db" --json > "$W/nsga-trials.json" || { echo "FAIL: trials"; exit 1; }
fail=0
python3 - "$W" << 'EOF' || fail=1
import itertools, json, sys
w = sys.argv[1]
out = json.load(open(w + "/nsga.json"))
rep = json.load(open(w + "/nsga/report.json"))
store = json.load(open(w + "/nsga-trials.json"))
html = open(w + "/nsga/report.html").read()
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)
check(out["sampler"] == "nsga2" and out["objective"] == "pareto", "stdout: sampler nsga2, objective pareto")
check(rep["sampler"] == "nsga2" and rep["objective"] == "pareto" and rep["pareto_with_accuracy"],
      "report.json: sampler, objective, front with accuracy")
check(out["hypervolume"] == rep["hypervolume"], "the same hypervolume object in stdout and report.json")
check("nsga2" in rep["study"]["settings"] and "objective=pareto" in rep["study"]["settings"], "study settings")
bad = [t["config"] for t in store["trials"] if "float16" in t["config"]]
check(not bad, "--formats int8,int4: no float16 trial (%s)" % bad)
check(len(store["trials"]) >= 1 and len(store["trials"]) <= 16, "at most 16 trials (%d)" % len(store["trials"]))

# The hypervolume again, here: done full-data trials meeting the floor and
# the limits, in (100 (1 - accuracy), Flash / Flash0, latency / latency0),
# against (100 (1 - floor), 1, 1); the union of boxes by inclusion-exclusion.
floor = rep["min_accuracy"]
ref0 = out["reference_int8"]
top = max([t["rung"] for t in store["trials"] if t["data_fraction"] == 1.0] or [-1])   # full data
lim = rep["limits"]
pts = []
for t in store["trials"]:
    if t["state"] != "done" or t["rung"] != top or t["accuracy"] < floor:
        continue
    if t["flash_bytes"] > lim["max_flash_bytes"] or t["ram_bytes"] > lim["max_ram_bytes"]:
        continue
    pts.append((100 * (1 - t["accuracy"]), t["flash_bytes"] / ref0["flash_bytes"], t["latency_ms"] / ref0["latency_ms"]))
ref = (100 * (1 - floor), 1.0, 1.0)
front = [p for p in pts if not any(all(q[k] <= p[k] for k in range(3)) and q != p for q in pts)]
inside = [p for p in pts if all(p[k] < ref[k] for k in range(3))]
hv = 0.0
for r in range(1, len(inside) + 1):
    for sub in itertools.combinations(inside, r):
        corner = [max(p[k] for p in sub) for k in range(3)]
        hv += (-1) ** (r + 1) * (ref[0] - corner[0]) * (ref[1] - corner[1]) * (ref[2] - corner[2])
got = rep["hypervolume"]["value"]
check(len(inside) > 0, "some full-data trial beats the starting model at the floor (else the comparison is empty)")
check(abs(got - hv) <= 1e-9 * max(1.0, abs(hv)), "hypervolume %r, recomputed %r" % (got, hv))
check(rep["hypervolume"]["front_size"] == len(front), "front size %d, recomputed %d" %
      (rep["hypervolume"]["front_size"], len(front)))
check("reference" in rep["hypervolume"] and "floor" in rep["hypervolume"]["reference"], "the reference point is stated")
check("<th>hypervolume</th>" in html and "<th>sampler</th><td>nsga2</td>" in html, "report.html: sampler, hypervolume")
for f in fails:
    print("FAIL:", f)
print("nsga2: %d trials, %d on the feasible full-data front, hypervolume %.4f (recomputed %.4f)" %
      (len(store["trials"]), len(front), got, hv))
sys.exit(1 if fails else 0)
EOF

# Weighted cost on three structures (per-tensor, per-channel and the default
# scales; calibration changes no structure): once one of them is feasible
# on full data, a proposal of a structure no better than it is rejected
# before training.
"$CLI" "${args[@]}" --sampler random --formats int8 --stages quant --eta 2 --max-trials 14 --json -o "$W/cost" \
    > "$W/cost.json" 2> "$W/cost.err" || { echo "FAIL: cost search exited $?: $(cat "$W/cost.err")"; exit 1; }
"$CLI" trials "$W/cost/search.db" --json > "$W/cost-trials.json" || { echo "FAIL: trials"; exit 1; }
python3 - "$W" << 'EOF' || fail=1
import json, sys
w = sys.argv[1]
store = json.load(open(w + "/cost-trials.json"))
out = json.load(open(w + "/cost.json"))
trials = store["trials"]
top = max([t["rung"] for t in trials if t["data_fraction"] == 1.0] or [-1])   # full data
floor = out["min_accuracy"]
feasible = [t for t in trials if t["state"] == "done" and t["rung"] == top and t["accuracy"] >= floor]
dominated = [t for t in trials if t["state"] == "pruned" and t["error"].startswith("dominated before training")]
fails = []
if out["objective"] != "cost":
    fails.append("objective %s, not cost" % out["objective"])
if not dominated:
    fails.append("no proposal was rejected as dominated (%d trials, %d feasible on full data)" % (len(trials), len(feasible)))
for t in dominated:
    # sound: a feasible full-data trial no worse in Flash, RAM and latency, finished before it was proposed
    if not any(f["flash_bytes"] <= t["flash_bytes"] and f["ram_bytes"] <= t["ram_bytes"] and
               f["latency_ms"] <= t["latency_ms"] and f["id"] < t["id"] for f in feasible):
        fails.append("trial %d rejected as dominated, but no earlier feasible trial dominates it" % t["id"])
    if "trial %d's" % t["id"] in t["error"]:
        fails.append("trial %d dominated by itself" % t["id"])
for f in fails:
    print("FAIL:", f)
print("cost: %d trials, %d feasible on full data, %d rejected as dominated, e.g. %s" %
      (len(trials), len(feasible), len(dominated), dominated[0]["error"] if dominated else "-"))
sys.exit(1 if fails else 0)
EOF
exit $fail
