#!/usr/bin/env bash
# Coverage-guided fuzzing of the entra-* crates (docs/fuzzing.md): builds every target of fuzz/
# once (one cargo invocation), then runs each for the given number of seconds (default 20) on a
# fresh copy of its seeds (fuzz/seeds/<target>). Fails when any target crashes, leaks or hangs;
# the input that did it is kept in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh          # 20 s per target
#   scripts/fuzz.sh 600      # 10 minutes per target
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed; installing"
  cargo install cargo-fuzz --locked
fi

# cargo fuzz passes libFuzzer's instrumentation flags, which the stable compiler accepts only
# with this switch; `-s none`: no sanitizer (Rust code without unsafe; the C parts are aws-lc's).
export RUSTC_BOOTSTRAP=1
target_dir="$PWD/fuzz/target"
cargo fuzz build -s none -O --target-dir "$target_dir"
bin="$target_dir/$(rustc -vV | sed -n 's/^host: //p')/release"

failed=()
for target in $(cargo fuzz list); do
  corpus="fuzz/corpus/$target"
  artifacts="fuzz/artifacts/$target"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  cp fuzz/seeds/"$target"/* "$corpus"/
  echo "== fuzz $target (${seconds} s)"
  if "$bin/$target" "$corpus" -max_total_time="$seconds" -timeout=10 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 2>"fuzz/artifacts/$target.log"; then
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
      "fuzz/artifacts/$target.log" || true
  else
    tail -n 40 "fuzz/artifacts/$target.log"
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing found crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: every target ran ${seconds} s without a crash"
