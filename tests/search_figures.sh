#!/bin/bash
# tests/search_figures.sh - one truth per figure (issue 17, items 1, 2, 3 and
# 7): a short search (tiny MNIST subset, a few trials) and then every place
# that shows the chosen model's figures must agree to the byte, marked
# measured:
#   - `search --json` on stdout (chosen_model, best, provenance),
#   - report.json (chosen_model, provenance, the chosen trial's row),
#   - report.html (the starting/chosen table, the chosen trial's row),
#   - `mcuopt measure OUT/best.mcq` over the same images,
#   - `mcuopt emit OUT/best.mcq` (its Flash and static RAM; its peak RAM
#     adds a static stack estimate, not the measured stack, and is not
#     compared);
# and the starting model (quant:int8) is measured too, the gain compares
# the two measured models, and the report has units, three plots, the
# provenance and no fraction shown as a budget. Then `--formats int8
# --stages prune,quant` keeps every trial inside that space. Last, the
# first report opened in headless Chromium (tests/lib/browser.sh): a
# screenshot that is not blank, and the chosen model's figures in its DOM.
# Usage: tests/search_figures.sh path/to/mcuopt (cwd: repo root). Exits 77
# (skipped) without MNIST, the Arm toolchain and QEMU, or python3; and,
# once everything else has passed, without a Chromium that can start.
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
args=(search "$W/m.mco" --target stm32f405 --min-accuracy 30 --data "$W/mini" --val-images 100 --budget 120s)

"$CLI" "${args[@]}" --max-trials 6 --json -o "$W/out" > "$W/search.json" 2> "$W/search.err" ||
    { echo "FAIL: search exited $?: $(cat "$W/search.err")"; exit 1; }
"$CLI" measure "$W/out/best.mcq" --target stm32f405 --data "$W/mini" --images 100 --json > "$W/measure.json" ||
    { echo "FAIL: measure"; exit 1; }
"$CLI" emit "$W/out/best.mcq" -o "$W/emit" --json > "$W/emit.json" || { echo "FAIL: emit"; exit 1; }

python3 - "$W" << 'EOF'
import json, re, sys
w = sys.argv[1]
out = json.load(open(w + "/search.json"))
rep = json.load(open(w + "/out/report.json"))
meas = json.load(open(w + "/measure.json"))
emit = json.load(open(w + "/emit.json"))
html = open(w + "/out/report.html").read()
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)

chosen = out["chosen_model"]
check(chosen["figures"] == "measured" and chosen["bit_exact"], "stdout chosen_model is measured and bit-exact")
check(chosen == rep["chosen_model"], "stdout and report.json chosen_model are the same object")
check(out["start"] == rep["start"] and out["start"]["figures"] == "measured", "starting model measured, same in both")
check(out["gain"] == rep["gain"], "the gain is the same in both")
check(out["provenance"] == rep["provenance"], "the provenance is the same in both")
# the measured figures against `mcuopt measure` over the same 100 images
for key in ("flash_bytes", "ram_bytes", "instructions", "cycles_estimate", "latency_ms_estimate",
            "energy_uj_estimate", "images", "mismatches"):
    check(chosen[key] == meas[key], "chosen %s: search %s, measure %s" % (key, chosen[key], meas[key]))
check(emit["flash_bytes"] == meas["flash_bytes"], "emit Flash %s = measure %s" % (emit["flash_bytes"], meas["flash_bytes"]))
check(emit["static_ram_bytes"] == meas["static_ram_bytes"], "emit static RAM = measure's")
# stdout's best and the report's trial row show the measured figures
best = out["best"]
check(best["figures"] == "measured" and best["flash_bytes"] == chosen["flash_bytes"] and
      best["ram_bytes"] == chosen["ram_bytes"] and best["latency_ms"] == chosen["latency_ms_estimate"],
      "stdout best shows the measured figures")
row = [t for t in rep["trials"] if t["chosen"]]
check(len(row) == 1 and row[0]["figures"] == "measured" and row[0]["flash_bytes"] == chosen["flash_bytes"] and
      row[0]["ram_bytes"] == chosen["ram_bytes"] and row[0]["latency_ms"] == chosen["latency_ms_estimate"],
      "report.json's chosen trial row shows the measured figures")
others = [t for t in rep["trials"] if not t["chosen"]]
check(all(t["figures"] == rep["trial_figures"] for t in others), "other trials say how their figures were obtained")
check(all(t["train_images"] is not None and t["train_images"] == int(t["train_images"]) for t in rep["trials"]),
      "every trial's training data in images")
# provenance (item 7)
p = rep["provenance"]
check(p["trial"] == best["id"] and p["pipeline"] == best["config"] and p["target"] == "stm32f405" and
      re.fullmatch(r"[0-9a-f]{16}", p["model_hash"] or "") and p["mcuopt_version"] and
      p["test_accuracy"] == chosen["test_accuracy"] and p["flash_bytes"] == chosen["flash_bytes"],
      "provenance: version, hash, pipeline, trial, accuracy, figures, target")
check(out["mcuopt_version"] == p["mcuopt_version"] and out["model_hash"] == p["model_hash"], "stdout has version and hash")
# the gain compares measured with measured
s = out["start"]
g = out["gain"]
check(abs(g["flash_percent"] - 100.0 * (chosen["flash_bytes"] - s["flash_bytes"]) / s["flash_bytes"]) < 1e-9,
      "gain: Flash of the measured models")
check(abs(g["latency_percent"] - 100.0 * (chosen["latency_ms_estimate"] - s["latency_ms_estimate"]) /
          s["latency_ms_estimate"]) < 1e-9, "gain: latency of the measured models")
# report.html: the measured cells of the starting/chosen table and the chosen trial row
def cells(v, fmt):
    return html.count('<td class="num measured">' + fmt % v + "</td>")
for key, fmt in (("flash_bytes", "%.0f"), ("ram_bytes", "%.0f"), ("instructions", "%.0f"),
                 ("latency_ms_estimate", "%.3f")):
    check(cells(chosen[key], fmt) >= 1, "report.html shows the chosen %s %s" % (key, fmt % chosen[key]))
    check(cells(s[key], fmt) >= 1, "report.html shows the starting %s %s" % (key, fmt % s[key]))
check(html.count("%.2f" % (100 * chosen["test_accuracy"])) >= 1, "report.html shows the test accuracy")
m = re.search(r'<tr class="chosen-row">(.*?)</tr>', html)
check(m is not None and ">%.0f</td>" % chosen["flash_bytes"] in m.group(1) and ">measured</td>" in m.group(1),
      "report.html's chosen trial row shows the measured Flash, marked measured")
check(html.count("<svg ") == 3 and "latency (ms, log scale)" in html and '<rect class="start"' in html,
      "three plots, log latency, the starting model marked")
check("Provenance of the chosen model" in html and "trial %d" % best["id"] in html, "report.html provenance")
check("<th>latency limit</th><td>unset</td>" in html and "120 s (2.0 min)</td>" in html, "unset limit and budget unit")
check(re.search(r"0\.1111|0\.3333", html) is None, "no data fraction shown as a budget")
check('<td class="num">-</td>' not in html, "no empty cells")
for f in fails:
    print("FAIL:", f)
print("chosen: Flash %s B, RAM %s B, %s instructions, %.3f ms; start: Flash %s B, RAM %s B, %.3f ms; gain Flash %+.1f %%"
      % (chosen["flash_bytes"], chosen["ram_bytes"], chosen["instructions"], chosen["latency_ms_estimate"],
         s["flash_bytes"], s["ram_bytes"], s["latency_ms_estimate"], g["flash_percent"]))
sys.exit(1 if fails else 0)
EOF
fail=$?

# A restricted space: int8 weights, pruning and quantization only.
"$CLI" "${args[@]}" --max-trials 4 --formats int8 --stages prune,quant --json -o "$W/out2" > "$W/search2.json" \
    2> "$W/search2.err" || { echo "FAIL: restricted search exited $?: $(cat "$W/search2.err")"; exit 1; }
python3 - "$W/out2/report.json" << 'EOF' || fail=1
import json, sys
rep = json.load(open(sys.argv[1]))
bad = [t["config"] for t in rep["trials"]
       if "int4" in t["config"] or "float16" in t["config"] or "distill" in t["config"] or "qat" in t["config"]]
for c in bad:
    print("FAIL: outside --formats int8 --stages prune,quant:", c)
print("restricted: %d trials, all int8 with pruning and quantization only" % len(rep["trials"]))
sys.exit(1 if bad or not rep["trials"] else 0)
EOF
[ "$fail" -eq 0 ] || exit 1

# The first search's report in a real browser (tests/lib/browser.sh; skips
# when Chromium cannot start, after the checks above have passed).
. "$(dirname "$0")/lib/browser.sh"
check_report_in_browser "$W/out/report.html" "$W/search.json" "$W/browser"
