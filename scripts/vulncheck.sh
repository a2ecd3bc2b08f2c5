#!/usr/bin/env bash
# Scans generated services with govulncheck against an OFFLINE Go vulnerability database, built
# from the golang.org/x/vulndb module (fetched through the Go module proxy like any module, so no
# access to vuln.go.dev is needed).
#
# Usage: scripts/vulncheck.sh [DIR...]
#   DIR...  Go modules to scan. Without any, four full-stack services (one per framework, with
#           postgres/redis/kafka/prometheus where `svcgen new` accepts them) are generated into a
#           temporary directory and scanned.
#
# Each module gets a symbol scan (`govulncheck ./...`: vulnerable code the service can reach,
# printed as govulncheck prints it) and module-level checks (every advisory for any required
# module, reachable or not: `govulncheck -scan package -test ./...` for the modules that provide
# packages, plus the whole `go list -m all` build list checked against the same database).
#   exit 0  none of those (advisories for the standard library, fixed only by a newer Go, and
#           for modules that are only in the module graph are listed apart and do not fail)
#   exit 1  an advisory in a non-standard-library module that provides a package to ./... or its
#           tests, or that the service's go.mod requires (with SVCGEN_VULNCHECK_STRICT=1 also one
#           with a fix in a module that is only in the module graph)
#   exit 2  usage error, or a tool, generation or scan failure (results incomplete)
#
# Environment:
#   SVCGEN_VULNDB_VERSION       golang.org/x/vulndb version (default: latest; when the proxy cannot
#                               be asked, the newest database already in the cache is used)
#   SVCGEN_GOVULNCHECK_VERSION  golang.org/x/vuln version (default: the pin below)
#   SVCGEN_VULNCHECK_KEEP=1     keep the temporary directory (generated services, raw outputs)
#   SVCGEN_VULNCHECK_STRICT=1   also fail on fixable advisories in graph-only modules
#   XDG_CACHE_HOME              the database is cached in ${XDG_CACHE_HOME:-$HOME/.cache}/svcgen/vulndb/<version>
set -euo pipefail

GOVULNCHECK_VERSION=${SVCGEN_GOVULNCHECK_VERSION:-v1.9.0}
XMOD_VERSION=v0.42.0 # golang.org/x/mod, for semver in vulnhelper below
VULNDB_QUERY=${SVCGEN_VULNDB_VERSION:-latest}
CACHE_ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/svcgen/vulndb

log() { echo "vulncheck.sh: $*" >&2; }
die() { log "error: $*"; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac

command -v go >/dev/null || die "go is not on PATH"
REPO=$(cd "$(dirname "$0")/.." && pwd)
GOVERSION=$(go env GOVERSION)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/svcgen-vulncheck.XXXXXX")
cleanup() { # shellcheck disable=SC2317 # (called from the EXIT trap)
  if [ "${SVCGEN_VULNCHECK_KEEP:-}" = 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
mkdir -p "$tmp/bin" "$tmp/out"
# Tool installs and module look-ups run outside any module so that they never touch a go.mod.
# When the module proxy cannot be reached, they retry from the local module cache alone (a
# file:// GOPROXY; checksums are still verified against go.sum/the checksum database as usual).
gotool() { (cd "$tmp" && GOWORK=off go "$@"); }
gotool_cached() {
  (cd "$tmp" && GOWORK=off GOPROXY="file://$(go env GOMODCACHE)/cache/download" go "$@")
}
gotool_retry() { # for commands whose stdout does not matter
  gotool "$@" && return 0
  log "warning: 'go $*' failed; retrying from the local module cache only"
  gotool_cached "$@"
}

# Resolve DIR arguments to absolute paths before anything else, so a typo fails fast.
dirs=()
for d in "$@"; do
  [ -f "$d/go.mod" ] || die "$d: no go.mod (each DIR must be the root of a Go module)"
  dirs+=("$(cd "$d" && pwd)")
done

# ---------------------------------------------------------------------------------------------
# 1. govulncheck, pinned, into a temporary GOBIN (about a second once the build cache has it).
t=$(now)
log "installing golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
GOBIN="$tmp/bin" gotool_retry install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" >&2 ||
  die "go install govulncheck@$GOVULNCHECK_VERSION failed"
GOVULNCHECK=$tmp/bin/govulncheck
log "govulncheck ready ($(since "$t"))"

# ---------------------------------------------------------------------------------------------
# 2. The offline vulnerability database.
#    The vulndb module ships every report twice: data/reports/*.yaml (the source) and
#    data/osv/*.json (the same reports already converted to OSV by its own tooling). Its
#    cmd/gendb converts YAML itself but needs the module as a git checkout (it reads commit
#    times), which a module zip is not; cmd/indexdb takes a folder of OSV JSON files
#    (-vulns DIR) and writes a v1 database (-out DIR: index/{db,modules,vulns}.json plus
#    ID/GO-*.json, each also gzipped), which is what `govulncheck -db file:///DIR` reads.
#    So: indexdb -vulns <vulndb>/data/osv -out <cache>.
#    The OSV files in the module carry a zero "modified" time (gendb fills it in from git), so
#    index/db.json is rewritten with the vulndb commit time to make govulncheck's "DB updated"
#    line meaningful; nothing else reads it for a file:// database.
t=$(now)
vulndb_version=
vulndb_dir=
vulndb_time=
# Offline, "latest" becomes the newest version in the local module cache.
if dl=$(gotool mod download -json "golang.org/x/vulndb@$VULNDB_QUERY" 2>"$tmp/vulndb-download.err") ||
  { log "warning: cannot ask the module proxy for golang.org/x/vulndb@$VULNDB_QUERY; trying the local module cache only"
    dl=$(gotool_cached mod download -json "golang.org/x/vulndb@$VULNDB_QUERY" 2>>"$tmp/vulndb-download.err"); }; then
  field() { printf '%s\n' "$dl" | sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" | head -1; }
  vulndb_version=$(field Version)
  vulndb_dir=$(field Dir)
  info=$(field Info)
  if [ -z "$vulndb_version" ] || [ ! -d "$vulndb_dir/data/osv" ]; then
    die "unexpected 'go mod download' answer for golang.org/x/vulndb@$VULNDB_QUERY: $dl"
  fi
  vulndb_time=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info" 2>/dev/null || true)
  log "golang.org/x/vulndb@$VULNDB_QUERY is $vulndb_version${vulndb_time:+ (committed $vulndb_time)}"
else
  cat "$tmp/vulndb-download.err" >&2
  # Offline fallback: the newest database already built (pseudo-versions sort by time).
  vulndb_version=$(for d in "$CACHE_ROOT"/v*/; do
    [ -f "$d.complete" ] && basename "$d"; done | sort | tail -1 || true)
  [ -n "$vulndb_version" ] || die "cannot download golang.org/x/vulndb@$VULNDB_QUERY and no database is cached in $CACHE_ROOT"
  log "warning: cannot download golang.org/x/vulndb@$VULNDB_QUERY; using the cached database $vulndb_version"
fi

DB=$CACHE_ROOT/$vulndb_version
if [ -f "$DB/.complete" ] && [ -f "$DB/index/modules.json" ]; then
  log "using cached vulnerability database $DB ($(cat "$DB/.complete"))"
else
  [ -n "$vulndb_dir" ] || die "no source for golang.org/x/vulndb@$vulndb_version"
  log "building the vulnerability database for golang.org/x/vulndb@$vulndb_version into $DB"
  log "installing golang.org/x/vulndb/cmd/indexdb@$vulndb_version (first time: ~30s of compiling)"
  GOBIN="$tmp/bin" gotool_retry install "golang.org/x/vulndb/cmd/indexdb@$vulndb_version" >&2 ||
    die "go install golang.org/x/vulndb/cmd/indexdb@$vulndb_version failed"
  mkdir -p "$CACHE_ROOT"
  build=$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")
  # Remove a half-built database if anything below fails.
  trap 'rm -rf "$build"; cleanup' EXIT
  "$tmp/bin/indexdb" -vulns "$vulndb_dir/data/osv" -out "$build" >&2 || die "indexdb failed"
  n_osv=$(find "$vulndb_dir/data/osv" -name 'GO-*.json' | wc -l)
  n_db=$(find "$build/ID" -name 'GO-*.json' | wc -l)
  if [ "$n_osv" -eq 0 ] || [ "$n_osv" -ne "$n_db" ]; then
    die "database has $n_db entries, data/osv has $n_osv"
  fi
  if [ -n "$vulndb_time" ]; then
    printf '{"modified":"%s"}' "$vulndb_time" >"$build/index/db.json"
    gzip -n -c "$build/index/db.json" >"$build/index/db.json.gz"
  fi
  echo "$n_db advisories, golang.org/x/vulndb@$vulndb_version, built $(date -u +%FT%TZ) by cmd/indexdb" >"$build/.complete"
  chmod 755 "$build"
  # Publish atomically; a concurrent run may have won the race, which is fine.
  [ -f "$DB/.complete" ] || rm -rf "$DB" # leftovers of an interrupted older layout
  if ! mv -T "$build" "$DB" 2>/dev/null; then
    rm -rf "$build"
    [ -f "$DB/.complete" ] || die "could not move the database into $DB"
  fi
  trap cleanup EXIT
  log "built $DB: $(cat "$DB/.complete")"
fi
log "vulnerability database ready ($(since "$t"))"
DBURL=file://$DB

# ---------------------------------------------------------------------------------------------
# 3. vulnhelper: reads govulncheck's JSON and checks the build list (go list -m all) against the
#    same database, with govulncheck's matching rules (see its doc comment). Go only, so the
#    script needs nothing that a Go machine does not have (no jq).
mkdir -p "$tmp/vulnhelper"
printf 'module vulnhelper\n\ngo 1.26\n\nrequire golang.org/x/mod %s\n' "$XMOD_VERSION" >"$tmp/vulnhelper/go.mod"
cat >"$tmp/vulnhelper/main.go" <<'EOF'
// Command vulnhelper is the part of scripts/vulncheck.sh that reads JSON.
//
//	vulnhelper report DBDIR SCAN.json GOMOD.json < $(go list -m -json all)
//
// SCAN.json is the output of `govulncheck -format json -scan package -test ./...`, GOMOD.json
// that of `go mod edit -json` (the service's own requirements). The build
// list (go list -m -json all) is checked against the v1 database in DBDIR (index/modules.json,
// ID/*.json) the way govulncheck matches a module version in source mode: withdrawn entries
// skipped, SEMVER ranges, the earliest fix that is not itself affected.
//
// Output: one tab-separated line per distinct (advisory, module): class, advisory, module,
// version, fixed version, summary; then "count<TAB>N" (modules in the build list). class is
//
//	stdlib  the standard library (or the go command): fixed by a newer Go
//	built   a module that provides a package to ./... or its tests (govulncheck's finding)
//	listed  a module no package of which is built, but which the service's go.mod requires
//	        (go mod tidy keeps it, e.g. for the tests of a dependency), so it can be raised there
//	graph   a module only in the module graph, through the go.mod files of other modules
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

func main() {
	if len(os.Args) != 5 || os.Args[1] != "report" {
		fmt.Fprintln(os.Stderr, "usage: vulnhelper report DBDIR SCAN.json GOMOD.json < go-list-m-json-all")
		os.Exit(2)
	}
	if err := report(os.Args[2], os.Args[3], os.Args[4], os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "vulnhelper:", err)
		os.Exit(1)
	}
}

type line struct{ class, id, module, found, fixed, summary string }

func emit(lines []line) {
	sort.Slice(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if a.class != b.class {
			return a.class < b.class
		}
		if a.id != b.id {
			return a.id < b.id
		}
		return a.module < b.module
	})
	for _, l := range lines {
		if l.fixed == "" {
			l.fixed = "(no fixed version)"
		}
		fmt.Printf("%s\t%s\t%s\t%s\t%s\t%s\n", l.class, l.id, l.module, l.found, l.fixed, oneLine(l.summary))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// goVersion turns the semver form used for the standard library (v1.26.9) into go1.26.9.
func goVersion(v string) string {
	if strings.HasPrefix(v, "v") {
		return "go" + v[1:]
	}
	return v
}

// scanFindings reads govulncheck's JSON stream: its findings (at module level: the first frame
// of each trace) and the modules of the packages it loaded (the SBOM message).
func scanFindings(r io.Reader) ([]line, map[string]bool, error) {
	type message struct {
		OSV *struct {
			ID      string `json:"id"`
			Summary string `json:"summary"`
		} `json:"osv"`
		SBOM *struct {
			Modules []struct {
				Path string `json:"path"`
			} `json:"modules"`
		} `json:"SBOM"`
		Finding *struct {
			OSV   string `json:"osv"`
			Fixed string `json:"fixed_version"`
			Trace []struct {
				Module  string `json:"module"`
				Version string `json:"version"`
			} `json:"trace"`
		} `json:"finding"`
	}
	dec := json.NewDecoder(r)
	summaries := map[string]string{}
	seen := map[string]bool{}
	var lines []line
	built := map[string]bool{}
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("reading govulncheck JSON: %v", err)
		}
		if m.SBOM != nil {
			for _, mod := range m.SBOM.Modules {
				built[mod.Path] = true
			}
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		if m.Finding == nil || len(m.Finding.Trace) == 0 {
			continue
		}
		f, t := m.Finding, m.Finding.Trace[0]
		l := line{class: "built", id: f.OSV, module: t.Module, found: t.Version, fixed: f.Fixed}
		if t.Module == "stdlib" || t.Module == "toolchain" {
			l.class, l.found, l.fixed = "stdlib", goVersion(l.found), goVersion(l.fixed)
		}
		if key := l.id + "\x00" + l.module; !seen[key] {
			seen[key] = true
			lines = append(lines, l)
		}
	}
	for i := range lines {
		lines[i].summary = summaries[lines[i].id]
	}
	return lines, built, nil
}

type event struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

type semverRange struct {
	Type   string  `json:"type"`
	Events []event `json:"events"`
}

type affected struct {
	Package struct {
		Name string `json:"name"`
	} `json:"package"`
	Ranges []semverRange `json:"ranges"`
}

type entry struct {
	ID        string     `json:"id"`
	Summary   string     `json:"summary"`
	Withdrawn *time.Time `json:"withdrawn"`
	Affected  []affected `json:"affected"`
}

func report(db, scanFile, gomodFile string, golist io.Reader) error {
	b, err := os.ReadFile(gomodFile)
	if err != nil {
		return err
	}
	var gomod struct {
		Require []struct{ Path string }
	}
	if err := json.Unmarshal(b, &gomod); err != nil {
		return fmt.Errorf("%s: %v", gomodFile, err)
	}
	listed := map[string]bool{}
	for _, r := range gomod.Require {
		listed[r.Path] = true
	}

	f, err := os.Open(scanFile)
	if err != nil {
		return err
	}
	defer f.Close()
	lines, built, err := scanFindings(f)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l.id+"\x00"+l.module] = true
	}

	b, err = os.ReadFile(filepath.Join(db, "index", "modules.json"))
	if err != nil {
		return err
	}
	var index []struct {
		Path  string `json:"path"`
		Vulns []struct {
			ID string `json:"id"`
		} `json:"vulns"`
	}
	if err := json.Unmarshal(b, &index); err != nil {
		return fmt.Errorf("modules.json: %v", err)
	}
	ids := map[string][]string{}
	for _, m := range index {
		for _, v := range m.Vulns {
			ids[m.Path] = append(ids[m.Path], v.ID)
		}
	}

	type module struct {
		Path    string
		Version string
		Main    bool
		Replace *struct{ Path, Version string }
	}
	dec := json.NewDecoder(golist)
	count := 0
	for {
		var m module
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("reading go list -m -json all: %v", err)
		}
		if m.Main {
			continue
		}
		path, version := m.Path, m.Version
		if m.Replace != nil {
			// As govulncheck: advisories are looked up under the module path and
			// matched against the version actually used.
			version = m.Replace.Version
			if m.Replace.Version != "" {
				path = m.Replace.Path
			}
		}
		if version == "" || version == "(devel)" { // a local directory: no version to match
			continue
		}
		count++
		for _, id := range ids[path] {
			var e entry
			b, err := os.ReadFile(filepath.Join(db, "ID", id+".json"))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &e); err != nil {
				return fmt.Errorf("%s: %v", id, err)
			}
			if e.Withdrawn != nil && e.Withdrawn.Before(time.Now()) {
				continue
			}
			var mine []affected
			hit := false
			for _, a := range e.Affected {
				if a.Package.Name != path {
					continue
				}
				mine = append(mine, a)
				if affects(a.Ranges, version) {
					hit = true
				}
			}
			if key := id + "\x00" + path; hit && !seen[key] {
				seen[key] = true
				class := "graph"
				if built[path] {
					class = "built"
				} else if listed[m.Path] {
					class = "listed"
				}
				lines = append(lines, line{class, id, path, version, earliestFix(version, mine), e.Summary})
			}
		}
	}
	emit(lines)
	fmt.Printf("count\t%d\n", count)
	return nil
}

func canon(v string) string { return "v" + strings.TrimPrefix(strings.TrimPrefix(v, "go"), "v") }

func affects(ranges []semverRange, v string) bool {
	present := false
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		present = true
		if contains(r, v) {
			return true
		}
	}
	return !present // no SEMVER range: every version
}

func contains(r semverRange, v string) bool {
	if len(r.Events) == 0 {
		return true
	}
	v = canon(v)
	events := append([]event(nil), r.Events...)
	key := func(e event) string {
		if e.Fixed != "" {
			return canon(e.Fixed)
		}
		return canon(e.Introduced)
	}
	sort.SliceStable(events, func(i, j int) bool {
		if events[i].Introduced == "0" {
			return true
		}
		if events[j].Introduced == "0" {
			return false
		}
		return semver.Compare(key(events[i]), key(events[j])) < 0
	})
	in := false
	for _, e := range events {
		if !in && e.Introduced != "" {
			in = e.Introduced == "0" || semver.Compare(v, canon(e.Introduced)) >= 0
		} else if in && e.Fixed != "" {
			in = semver.Compare(v, canon(e.Fixed)) < 0
		}
	}
	return in
}

// earliestFix is the lowest fixed version above v that is not itself affected.
func earliestFix(v string, aff []affected) string {
	var fixes []string
	for _, a := range aff {
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" {
				continue
			}
			for _, e := range r.Events {
				if e.Fixed != "" && semver.Compare(canon(v), canon(e.Fixed)) < 0 {
					fixes = append(fixes, canon(e.Fixed))
				}
			}
		}
	}
	sort.SliceStable(fixes, func(i, j int) bool { return semver.Compare(fixes[i], fixes[j]) < 0 })
	for _, f := range fixes {
		negated := false
		for _, a := range aff {
			for _, r := range a.Ranges {
				if r.Type == "SEMVER" && contains(r, f) {
					negated = true
				}
			}
		}
		if !negated {
			return f
		}
	}
	return ""
}
EOF
build_helper() { (cd "$tmp/vulnhelper" && GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -o "$tmp/bin/vulnhelper" .) >&2; }
build_helper || GOPROXY="file://$(go env GOMODCACHE)/cache/download" build_helper || die "could not build vulnhelper"

# ---------------------------------------------------------------------------------------------
# 4. Without DIR arguments: generate the two full-stack services with this repo's CLI.
gen_service() { # NAME FRAMEWORK OUTDIR
  local name=$1 fw=$2 out=$3 kv f v
  local -a want=(database=postgres cache=redis broker=kafka metrics=prometheus) dropped=() keep args rejected
  for _ in 1 2 3 4 5; do
    args=(new "$name" -y --framework "$fw" -o "$out")
    for kv in "${want[@]}"; do args+=("--${kv%%=*}" "${kv#*=}"); done
    rm -rf "$out"
    log "svcgen ${args[*]}"
    if "$tmp/bin/svcgen" "${args[@]}" </dev/null >"$tmp/gen-$name.log" 2>&1; then
      if [ "${#dropped[@]}" -gt 0 ]; then
        local used="--framework $fw"
        for kv in ${want[@]+"${want[@]}"}; do used+=" --${kv%%=*} ${kv#*=}"; done
        log "WARNING: $name: 'svcgen new' does not accept ${dropped[*]} (dropped); generated with: $used"
      fi
      return 0
    fi
    # Which of the optional choices did it reject (unknown flag, or a value it does not allow)?
    rejected=() keep=()
    for kv in "${want[@]}"; do
      f=${kv%%=*} v=${kv#*=}
      if grep -Eq -- "unknown flag: --$f( |\$)" "$tmp/gen-$name.log" ||
        grep -F -- "\"$v\"" "$tmp/gen-$name.log" | grep -F -- "$f" | grep -Eqi 'not valid|invalid|unknown|not allowed|allowed values|unsupported|not supported'; then
        rejected+=("--$f $v")
      else
        keep+=("$kv")
      fi
    done
    if [ "${#rejected[@]}" -eq 0 ]; then
      cat "$tmp/gen-$name.log" >&2
      log "error: 'svcgen new' failed for $name (see above)"
      return 1
    fi
    dropped+=("${rejected[@]}")
    log "$name: 'svcgen new' rejects ${rejected[*]}; retrying without"
    want=(${keep[@]+"${keep[@]}"})
  done
  return 1
}

if [ "${#dirs[@]}" -eq 0 ]; then
  t=$(now)
  log "building svcgen from $REPO"
  (cd "$REPO" && go build -o "$tmp/bin/svcgen" ./cmd/svcgen) || die "could not build ./cmd/svcgen"
  for fw in gin echo stdlib chi; do
    gen_service "vc-$fw" "$fw" "$tmp/vc-$fw" || die "could not generate the $fw service"
    dirs+=("$tmp/vc-$fw")
  done
  log "services generated ($(since "$t"))"
fi

# ---------------------------------------------------------------------------------------------
# 5. Scan each module:
#    a. govulncheck ./...                         symbol scan, printed as govulncheck prints it
#    b. govulncheck -scan package -test -format json ./...
#                                                 every module that provides a package to ./... or
#                                                 its tests, at module level: an advisory counts
#                                                 whether or not the vulnerable code is reachable
#    c. go list -m -json all | vulnhelper         the whole build list, also modules none of whose
#                                                 packages is built: those the service's go.mod
#                                                 requires anyway ("listed": tidy keeps them for
#                                                 the tests of a dependency) and those only in the
#                                                 module graph
#    govulncheck's own `-scan module` is not used: in source mode it takes no patterns and loads
#    only the package in the module root, so it fails ("no Go files") on a service whose main
#    package is cmd/NAME and would miss everything else; (b) + (c) cover what it was meant to.
#    Verdict: any advisory for a built or listed module fails (a listed one can be raised in
#    go.mod, as generator.Versions does). A graph-only module is shown but does not fail (unless
#    SVCGEN_VULNCHECK_STRICT=1 and a fix exists): none of its code is compiled, and it cannot be
#    raised for good either, since `go mod tidy` drops a requirement that nothing needs.
#    Standard-library advisories are listed apart and never fail.
strict=${SVCGEN_VULNCHECK_STRICT:-0}
status=0
errors=0
n_fail_total=0
declare -A stdlib_seen=()
stdlib_all=
show() { awk -F'\t' '{ printf "  %-14s %s@%s  fixed in %s  %s\n", $2, $3, $4, $5, $6 }'; }
plural() { [ "$1" = 1 ] && echo "$1 advisory" || echo "$1 advisories"; }
for dir in "${dirs[@]}"; do
  base=$(basename "$dir")
  raw=$tmp/out/$(printf '%s' "$dir" | tr '/' '_')

  echo
  echo "==> $dir: govulncheck ./... (symbol scan: vulnerable code the service can reach)"
  t=$(now)
  rc=0
  "$GOVULNCHECK" -db "$DBURL" -C "$dir" ./... >"$raw.symbol.txt" 2>&1 || rc=$?
  cat "$raw.symbol.txt"
  log "$base: symbol scan exit $rc ($(since "$t"))"
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then # 3 = vulnerabilities found
    log "error: $base: govulncheck ./... failed (exit $rc)"
    errors=$((errors + 1))
  fi

  t=$(now)
  rc=0
  "$GOVULNCHECK" -db "$DBURL" -C "$dir" -scan package -test -format json ./... >"$raw.package.json" 2>"$raw.package.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$raw.package.err" >&2
    log "error: $base: govulncheck -scan package -test -format json ./... failed (exit $rc)"
    errors=$((errors + 1))
    continue
  fi
  rc=0
  (cd "$dir" && go list -m -json all && go mod edit -json >"$raw.gomod.json") >"$raw.golist.json" 2>"$raw.golist.err" || rc=$?
  if [ "$rc" -ne 0 ] || ! "$tmp/bin/vulnhelper" report "$DB" "$raw.package.json" "$raw.gomod.json" <"$raw.golist.json" >"$raw.report.tsv"; then
    cat "$raw.golist.err" >&2
    log "error: $base: could not check the build list (go list -m -json all exit $rc)"
    errors=$((errors + 1))
    continue
  fi
  log "$base: module-level checks done ($(since "$t"))"

  n_mods=$(awk -F'\t' '$1 == "count" { print $2 }' "$raw.report.tsv")
  built=$(awk -F'\t' '$1 == "built"' "$raw.report.tsv")
  listed=$(awk -F'\t' '$1 == "listed"' "$raw.report.tsv")
  graph=$(awk -F'\t' '$1 == "graph"' "$raw.report.tsv")
  graph_fix=$(awk -F'\t' '$1 == "graph" && $5 != "(no fixed version)"' "$raw.report.tsv")
  std=$(awk -F'\t' '$1 == "stdlib"' "$raw.report.tsv")
  count() { printf '%s' "$1" | grep -c . || true; }
  n_built=$(count "$built") n_listed=$(count "$listed") n_graph=$(count "$graph") n_graph_fix=$(count "$graph_fix") n_std=$(count "$std")

  echo
  echo "==> $dir: advisories for required modules (module level, reachable or not; build list: $n_mods modules)"
  echo "third-party modules built into the service or its tests: $(plural "$n_built")"
  [ "$n_built" -eq 0 ] || printf '%s\n' "$built" | show
  echo "third-party modules required by go.mod but not built (go mod tidy keeps them): $(plural "$n_listed")"
  [ "$n_listed" -eq 0 ] || printf '%s\n' "$listed" | show
  if [ "$strict" = 1 ]; then
    echo "third-party modules only in the module graph (no package built; strict: failing when fixable): $(plural "$n_graph")"
  else
    echo "third-party modules only in the module graph (no package built; warning, not failing): $(plural "$n_graph")"
  fi
  [ "$n_graph" -eq 0 ] || printf '%s\n' "$graph" | show
  echo "standard library (fixed only in a newer Go than $GOVERSION): $(plural "$n_std") (reported, not failing)"
  if [ "$n_std" -gt 0 ]; then
    printf '%s\n' "$std" | show
    while IFS=$'\t' read -r _ id _ _ fixed summary; do
      if [ -z "${stdlib_seen[$id]:-}" ]; then
        stdlib_seen[$id]=1
        stdlib_all+="$id"$'\t'"$fixed"$'\t'"$summary"$'\n'
      fi
    done <<<"$std"
  fi
  n_fail=$((n_built + n_listed))
  [ "$strict" != 1 ] || n_fail=$((n_fail + n_graph_fix))
  if [ "$n_fail" -gt 0 ]; then
    echo "verdict: FAIL ($(plural "$n_fail") in non-standard-library modules)"
    status=1
    n_fail_total=$((n_fail_total + n_fail))
  else
    echo "verdict: ok"
  fi
done

echo
echo "==> summary (govulncheck $GOVULNCHECK_VERSION, golang.org/x/vulndb@$vulndb_version, $GOVERSION)"
echo "modules scanned: ${#dirs[@]}"
echo "failing advisories in non-standard-library modules: $n_fail_total"
echo "standard library (fixed only in a newer Go than $GOVERSION): ${#stdlib_seen[@]} distinct (not failing)"
if [ -n "$stdlib_all" ]; then
  printf '%s' "$stdlib_all" | sort | awk -F'\t' '{ printf "  %-14s fixed in %-10s %s\n", $1, $2, $3 }'
fi
if [ "$errors" -gt 0 ]; then
  log "FAILED: $errors scan(s) did not complete"
  exit 2
fi
if [ "$status" -ne 0 ]; then
  log "FAILED: advisories in non-standard-library modules (see above)"
  exit 1
fi
log "OK: no failing advisories (standard-library ones are listed above)"
exit 0
