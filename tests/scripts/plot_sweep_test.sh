#!/usr/bin/env bash
# Tests scripts/plot_sweep.py on tests/data/sweep_sample.csv (10 ok points, 4 of them Pareto-optimal,
# 1 failed, 1 skipped). Usage: plot_sweep_test.sh [REPO_ROOT]. Prints each failed check; exits 1
# if any failed. Needs Debian's python3-matplotlib and python3-pandas (scripts/setup).
set -uo pipefail

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
script="$root/scripts/plot_sweep.py"
sample="$root/tests/data/sweep_sample.csv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A private matplotlib config/cache dir: no user matplotlibrc, no writes to $HOME.
export MPLCONFIGDIR="$tmp/mplconfig"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run NAME ARGS...: runs the script, leaving stdout/stderr in $tmp/NAME.out/.err and status in $rc.
run() {
  local name=$1; shift
  "$script" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  rc=$?
}

expect_ok() {  # expect_ok NAME PNG: exit 0, a PNG of the fixed 800x600 size, no traceback.
  local name=$1 png=$2
  [ "$rc" -eq 0 ] || { fail "$name: exit $rc, expected 0: $(cat "$tmp/$name.err")"; return; }
  grep -q Traceback "$tmp/$name.err" && fail "$name: traceback on stderr"
  [ -s "$png" ] || { fail "$name: $png missing or empty"; return; }
  [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "$name: $png does not start with the PNG signature"
  # IHDR width and height (big-endian) at bytes 16..23: 8x6 in at 100 dpi.
  [ "$(od -An -tu1 -j16 -N8 "$png" | tr -s ' ' | sed 's/^ //')" = "0 0 3 32 0 0 2 88" ] ||
    fail "$name: $png is not 800x600"
  # No matplotlib version stamp, so the bytes do not change with the installed matplotlib.
  grep -aq "Matplotlib version" "$png" && fail "$name: $png carries matplotlib's version"
}

expect_text() {  # expect_text NAME SVG TEXT...: each TEXT is drawn (matplotlib's SVGs name each text).
  local name=$1 svg=$2; shift 2
  for text in "$@"; do
    grep -qF -- "<!-- $text -->" "$svg" || fail "$name: '$text' not drawn in $svg"
  done
}

expect_error() {  # expect_error NAME REGEX: exit 2, one 'plot_sweep: error:' line matching REGEX.
  local name=$1 regex=$2 err="$tmp/$1.err"
  [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2"
  grep -q Traceback "$err" && fail "$name: traceback on stderr"
  [ "$(wc -l <"$err")" -eq 1 ] || fail "$name: expected one line on stderr, got: $(cat "$err")"
  grep -Eq "^plot_sweep: error: .*$regex" "$err" ||
    fail "$name: stderr does not match '$regex': $(cat "$err")"
}

xy=(-x area_mm2 -y tokens_per_second)
summary="10 points, 4 Pareto-optimal; not shown: 1 failed, 1 skipped"

run help --help
if [ "$rc" -ne 0 ] || ! grep -q -- "--pareto" "$tmp/help.out"; then
  fail "help: exit $rc or no mention of --pareto"
fi

run plain "$sample" "${xy[@]}" -o "$tmp/plain.png"
expect_ok plain "$tmp/plain.png"
grep -qF "$summary" "$tmp/plain.out" || fail "plain: stdout lacks '$summary': $(cat "$tmp/plain.out")"
# (Only our own lines: matplotlib may say it is building its font cache on this first run.)
grep -q "^plot_sweep:" "$tmp/plain.err" && fail "plain: unexpected note: $(cat "$tmp/plain.err")"

# Default output: RESULTS.csv -> RESULTS.png beside it.
cp "$sample" "$tmp/results.csv"
run default "$tmp/results.csv" "${xy[@]}"
expect_ok default "$tmp/results.png"

run color_str "$sample" "${xy[@]}" --color run.phase --label-front -o "$tmp/color_str.png"
expect_ok color_str "$tmp/color_str.png"
run color_num "$sample" "${xy[@]}" --color arch.core.matrix.rows --logy -o "$tmp/color_num.png"
expect_ok color_num "$tmp/color_num.png"
cmp -s "$tmp/plain.png" "$tmp/color_str.png" && fail "color_str: image identical to the uncoloured one"
cmp -s "$tmp/plain.png" "$tmp/color_num.png" && fail "color_num: image identical to the uncoloured one"
cmp -s "$tmp/color_str.png" "$tmp/color_num.png" && fail "color_num: image identical to color_str"

# What is drawn, read from SVGs: labels with units, subtitle, legend entries, colour bar, front labels.
run svg_str "$sample" "${xy[@]}" --color run.phase --label-front -o "$tmp/str.svg"
[ "$rc" -eq 0 ] || fail "svg_str: exit $rc: $(cat "$tmp/svg_str.err")"
expect_text svg_str "$tmp/str.svg" "area_mm2 [mm²]" "tokens_per_second [/s]" \
  "tokens_per_second vs area_mm2" \
  "10 points from sweep_sample.csv; not shown: 1 failed, 1 skipped" "Pareto-optimal (4)" \
  "run.phase = decode" "run.phase = prefill" "#5: rows=128, capacity_mib=32, phase=prefill"
grep -qF "#7:" "$tmp/str.svg" && fail "svg_str: labelled point 7, which is not Pareto-optimal"
run svg_num "$sample" -x step_seconds -y energy_j --color arch.core.matrix.rows --title "My title" \
  -o "$tmp/num.svg"
[ "$rc" -eq 0 ] || fail "svg_num: exit $rc: $(cat "$tmp/svg_num.err")"
expect_text svg_num "$tmp/num.svg" "step_seconds [s]" "energy_j [J]" "My title" "arch.core.matrix.rows"
grep -qF "arch.core.matrix.rows = " "$tmp/num.svg" &&
  fail "svg_num: numeric colour column shown as categories"

# Determinism: the same command twice gives the same bytes.
for i in 1 2; do
  run "det$i" "$sample" -x mfu -y tokens_per_joule --color energy_j --logx --label-front --title T \
    -o "$tmp/det$i.png"
  expect_ok "det$i" "$tmp/det$i.png"
done
cmp -s "$tmp/det1.png" "$tmp/det2.png" || fail "determinism: two runs gave different PNGs"

run unknown "$sample" -x area_mm -y tokens_per_second -o "$tmp/unknown.png"
expect_error unknown "unknown column 'area_mm'.*did you mean 'area_mm2'"
[ -e "$tmp/unknown.png" ] && fail "unknown: wrote an image anyway"

run non_numeric "$sample" -x area_mm2 -y run.phase -o "$tmp/non_numeric.png"
expect_error non_numeric "'run.phase'.*not numeric"

run missing "$tmp/no_such.csv" -x area_mm2 -y tokens_per_second
expect_error missing "no such file: .*no_such.csv"

# An ok row without a value for x (area_mm2, column 10) is left out and counted.
awk -F, -v OFS=, '$1 == 7 { $10 = "" } 1' "$sample" >"$tmp/hole.csv"
run hole "$tmp/hole.csv" "${xy[@]}" -o "$tmp/hole.png"
expect_ok hole "$tmp/hole.png"
grep -qF "9 points, 4 Pareto-optimal; not shown: 1 failed, 1 skipped, 1 ok without area_mm2" \
  "$tmp/hole.out" ||
  fail "hole: stdout: $(cat "$tmp/hole.out")"

grep -v ',ok,' "$sample" >"$tmp/no_ok.csv"
run no_ok "$tmp/no_ok.csv" "${xy[@]}" -o "$tmp/no_ok.png"
expect_error no_ok "no rows with status ok.*1 failed, 1 skipped"

# Without the pareto column (the last one): still a plot, plus a note on how to get the front.
sed 's/,[^,]*$//' "$sample" >"$tmp/no_pareto.csv"
head -1 "$tmp/no_pareto.csv" | grep -q pareto && fail "no_pareto: test set-up left the pareto column"
run no_pareto "$tmp/no_pareto.csv" "${xy[@]}" -o "$tmp/no_pareto.png"
expect_ok no_pareto "$tmp/no_pareto.png"
grep -q "^plot_sweep: note: .*no 'pareto' column.*--pareto x=" "$tmp/no_pareto.err" ||
  fail "no_pareto: no note about --pareto on stderr: $(cat "$tmp/no_pareto.err")"
grep -qF "10 points, 0 Pareto-optimal" "$tmp/no_pareto.out" ||
  fail "no_pareto: stdout: $(cat "$tmp/no_pareto.out")"
cmp -s "$tmp/plain.png" "$tmp/no_pareto.png" && fail "no_pareto: image identical to the one with a front"

if ((failures)); then
  echo "plot_sweep_test: $failures check(s) failed"
  exit 1
fi
echo "plot_sweep_test: all checks passed"
