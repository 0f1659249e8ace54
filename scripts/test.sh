#!/usr/bin/env bash
# Runs every test: installs what the tests need when missing (PostgreSQL,
# Chromium, nginx, podman, systemd-analyze and docker-compose from Debian's
# packages, as root), starts a throwaway PostgreSQL,
# runs vet, staticcheck and deadcode (pinned, installed with go install), the
# unit/integration/browser tests on both stores through gotestsum (which ends
# with every skipped test and its reason), and each fuzz target for a short
# bounded time; at the end (also after a failure) each phase's time.
#
#   bash scripts/test.sh            # everything
#   FUZZTIME=0 bash scripts/test.sh # skip the fuzz runs
#
# Fuzzing is bounded by a count of executions (FUZZTIME=20000x by default), not
# a duration: with a duration, go1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" failure when the time runs out (golang/go#75804,
# fixed in Go 1.27).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase's time, printed as the run goes and summed up at the end (also
# when a phase fails).
phase_name="installs" phase_start=$SECONDS phase_times=()
phase() {
  phase_times+=("$(printf '%-28s %4d s' "$phase_name" $((SECONDS - phase_start)))")
  phase_name=$1 phase_start=$SECONDS
  echo "== $1"
}
print_times() {
  phase_times+=("$(printf '%-28s %4d s' "$phase_name" $((SECONDS - phase_start)))")
  echo "== time per phase"
  printf '   %s\n' "${phase_times[@]}"
}
trap print_times EXIT

need_apt=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${IVR_TEST_POSTGRES_URL:-}" ]; then need_apt+=(postgresql); fi
if ! command -v chromium >/dev/null 2>&1 && [ -z "${IVR_TEST_CHROME:-}" ]; then need_apt+=(chromium); fi
if ! command -v curl >/dev/null 2>&1; then need_apt+=(curl); fi
if [ ! -x /usr/sbin/nginx ] && ! command -v nginx >/dev/null 2>&1; then need_apt+=(nginx); fi
# The deploy/ checks: podman builds (and, with runc, runs) the image and boots
# systemd in a container to run the unit; systemd-analyze verifies the unit;
# docker-compose validates the compose file.
if ! command -v podman >/dev/null 2>&1; then need_apt+=(podman); fi
if ! command -v runc >/dev/null 2>&1; then need_apt+=(runc); fi
if ! command -v systemd-analyze >/dev/null 2>&1; then need_apt+=(systemd); fi
if ! command -v docker-compose >/dev/null 2>&1; then need_apt+=(docker-compose); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${need_apt[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "!! WARNING: cannot install ${need_apt[*]} (not root or no apt-get): tests needing them will SKIP (or FAIL when CI=true)" >&2
  fi
fi

phase "gofmt / go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi
go vet ./...
phase "go mod tidy -diff"
go mod tidy -diff

# Linters at pinned versions (both support go1.26), installed with go install
# when missing or built from another version.
phase "install linters and gotestsum"
gobin=$(go env GOBIN); gobin=${gobin:-$(go env GOPATH)/bin}
for tool in honnef.co/go/tools/cmd/staticcheck@v0.8.2 golang.org/x/tools/cmd/deadcode@v0.52.0 gotest.tools/gotestsum@v1.13.0; do
  pkg=${tool%@*} version=${tool#*@}
  if ! go version -m "$gobin/${pkg##*/}" 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]].*[[:space:]]$version[[:space:]]"; then
    echo "== installing $tool"
    go install "$tool" 2>/tmp/install.$$.log || { cat /tmp/install.$$.log; exit 1; }
    rm -f /tmp/install.$$.log
  fi
done
phase "staticcheck"
"$gobin/staticcheck" ./...
phase "deadcode (functions no program or test reaches)"
dead=$("$gobin/deadcode" -test ./...)
if [ -n "$dead" ]; then echo "$dead"; echo "remove the dead code above"; exit 1; fi

phase "go test (SQLite and PostgreSQL)"
# gotestsum runs go test and ends with a summary of every skipped test with
# its reason (go test alone drops a passing package's skip messages), then
# the failures.
export GOTESTSUM="$gobin/gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg --"
# Every package's tests share one PostgreSQL cluster and run in parallel, so the
# one test that stops and restarts the cluster (an outage in the middle of the
# event writer's work) runs on its own afterwards.
bash scripts/with-postgres.sh bash -c 'IVR_TEST_POSTGRES_CTL= $GOTESTSUM -count=1 ./... &&
  echo "== the store outage test (stops and restarts PostgreSQL)" &&
  $GOTESTSUM -count=1 -run "^TestWriterRealStore$" ./internal/store'

fuzztime=${FUZZTIME:-20000x}
if [ "$fuzztime" != "0" ]; then
  phase "fuzz targets, $fuzztime each"
  for pkg in $(go list ./...); do
    dir=$(go list -f '{{.Dir}}' "$pkg")
    for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
      echo "-- $pkg $target"
      go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -fuzzminimizetime=2s "$pkg" >/tmp/fuzz.$$.log 2>&1 || { cat /tmp/fuzz.$$.log; exit 1; }
    done
  done
  rm -f /tmp/fuzz.$$.log
fi
phase "done"
echo "== all tests passed"
