#!/usr/bin/env bash
# Load test of the signed Twilio answer (POST /twilio/voice): ivr against a
# minimal baseline (bench/baseline: HMAC check + constant TwiML), then ivr at
# half its saturation rate for latency percentiles and memory over time.
# See docs/performance.md for what it measures and the last figures.
#
#   scripts/load.sh                      # DURATION=10 s per saturation run, SOAK=60 s
#   DURATION=30 SOAK=300 scripts/load.sh
#
# Environment: DURATION (s, saturation runs), SOAK (s, fixed-rate run),
# WARMUP (s, discarded run before each measured one), THREADS and CONNS
# (wrk -t/-c), RATE (req/s of the fixed-rate run; default half of ivr's
# saturation), RSS_EVERY (s between RSS samples), KEEP=1 to keep the temp
# dir (logs, database, requests).
#
# Needs Go and wrk (Debian package `wrk`, installed with apt-get when missing
# and running as root). Everything listens on 127.0.0.1 only; the script
# stops every process it started on exit.
set -euo pipefail

DURATION=${DURATION:-10}
SOAK=${SOAK:-60}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
RSS_EVERY=${RSS_EVERY:-5}
TOKEN=load-test-token-$RANDOM$RANDOM

cd "$(dirname "$0")/.."
root=$(pwd)

if ! command -v wrk >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "== installing wrk (apt-get)"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	else
		echo "wrk is not installed: apt-get install wrk (as root), then run again" >&2
		exit 1
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ivr-load.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP:-}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2 " RAM, " $7 " available"}'), $(go version | cut -d' ' -f3-), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== building ivr, baseline and loadgen"
go build -o "$tmp/ivr" ./cmd/ivr
go build -o "$tmp/baseline" ./bench/baseline
go build -o "$tmp/loadgen" ./bench/loadgen

# wait_url FILE: the URL a server printed as "... listening on URL".
wait_url() {
	for _ in $(seq 200); do
		if u=$(grep -o 'listening on http://[^ ]*' "$1" 2>/dev/null | head -1 | cut -d' ' -f3) && [ -n "$u" ]; then
			echo "$u"
			return 0
		fi
		sleep 0.05
	done
	echo "server did not start; see $1" >&2
	return 1
}

# The processes run in $tmp so that no .env file of the work tree is read.
cd "$tmp"
"$tmp/baseline" -addr 127.0.0.1:0 -token "$TOKEN" >"$tmp/baseline.out" 2>&1 &
baseline_pid=$!
pids+=($baseline_pid)
baseline_url=$(wait_url "$tmp/baseline.out")

env IVR_ADDR=127.0.0.1:0 IVR_DATABASE_URL="sqlite:$tmp/ivr.db" TWILIO_AUTH_TOKEN="$TOKEN" \
	IVR_LOG_FORMAT=json IVR_NGROK_API=off IVR_PROVIDERS=twilio IVR_CALL_CENTER_NUMBER=+15005550006 \
	"$tmp/ivr" serve >"$tmp/ivr.out" 2>"$tmp/ivr.log" &
ivr_pid=$!
pids+=($ivr_pid)
ivr_url=$(wait_url "$tmp/ivr.out")
echo "== baseline on $baseline_url, ivr on $ivr_url (pid $ivr_pid; json logs in ivr.log, records in sqlite:ivr.db)"

# sign NAME URL: a Twilio answer request signed by `ivr sign --json`, and the
# wrk script that replays it (same body, same X-Twilio-Signature).
sign() {
	env -i PATH="$PATH" TWILIO_AUTH_TOKEN="$TOKEN" "$tmp/ivr" sign --json "$2/twilio/voice" \
		AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa CallSid=CA0123456789abcdef0123456789abcdef \
		From=+14155550100 To=+14155550199 CallStatus=ringing Direction=inbound ApiVersion=2010-04-01 \
		>"$tmp/$1.json"
	"$tmp/loadgen" -request "$tmp/$1.json" -lua >"$tmp/$1.lua"
	# One check before the load: the answer is the menu, not a refusal.
	"$tmp/loadgen" -request "$tmp/$1.json" -rate 20 -duration 1s -conns 1 -expect '<Gather' >/dev/null ||
		{ echo "$1: the signed request is not answered with the menu" >&2; exit 1; }
}
sign baseline "$baseline_url"
sign ivr "$ivr_url"

# cpu_ticks PID: user + system CPU time the process has used, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# saturate NAME URL PID: requests/s at saturation (wrk -t$THREADS -c$CONNS);
# the server's own CPU time per request goes to $tmp/NAME.cpu (µs).
saturate() {
	if [ "$WARMUP" -gt 0 ]; then
		wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$tmp/$1.lua" "$2" >/dev/null
	fi
	local t0 t1
	t0=$(cpu_ticks "$3")
	wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$tmp/$1.lua" "$2" >"$tmp/$1.wrk"
	t1=$(cpu_ticks "$3")
	awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" '/ requests in / {printf "%.1f\n", t * 1e6 / hz / $1}' "$tmp/$1.wrk" >"$tmp/$1.cpu"
	if grep -q 'Non-2xx\|Socket errors' "$tmp/$1.wrk"; then
		echo "$1: errors during the run:" >&2
		grep 'Non-2xx\|Socket errors' "$tmp/$1.wrk" >&2
	fi
	awk '/^Requests\/sec:/ {print $2}' "$tmp/$1.wrk"
}

metric() { # metric NAME_AND_LABELS: the sum of matching samples in ivr's /metrics
	curl -fsS "$ivr_url/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%.0f\n", s}'
}

echo "== saturation: wrk -t$THREADS -c$CONNS -d${DURATION}s (after a ${WARMUP}s warm-up), signed Twilio answer"
base_rps=$(saturate baseline "$baseline_url" "$baseline_pid")
echo "baseline: $base_rps req/s   $(awk '/ 50%| 99%/ {printf "%s %s  ", $1, $2}' "$tmp/baseline.wrk")  server CPU $(cat "$tmp/baseline.cpu") µs/request"
ivr_rps=$(saturate ivr "$ivr_url" "$ivr_pid")
echo "ivr:      $ivr_rps req/s   $(awk '/ 50%| 99%/ {printf "%s %s  ", $1, $2}' "$tmp/ivr.wrk")  server CPU $(cat "$tmp/ivr.cpu") µs/request"
ratio=$(awk -v a="$ivr_rps" -v b="$base_rps" 'BEGIN {printf "%.2f", a / b}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.85) ? "meets" : "BELOW"}')
echo "ratio ivr/baseline: $ratio ($verdict the 0.85 target)"
echo "ivr counters: answered ok $(metric 'ivr_requests_total{outcome="ok",provider="twilio",route="/twilio/voice"}'), fallbacks $(metric ivr_fallbacks_total), events queued $(metric ivr_store_queue_depth), events dropped $(metric ivr_store_dropped_events_total)"

rate=${RATE:-$(awk -v a="$ivr_rps" 'BEGIN {printf "%d", a / 2}')}
# The same open-loop generator against the baseline first: how much of the
# tail latency is this machine and the generator itself, not ivr.
echo "== control: baseline at $rate req/s for 10s, open loop (bench/loadgen)"
"$tmp/loadgen" -request "$tmp/baseline.json" -rate "$rate" -duration 10s -conns "$CONNS" -expect '<Gather' | grep latency_ms || true
echo "== fixed rate: ivr at $rate req/s ($([ -n "${RATE:-}" ] && echo "RATE" || echo "half of saturation")) for ${SOAK}s, open loop (bench/loadgen), RSS every ${RSS_EVERY}s"
"$tmp/loadgen" -request "$tmp/ivr.json" -rate "$rate" -duration "${SOAK}s" -conns "$CONNS" -expect '<Gather' >"$tmp/soak.out" 2>&1 &
lg_pid=$!
pids+=($lg_pid)
rss=()
while kill -0 "$lg_pid" 2>/dev/null; do
	rss+=("$(awk '/^VmRSS:/ {print $2}' "/proc/$ivr_pid/status")")
	for _ in $(seq "$((RSS_EVERY * 10))"); do
		kill -0 "$lg_pid" 2>/dev/null || break
		sleep 0.1
	done
done
lg_status=0
wait "$lg_pid" || lg_status=$?
rss+=("$(awk '/^VmRSS:/ {print $2}' "/proc/$ivr_pid/status")")
cat "$tmp/soak.out"
[ "$lg_status" = 0 ] || echo "loadgen: some requests failed (see above)" >&2
printf '%s\n' "${rss[@]}" | awk '
	NR == 1 {first = $1} {last = $1; if ($1 > max) max = $1; all = all " " int($1 / 1024)}
	END {printf "ivr RSS MiB: first %.1f, last %.1f, max %.1f (%d samples:%s)\n", first / 1024, last / 1024, max / 1024, NR, all}'
echo "ivr counters: fallbacks $(metric ivr_fallbacks_total), events queued $(metric ivr_store_queue_depth), events dropped $(metric ivr_store_dropped_events_total), log lines $(wc -l <"$tmp/ivr.log")"
exit "$lg_status"
