#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (nightly toolchain), each for FUZZ_SECONDS (default 180), seeded from the
# project's fixtures, and prints the executions each made. A crash stops with the input in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                      # every target, 3 minutes each
#   FUZZ_SECONDS=30 scripts/fuzz.sh csv_reader german_values
#
# Needs: rustup's nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-180}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(allris_page oparl_normalise funding_xml csv_reader german_values)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

seed() {
  local target=$1; shift
  local dir=fuzz/corpus/$target
  mkdir -p "$dir"
  for file in "$@"; do
    [ -f "$file" ] || continue
    local name
    name=$(echo "$file" | tr '/' '_')
    if [ "$target" = allris_page ]; then
      # The first byte picks the page address (the page kind): 0 = vo020 … 4 = si010.
      for kind in 0 1 2 3 4; do
        { printf "\\x$(printf %02x "$kind")"; cat "$file"; } > "$dir/$kind-$name"
      done
    else
      cp "$file" "$dir/$name"
    fi
  done
}

seed allris_page connectors/testdata/allris/*/*/*.html config/demo/allris/*/*.html
seed oparl_normalise connectors/testdata/oparl/*.json connectors/testdata/oparl/*.broken_json
seed funding_xml config/demo/*.xml
seed csv_reader config/demo/*.csv connectors/testdata/spreadsheet/*.csv
mkdir -p fuzz/corpus/german_values
i=0
for value in "1.234,56 €" "245.341 €" "-12,5" "01.10.2019" "2019-10-01" "1.10.19" "31.02.2020" "1e308" \
  "99999999999999999999" "EUR 1.000.000,00" "0,005" "12.345" "1,234.56" "ca. 30.000 EUR"; do
  printf '%s' "$value" > "fuzz/corpus/german_values/seed-$i"; i=$((i + 1))
done

total=0
for target in "${targets[@]}"; do
  echo "==> $target: $seconds s"
  log=fuzz/artifacts/$target.log
  mkdir -p fuzz/artifacts
  (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=262144 \
    -rss_limit_mb=2048 -print_final_stats=1) > "$log" 2>&1 || { tail -n 60 "$log"; echo "$target FAILED"; exit 1; }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  echo "$target: ${runs:-?} executions, no crash"
  total=$((total + ${runs:-0}))
done
echo "all targets: $total executions"
