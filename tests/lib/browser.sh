# browser.sh - sourced by shell tests: a search's report.html opened in a
# real browser, headless Chromium (Debian package chromium; issue 17: "the
# page is checked in a real browser"). Needs skip.sh.
#
# check_report_in_browser HTML SEARCH_JSON DIR: takes a 1200x2000 screenshot
# of HTML and its DOM after loading (--dump-dom), with DIR as scratch space
# (Chromium's profile, the PNG, the DOM), and checks that the PNG is that
# size and not blank (many colours, a good share of non-white pixels: text,
# tables and the three plots drawn), and that the DOM holds three SVG plots
# and the chosen model's measured Flash, RAM, instructions and latency
# from `mcuopt search --json`'s output SEARCH_JSON, each in a cell marked
# measured, and its test accuracy. Returns 1 after printing FAIL lines.
# Skips (exit 77) when chromium or /usr/bin/python3's PIL (python3-pil) is
# missing, or when Chromium cannot start at all (a trivial page fails to
# load): never passes without having looked. Chromium runs as root here, so
# --no-sandbox; every run is under a timeout, so it cannot hang the test.

# chromium_run DIR ARGS...: headless Chromium with its own profile in DIR.
chromium_run() {
  local dir=$1
  shift
  timeout -k 5 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$dir/profile" "$@"
}

check_report_in_browser() {
  local html=$1 json=$2 dir=$3
  require_cmd chromium chromium
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import PIL" 2>/dev/null ||
    skip "/usr/bin/python3 lacks PIL (Debian package python3-pil)"
  mkdir -p "$dir"
  # Can Chromium start at all? (A failure here is the machine's, not the report's.)
  chromium_run "$dir" --dump-dom 'data:text/html,<p id="probe">chromium-ok</p>' >"$dir/probe.html" 2>"$dir/probe.err"
  grep -q 'chromium-ok' "$dir/probe.html" ||
    skip "chromium cannot start here: $(grep -v dbus "$dir/probe.err" | tail -n 1)"

  chromium_run "$dir" --screenshot="$dir/report.png" --window-size=1200,2000 "file://$(realpath "$html")" \
    >"$dir/shot.out" 2>&1 || { echo "FAIL: chromium --screenshot of $html exited $?: $(tail -n 2 "$dir/shot.out")"; return 1; }
  chromium_run "$dir" --dump-dom "file://$(realpath "$html")" >"$dir/report.dom" 2>"$dir/dom.err" ||
    { echo "FAIL: chromium --dump-dom of $html exited $?: $(tail -n 2 "$dir/dom.err")"; return 1; }

  /usr/bin/python3 - "$dir/report.png" "$dir/report.dom" "$json" <<'EOF'
import json, sys
from PIL import Image
png, dom_path, json_path = sys.argv[1:4]
fails = []
im = Image.open(png)
if im.size != (1200, 2000):
    fails.append("screenshot is %dx%d, not 1200x2000" % im.size)
rgb = im.convert("RGB")
colours = rgb.getcolors(1 << 24) or []
total = im.size[0] * im.size[1]
nonwhite = sum(n for n, c in colours if c != (255, 255, 255))
if len(colours) < 32:
    fails.append("screenshot has %d colours: blank or nearly" % len(colours))
if nonwhite < total // 50:
    fails.append("screenshot has %d non-white pixels of %d: blank or nearly" % (nonwhite, total))
dom = open(dom_path, encoding="utf-8").read()
chosen = json.load(open(json_path))["chosen_model"]
if dom.count("<svg") != 3:
    fails.append("the DOM has %d SVG plots, not 3" % dom.count("<svg"))
for key, fmt in (("flash_bytes", "%.0f"), ("ram_bytes", "%.0f"), ("instructions", "%.0f"),
                 ("latency_ms_estimate", "%.3f")):
    cell = '<td class="num measured">' + fmt % chosen[key] + "</td>"
    if cell not in dom:
        fails.append("the DOM lacks the chosen model's measured %s: %s" % (key, cell))
if "%.2f" % (100 * chosen["test_accuracy"]) not in dom:
    fails.append("the DOM lacks the chosen model's test accuracy %.2f" % (100 * chosen["test_accuracy"]))
for f in fails:
    print("FAIL: report in Chromium:", f)
print("report in Chromium: %dx%d screenshot, %d colours, %.1f %% non-white; DOM: %d plots, chosen Flash %.0f B"
      % (im.size[0], im.size[1], len(colours), 100.0 * nonwhite / total, dom.count("<svg"), chosen["flash_bytes"]))
sys.exit(1 if fails else 0)
EOF
}
