#!/usr/bin/env bash
# Slow lookups under load: N concurrent calls each waiting on a lookup slower
# than its share of the voice deadline must all hear the flow's on_error,
# never the deadline's fallback (issue 27 item 7). Builds ivr and
# bench/slowlookup, then, for each N in CALLS, starts a fresh ivr (its own
# SQLite store) on a flow whose fetch hits a local API that answers after
# SLOW, fires N signed Twilio requests at once and prints how many answers
# were on_error, the fallback (by reason), other or errors, with latency
# percentiles, ivr's own counters and the load average. See
# docs/performance.md for the figures.
#
#   bash scripts/slow-lookups.sh                      # CALLS="1000 3000"
#   CALLS="1000" DEADLINE=2s bash scripts/slow-lookups.sh
#
# Environment: CALLS ("1000 3000"), DEADLINE (IVR_VOICE_DEADLINE; default:
# ivr's, 8s), SLOW (30s), TIMEOUT (the flow's lookup timeout, 10s),
# DATABASE (IVR_DATABASE_URL; default a fresh SQLite file per run),
# IVR_BIN (an ivr binary to measure instead of building this tree's),
# KEEP=1 keeps the temp dir (ivr's logs). Exits 1 unless every call got
# on_error. Wrap it in flock with the other load runs on a shared machine.
set -euo pipefail

CALLS=${CALLS:-1000 3000}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ivr-slow.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ -n "${IVR_BIN:-}" ]; then
	cp "$IVR_BIN" "$tmp/ivr"
else
	go build -o "$tmp/ivr" ./cmd/ivr
fi
go build -o "$tmp/slowlookup" ./bench/slowlookup
echo "== machine: $(nproc) cores, $(go version | cut -d' ' -f3-), load average $(cut -d' ' -f1-3 /proc/loadavg)"
args=(-ivr "$tmp/ivr" -calls "${CALLS// /,}" -slow "${SLOW:-30s}" -timeout "${TIMEOUT:-10s}")
[ -n "${DEADLINE:-}" ] && args+=(-deadline "$DEADLINE")
[ -n "${DATABASE:-}" ] && args+=(-db "$DATABASE")
[ "${KEEP:-}" = 1 ] && args+=(-keep)
"$tmp/slowlookup" "${args[@]}"
