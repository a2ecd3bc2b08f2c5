#!/usr/bin/env bash
# Median wall time of `svcgen new` for the fullest stack the templates offer, measured with
# hyperfine: without `go mod tidy` (target: 20 ms or less) and with tidy on a warm module cache
# (target: under 2 s). Prints hyperfine's table and one "median" line per case.
# Usage: scripts/bench-generate.sh [RUNS]   (default 30 runs without tidy, 5 with)
# The output goes under $TMPDIR (mktemp). Measure on a settled file system: on ext4, a directory
# whose block group has just seen thousands of files deleted (right after `go test ./...`) creates
# files several times slower for some minutes — perf shows the time in the kernel's inode
# allocator (find_inode_bit, recently_deleted), not in svcgen.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; } >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/svcgen" ./cmd/svcgen

# The fullest stack: the first non-"none" choice of every group, from the binary itself.
flags=()
for group in framework database cache broker metrics ci deploy; do
  choice=$("$work/svcgen" __complete new --"$group" "" 2>/dev/null | grep -v '^:' | grep -vx none | head -1 || true)
  [ -n "$choice" ] && flags+=(--"$group" "$choice")
done
echo "stack: ${flags[*]}"

# Warm the module cache once so the tidy case measures tidy, not downloads.
"$work/svcgen" new bench-svc -y "${flags[@]}" -o "$work/warm" >/dev/null 2>&1

# Flush what the build and the warm-up wrote: its writeback would otherwise run during the
# first measurements and be counted as svcgen's.
sync

# Between runs the last tree is moved aside, not deleted: deleting ~80 files right before a run
# (ext4 with discard here) slows the next run's writes and would be measured as svcgen's.
prepare=(--prepare "sh -c 'mv $work/out $work/old.\$(date +%s%N) 2>/dev/null; true'")
bench() { # name, hyperfine args...
  local name=$1; shift
  hyperfine --style basic --export-json "$work/$name.json" "$@" >&2
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('median %s: %.1f ms (mean %.1f ms, min %.1f ms, %d runs)' % (sys.argv[2], r['median']*1e3, r['mean']*1e3, r['min']*1e3, len(r['times'])))" "$work/$name.json" "$name"
}
bench no-tidy -N --warmup 3 --runs "$runs" "${prepare[@]}" \
  "$work/svcgen new bench-svc -y ${flags[*]} --no-tidy -o $work/out"
bench tidy -N --warmup 1 --runs "$(( runs < 5 ? runs : 5 ))" "${prepare[@]}" \
  "$work/svcgen new bench-svc -y ${flags[*]} -o $work/out"
