#!/usr/bin/env bash
# Load test of ivr against a minimal baseline (bench/baseline: HMAC check +
# constant TwiML) and the apps a user would write instead (the peers), on
# DISTINCT calls: every request belongs to a call of its own (pre-signed
# requests with different CallSids, rotated by wrk's Lua), so the store has a
# real call to record per answer. The peers (PEERS):
#
#   sdk      bench/sdkapp: chi + twilio-go's RequestValidator + its twiml
#            package, storing nothing;
#   sdklog   the same keeping a plain call log in the run's store (database/sql,
#            one transaction per request: SQLite WAL, or PostgreSQL);
#   express  bench/express: Express + twilio.webhook() + VoiceResponse, storing
#            nothing (needs node and npm; `npm ci` when node_modules is missing).
#
# For each store (SQLite, PostgreSQL) it runs, all measured in the same run:
#
#   1. answers: saturation, wrk on the signed answer URL of distinct calls,
#      the baseline, each peer, then ivr;
#   2. repeat: saturation on the answer URL of ONE call (the same CallSid
#      every time), the baseline then ivr;
#   3. mixed: saturation on whole calls, 1 answer : 2 menu steps : 1 status,
#      the baseline (and "before") then ivr, driven by bench/loadgen
#      -calls-in-order instead of wrk: each of CONNS connections sends one
#      call's requests one after another (the final status after the call's
#      last answer, as a provider does), then the next call's; a call started
#      is finished. (Until 2026-12-05 wrk rotated the requests over whichever
#      connection was free, so a call's four requests went out at once and
#      about a third of the final statuses overtook their call's answer and
#      steps: the call was summarised twice on PostgreSQL. Mixed figures from
#      before are not comparable.) requests/s are all requests over the run
#      (the calls in progress at its end included, a few ms); p50/p99 from
#      the driver's histogram (1/128 precision), and by the request's place
#      in its call in $tmp/NAME.wrk (KEEP=1). The driver's own CPU per request
#      is printed beside the server's (it shares the cores with the server,
#      as wrk does): ~20 µs at the baseline's rate, where wrk took ~24-26 on
#      this 2-core machine, and 30-48 µs at ivr's slower mixed rates (fewer
#      requests to share each wake-up); the servers' CPU per request is
#      measured as before. On PostgreSQL the mixed requests/s follow the final
#      statuses' latency more than the CPU (a status waits for the writer's
#      batch holding its call's row and for its commit's WAL flush: p50 ~35
#      ms), and move by 20 % between runs: compare the CPU per request;
#   4. flat out: ivr alone at saturation for FLAT s on distinct calls, RSS
#      sampled; afterwards every answered call must be in the store;
#   5. half of saturation: the baseline (control) and ivr at the same fixed
#      rate, open loop (bench/loadgen), for p50/p99.
#
# Each prints requests/s, each server's CPU µs per request (user + system
# from /proc, taken once ivr's record queue has drained, so ivr's figure
# includes writing the records), p50/p99, events dropped, and how many of the
# calls sent are in the store. See docs/performance.md for the figures.
#
#   bash scripts/load.sh                          # both stores, defaults below
#   STORES=sqlite DURATION=5 FLAT=20 SOAK=10 bash scripts/load.sh
#
# Environment: STORES ("sqlite postgres"), DURATION (s, each saturation run,
# default 10), WARMUP (s, 2), FLAT (s, the flat-out run, 60; 0 skips it),
# SOAK (s, the fixed-rate run, 20; 0 skips it), RATE (req/s of the fixed-rate
# run; default half of ivr's answer saturation), THREADS and CONNS (wrk -t/-c,
# 2 and 64), RSS_EVERY (s, 5), KEEP=1 keeps the temp dir (logs, databases),
# PEERS ("sdk sdklog express"; "" for none), REPEAT (1; 0 skips the repeat run),
# ROUNDS (1: the answers run N times, the servers' order rotated each round
# so that none is always measured first or last; the medians and each
# round's ivr/peer ratios follow the rounds: on a shared machine single
# runs of the same build differ by 10-20 %),
# IVR_BIN (an ivr binary to measure instead of building this tree's),
# BEFORE_BIN (another ivr binary, e.g. main's build: measured as the peer
# "before", with a store of its own, in the same runs as this tree's ivr),
# PROFILE=1 (implies KEEP=1): perf records ivr and, on PostgreSQL, the
# database's processes during each of ivr's measured runs; the reports go to
# $tmp/NAME.profile, and with PG_OPTS="-c shared_preload_libraries=pg_stat_statements"
# the statements PostgreSQL spent its time on to $tmp/NAME.statements;
# PROFILE_PEERS=1 records the other servers' runs too (e.g. sdk-answers.profile).
#
# Installs what it needs when running as root with apt-get: wrk, and
# PostgreSQL through scripts/with-postgres.sh (which starts a throwaway
# cluster). Everything listens on 127.0.0.1; every process it started is
# stopped on exit.
set -euo pipefail

STORES=${STORES:-sqlite postgres}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
FLAT=${FLAT:-60}
SOAK=${SOAK:-20}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
RSS_EVERY=${RSS_EVERY:-5}
PEERS=${PEERS-sdk sdklog express}
REPEAT=${REPEAT:-1}
ROUNDS=${ROUNDS:-1}
TOKEN=load-test-token-$RANDOM$RANDOM

cd "$(dirname "$0")/.."
root=$(pwd)

# PostgreSQL: run again inside a throwaway cluster unless one is given.
if [[ " $STORES " == *" postgres "* ]] && [ -z "${IVR_TEST_POSTGRES_URL:-}" ] && [ -z "${IVR_LOAD_WRAPPED:-}" ]; then
	IVR_LOAD_WRAPPED=1 exec bash "$root/scripts/with-postgres.sh" bash "$root/scripts/load.sh" "$@"
fi

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
	if [ "${KEEP:-}" = 1 ] || [ "${PROFILE:-}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'echo "load.sh: interrupted" >&2; exit 130' INT TERM
trap 'echo "load.sh: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR
set -E

echo "== machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2 " RAM, " $7 " available"}'), $(go version | cut -d' ' -f3-), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== building ivr, baseline and loadgen"
if [ -n "${IVR_BIN:-}" ]; then
	cp "$IVR_BIN" "$tmp/ivr" # another build of ivr (e.g. main's, for before/after figures)
else
	go build -o "$tmp/ivr" ./cmd/ivr
fi
go build -o "$tmp/baseline" ./bench/baseline
go build -o "$tmp/loadgen" ./bench/loadgen
go build -o "$tmp/sdkapp" ./bench/sdkapp
if [[ " $PEERS " == *" express "* ]]; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "!!! node and npm are not installed: skipping the express peer" >&2
		PEERS=${PEERS//express/}
	elif [ ! -d bench/express/node_modules ]; then
		echo "== installing bench/express (npm ci)"
		(cd bench/express && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	fi
fi

# wait_url FILE: the URL a server printed as "... listening on URL".
wait_url() {
	for _ in $(seq 600); do
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
# url[NAME], pid[NAME]: every server the runs drive (sdklog and ivr start per store).
declare -A url pid
url[baseline]=$baseline_url pid[baseline]=$baseline_pid
if [[ " $PEERS " == *" sdk "* ]]; then
	"$tmp/sdkapp" -addr 127.0.0.1:0 -token "$TOKEN" >"$tmp/sdk.out" 2>&1 &
	pid[sdk]=$!
	pids+=("${pid[sdk]}")
	url[sdk]=$(wait_url "$tmp/sdk.out")
fi
if [[ " $PEERS " == *" express "* ]]; then
	TWILIO_AUTH_TOKEN=$TOKEN node "$root/bench/express/server.js" 127.0.0.1:0 >"$tmp/express.out" 2>&1 &
	pid[express]=$!
	pids+=("${pid[express]}")
	url[express]=$(wait_url "$tmp/express.out")
fi

# cpu_ticks PID: user + system CPU time the process has used, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# db_ticks: the CPU ticks of the PostgreSQL cluster scripts/with-postgres.sh
# started (its postmaster and every child: ivr's backends), 0 otherwise.
db_ticks() {
	local pm
	if [ "${store:-}" != postgres ] ||
		! pm=$(head -1 "$(dirname "${IVR_TEST_POSTGRES_CTL:-/nonexistent}")/data/postmaster.pid" 2>/dev/null); then
		echo 0
		return
	fi
	# Processes come and go while this reads them: a vanished one is skipped.
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" '$1 == pm || $4 == pm {s += $14 + $15} END {print s + 0}'
}
hz=$(getconf CLK_TCK)
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

metric() { # metric NAME_AND_LABELS [URL]: the sum of matching samples in ivr's (or URL's) /metrics
	curl -fsS "${2:-$ivr_url}/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%.0f\n", s}'
}
answered() { metric 'ivr_requests_total{outcome="ok",provider="twilio",route="/twilio/voice"}'; }
waits() { metric ivr_store_writer_waits_total; }
dropped() { metric ivr_store_dropped_events_total; }
lost() { metric ivr_store_lost_calls_total; }

# drained [URL]: wait (up to 120 s) until ivr's (or URL's) record queue is empty.
drained() {
	for _ in $(seq 1200); do
		[ "$(metric ivr_store_queue_depth "${1:-}")" = 0 ] && return 0
		sleep 0.1
	done
	echo "ivr's record queue did not drain in 120 s" >&2
}

run_no=0
# calls NAME URL MIX N: signs N distinct calls' requests for the server at
# URL into $tmp/NAME.txt and the rotating wrk script $tmp/NAME.lua; the run's
# call id prefix goes to $tmp/NAME.prefix. The mixed calls are sent in
# order (drive): $tmp/NAME.ordered.
calls() {
	run_no=$((run_no + 1))
	local prefix
	prefix=$(printf '%04x%02x' "$((RANDOM % 65536))" "$((run_no % 256))")
	echo "$prefix" >"$tmp/$1.prefix"
	"$tmp/loadgen" -calls "$4" -base "$2" -token "$TOKEN" -prefix "$prefix" -mix "$3" -out "$tmp/$1.txt" >"$tmp/$1.lua"
	rm -f "$tmp/$1.ordered"
	[ "$3" = mixed ] && touch "$tmp/$1.ordered"
	return 0
}

# drive NAME URL SECONDS OUT: the load of $tmp/NAME for SECONDS, its report
# to OUT: wrk over NAME.lua, or bench/loadgen -calls-in-order over NAME.txt
# for calls sent in order (NAME.ordered; its non-200s and errors are
# reported as wrk's are, not as a failure).
drive() {
	if [ -f "$tmp/$1.ordered" ]; then
		"$tmp/loadgen" -requests "$tmp/$1.txt" -calls-in-order -conns "$CONNS" -duration "$3s" >"$4" 2>&1 ||
			grep -q '^mode=calls-in-order' "$4"
	else
		wrk -t"$THREADS" -c"$CONNS" -d"$3s" --latency -s "$tmp/$1.lua" "$2" -- "$THREADS" >"$4" 2>&1
	fi
}

# field NAME KEY: KEY=value of bench/loadgen's report $tmp/NAME.wrk.
field() { awk -v k="$2" '{for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2)}' "$tmp/$1.wrk"; }
# requests NAME: how many requests the run sent (wrk's or bench/loadgen's report).
requests() { awk '/ requests in / {print $1} /^mode=calls-in-order/ {for (i = 1; i <= NF; i++) if ($i ~ /^requests=/) print substr($i, 10)}' "$tmp/$1.wrk"; }
# pct NAME 50|99: the run's latency percentile (wrk's unit, or ms).
pct() { awk -v p="$2" '$1 == p "%" {print $2} /^latency_ms/ {for (i = 2; i <= NF; i++) if (index($i, "p" p "=") == 1) print substr($i, length(p) + 3) "ms"}' "$tmp/$1.wrk"; }

# profile_start NAME PID: perf record (in the background) of the server PID
# and, for ivr, the database's processes; resets pg_stat_statements when it
# is loaded.
profile_start() {
	command -v perf >/dev/null || { echo "PROFILE=1: perf is not installed (apt-get install linux-perf)" >&2; return 1; }
	local p=$2
	if [ "$store" = postgres ] && [ "$2" = "$ivr_pid" ]; then
		psql -qtA "$IVR_TEST_POSTGRES_URL" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null 2>&1 || true
		local pm
		pm=$(head -1 "$(dirname "$IVR_TEST_POSTGRES_CTL")/data/postmaster.pid")
		p+=,$(pgrep -d, -P "$pm")
	fi
	perf record -q -F 499 -g -p "$p" -o "$tmp/$1.perf" >/dev/null 2>&1 &
}

# profile_stop NAME PERF_PID: stops perf and writes the reports.
profile_stop() {
	kill -INT "$2" && wait "$2" || true
	perf report -i "$tmp/$1.perf" --no-children --sort comm,dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 >"$tmp/$1.profile" || true
	[ "$store" = postgres ] && [[ "$1" == ivr-* ]] && psql -qA "$IVR_TEST_POSTGRES_URL" -c "SELECT round(total_exec_time::numeric, 1) AS ms, calls, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15" >"$tmp/$1.statements" 2>&1 || true
	if [ "$store" = postgres ]; then
		echo "  profile: $tmp/$1.profile, $tmp/$1.statements"
	else
		echo "  profile: $tmp/$1.profile"
	fi
}

# wrk_run NAME URL SECONDS PID: wrk over $tmp/NAME.lua; the output goes to
# $tmp/NAME.wrk and the server's CPU µs per request to $tmp/NAME.cpu.
wrk_run() {
	local t0 t1 d0 d1
	[ "$4" = "$ivr_pid" ] && drained
	[ "$4" = "${pid[before]:-}" ] && drained "${url[before]}"
	t0=$(cpu_ticks "$4") d0=$(db_ticks)
	local perf_pid=
	if [ "${PROFILE:-}" = 1 ] && { [ "$4" = "$ivr_pid" ] || [ "${PROFILE_PEERS:-}" = 1 ]; }; then
		profile_start "$1" "$4" && perf_pid=$!
	fi
	if ! drive "$1" "$2" "$3" "$tmp/$1.wrk"; then
		echo "$1: the load (wrk or bench/loadgen) failed:" >&2
		tail -5 "$tmp/$1.wrk" >&2
		return 1
	fi
	[ "$4" = "$ivr_pid" ] && drained
	[ "$4" = "${pid[before]:-}" ] && drained "${url[before]}"
	t1=$(cpu_ticks "$4") d1=$(db_ticks)
	[ -n "$perf_pid" ] && profile_stop "$1" "$perf_pid"
	local n
	n=$(requests "$1")
	awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f\n", t * 1e6 / hz / n}' >"$tmp/$1.cpu"
	if { [ "$4" = "$ivr_pid" ] || [ "$4" = "${pid[sdklog]:-}" ] || [ "$4" = "${pid[before]:-}" ]; } && [ "$store" = postgres ]; then
		awk -v t="$((d1 - d0))" -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f\n", t * 1e6 / hz / n}' >"$tmp/$1.dbcpu"
	fi
	if grep -q 'Non-2xx\|Socket errors\| non200=[1-9]\| errors=[1-9]' "$tmp/$1.wrk"; then
		echo "$1: errors during the run:" >&2
		grep 'Non-2xx\|Socket errors\|^mode=\|^first error' "$tmp/$1.wrk" >&2
	fi
	if [ "$4" = "$ivr_pid" ] && [[ "$1" != *repeat* ]] && grep -q calls_repeated "$tmp/$1.wrk"; then
		echo "$1: the load went round its calls (some calls were sent twice)" >&2
	fi
}
rps() { awk '/^Requests\/sec:/ {printf "%.0f", $2} /^mode=calls-in-order/ {for (i = 1; i <= NF; i++) if ($i ~ /^rate=/) printf "%.0f", substr($i, 6)}' "$tmp/$1.wrk"; }
line() { # line NAME LABEL
	printf '  %-9s %7s req/s   p50 %-8s p99 %-8s server CPU %6s µs/request%s%s\n' "$2" "$(rps "$1")" \
		"$(pct "$1" 50)" "$(pct "$1" 99)" "$(cat "$tmp/$1.cpu")" \
		"$([ -f "$tmp/$1.dbcpu" ] && echo " (+ PostgreSQL $(cat "$tmp/$1.dbcpu") µs)")" \
		"$(grep -q '^mode=calls-in-order' "$tmp/$1.wrk" && echo "; calls in order, the driver's CPU $(field "$1" driver_cpu_us_per_request) µs/request")"
}

# saturate KIND MIX SERVERS: each server (ivr last) at saturation on the
# mix's calls; every other server's figures are set beside ivr's.
saturate() {
	local per_s=50000 # more calls than any server answers in a second
	[ "$2" = mixed ] && per_s=14000
	[ "$2" = repeat ] && per_s=200 # the same call: a short file wrk goes round
	for s in $3; do
		local warm=$WARMUP
		[ $s = express ] && [ "$warm" -gt 0 ] && warm=$((warm < 5 ? 5 : warm)) # node's JIT needs longer
		if [ "$warm" -gt 0 ]; then
			calls "$s-$1-warm" "${url[$s]}" "$2" "$((warm * per_s))"
			drive "$s-$1-warm" "${url[$s]}" "$warm" "$tmp/warm.out" ||
				{ echo "warm-up: the load (wrk or bench/loadgen) failed:" >&2; tail -5 "$tmp/warm.out" >&2; return 1; }
			rm -f "$tmp/$s-$1-warm.txt"
		fi
		calls "$s-$1" "${url[$s]}" "$2" "$((DURATION * per_s))"
		[ $s = ivr ] && a0=$(answered) && d0=$(dropped) && l0=$(lost) && w0=$(waits)
		wrk_run "$s-$1" "${url[$s]}" "$DURATION" "${pid[$s]}"
		rm -f "$tmp/$s-$1.txt"
	done
	for s in $3; do
		line "$s-$1" "$s"
	done
	for s in $3; do
		[ $s = ivr ] && continue
		awk -v a="$(cat "$tmp/ivr-$1.cpu")" -v b="$(cat "$tmp/$s-$1.cpu")" -v i="$(rps "ivr-$1")" -v j="$(rps "$s-$1")" \
			-v ad="$(cat "$tmp/ivr-$1.dbcpu" 2>/dev/null || echo 0)" -v bd="$(cat "$tmp/$s-$1.dbcpu" 2>/dev/null || echo 0)" -v s="$s" \
			'BEGIN {printf "  ivr/%s: requests/s %.2f, CPU per request %.2fx%s\n", s, i / j, a / b, (ad + bd > 0) ? sprintf(" (with the database'"'"'s %.2fx)", (a + ad) / (b + bd)) : ""}'
	done
	stored_line "ivr-$1" "$a0" "$d0" "$l0" "$w0" "$2"
}

# stored_line NAME ANSWERED0 DROPPED0 LOST0 WAITS0 [MIX]: calls sent, answered, in the store.
stored_line() {
	local sent ans st
	sent=$(awk '/^calls_sent/ {print $2}' "$tmp/$1.wrk")
	[ "${6:-}" = repeat ] && sent=1
	ans=$(($(answered) - $2))
	st=$("$tmp/loadgen" -count "$dsn" -prefix "$(cat "$tmp/$1.prefix")" | tr '\n' ' ')
	printf '  ivr records: calls sent %s, answered %s, in the store: %s(events dropped %s, calls lost %s; requests that waited for the writer %s; fallbacks %s)\n' \
		"$sent" "$ans" "$(echo "$st" | awk '{printf "%s calls, %s rows of %s ", $2, $4, $5}')" "$(($(dropped) - $3))" "$(($(lost) - $4))" "$(($(waits) - $5))" "$(metric ivr_fallbacks_total)"
	local have want=$ans
	have=$(echo "$st" | awk '{print $2}')
	if { [ "${6:-}" = repeat ] || grep -q calls_repeated "$tmp/$1.wrk"; } && [ "$sent" -lt "$ans" ]; then
		want=$sent # wrk went round: some calls were answered more than once
	fi
	if [ "$have" -lt "$want" ]; then
		echo "  !!! $((want - have)) answered calls are NOT in the store" >&2
	fi
}

# rounds SERVERS: ROUNDS-1 more answers runs after the first (KIND answers),
# each with the servers' order rotated by one (KIND answers2, answers3...),
# then per server the median requests/s and CPU µs per request over all
# rounds, and the median of each round's ivr/server ratios.
rounds() {
	local order=($1) r
	for ((r = 2; r <= ROUNDS; r++)); do
		order=("${order[@]:1}" "${order[0]}")
		echo "== answers, round $r of $ROUNDS (order: ${order[*]})"
		saturate "answers$r" answer "${order[*]}"
	done
	echo "== answers: medians over $ROUNDS rounds"
	local s k
	for s in $1; do
		local kinds=(answers)
		for ((k = 2; k <= ROUNDS; k++)); do kinds+=("answers$k"); done
		for k in "${kinds[@]}"; do
			printf '%s %s %s %s %s %s\n' "$(rps "$s-$k")" "$(cat "$tmp/$s-$k.cpu")" "$(cat "$tmp/ivr-$k.cpu")" "$(rps "ivr-$k")" \
				"$(cat "$tmp/$s-$k.dbcpu" 2>/dev/null || echo 0)" "$(cat "$tmp/ivr-$k.dbcpu" 2>/dev/null || echo 0)"
		done | awk -v s="$s" '
			function median(a, n,   i, j, t) {
				for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) {t = a[i]; a[i] = a[j]; a[j] = t}
				return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			}
			{rps[NR] = $1; cpu[NR] = $2; db[NR] = $5; rr[NR] = $4 / $1; cr[NR] = $3 / $2; tr[NR] = ($3 + $6) / ($2 + $5); all = all sprintf(" %.2f", $4 / $1); anydb += $5 + $6}
			END {
				printf "  %-9s median %7.0f req/s, CPU %6.1f µs/request", s, median(rps, NR), median(cpu, NR)
				if (median(db, NR) > 0) printf " (+ PostgreSQL %.1f µs)", median(db, NR)
				if (s != "ivr") {
					printf "; ivr/%s median requests/s %.2f (rounds:%s), CPU per request %.2fx", s, median(rr, NR), all, median(cr, NR)
					if (anydb > 0) printf " (with the database'"'"'s %.2fx)", median(tr, NR)
				}
				printf "\n"
			}'
	done
}

# flat: ivr alone at saturation for FLAT s on distinct calls, RSS sampled.
flat() {
	local n
	n=$(awk -v r="$(rps ivr-answers)" -v s="$FLAT" 'BEGIN {printf "%d", r * s * 2.5 + 10000}')
	calls ivr-flat "$ivr_url" answer "$n"
	a0=$(answered) d0=$(dropped) l0=$(lost) w0=$(waits)
	echo "== flat out: ivr at saturation for ${FLAT}s on distinct calls (wrk -t$THREADS -c$CONNS), RSS every ${RSS_EVERY}s"
	wrk_run ivr-flat "$ivr_url" "$FLAT" "$ivr_pid" &
	local w=$! rss=()
	while kill -0 "$w" 2>/dev/null; do
		rss+=("$(rss_kib "$ivr_pid")")
		for _ in $(seq "$((RSS_EVERY * 10))"); do
			kill -0 "$w" 2>/dev/null || break
			sleep 0.1
		done
	done
	wait "$w"
	rss+=("$(rss_kib "$ivr_pid")")
	rm -f "$tmp/ivr-flat.txt"
	line ivr-flat ivr
	stored_line ivr-flat "$a0" "$d0" "$l0" "$w0"
	printf '%s\n' "${rss[@]}" | awk '
		NR == 1 {first = $1} {last = $1; if ($1 > max) max = $1; all = all " " int($1 / 1024)}
		END {printf "  ivr RSS MiB: first %.1f, last %.1f, max %.1f (%d samples:%s)\n", first / 1024, last / 1024, max / 1024, NR, all}'
}

# soak: the baseline, then ivr, at RATE (default half of ivr's saturation), open loop.
soak() {
	local rate=${RATE:-$(awk -v a="$(rps ivr-answers)" 'BEGIN {printf "%d", a / 2}')}
	local n=$((rate * SOAK + 1000))
	echo "== fixed rate $rate req/s ($([ -n "${RATE:-}" ] && echo RATE || echo "half of ivr's saturation")), ${SOAK}s each, open loop (bench/loadgen), distinct calls"
	for s in baseline ivr; do
		local url=$baseline_url
		[ $s = ivr ] && url=$ivr_url
		calls "$s-soak" "$url" answer "$n" >/dev/null
		printf '  %-9s ' $s
		"$tmp/loadgen" -requests "$tmp/$s-soak.txt" -rate "$rate" -duration "${SOAK}s" -conns "$CONNS" -expect '<Gather' |
			awk '/^latency_ms/ {$1 = ""; print substr($0, 2)} /^target_rate/ && / (errors|unexpected)=[1-9]/ {print "  !!! " $0}' | tr '\n' ' '
		echo
		rm -f "$tmp/$s-soak.txt"
	done
}

for store in $STORES; do
	case $store in
	sqlite) dsn="sqlite:$tmp/ivr.db" ;;
	postgres)
		if [ -z "${IVR_TEST_POSTGRES_URL:-}" ]; then
			echo "!!! no PostgreSQL (see scripts/with-postgres.sh): skipping the postgres runs" >&2
			continue
		fi
		schema=load_$RANDOM$RANDOM
		psql -q "${IVR_TEST_POSTGRES_URL}" -c "CREATE SCHEMA $schema"
		sep='?'
		[[ "$IVR_TEST_POSTGRES_URL" == *\?* ]] && sep='&'
		dsn="$IVR_TEST_POSTGRES_URL${sep}search_path=$schema"
		;;
	*)
		echo "STORES: unknown store $store (want sqlite, postgres)" >&2
		exit 2
		;;
	esac
	rm -f "$tmp"/*.dbcpu
	env IVR_ADDR=127.0.0.1:0 IVR_DATABASE_URL="$dsn" TWILIO_AUTH_TOKEN="$TOKEN" \
		IVR_LOG_FORMAT=json IVR_NGROK_API=off IVR_PROVIDERS=twilio IVR_CALL_CENTER_NUMBER=+15005550006 \
		"$tmp/ivr" serve >"$tmp/ivr-$store.out" 2>"$tmp/ivr-$store.log" &
	ivr_pid=$!
	pids+=($ivr_pid)
	ivr_url=$(wait_url "$tmp/ivr-$store.out")
	url[ivr]=$ivr_url pid[ivr]=$ivr_pid
	servers="baseline"
	if [ -n "${BEFORE_BIN:-}" ]; then
		bdsn="sqlite:$tmp/before.db"
		if [ "$store" = postgres ]; then
			psql -q "${IVR_TEST_POSTGRES_URL}" -c "CREATE SCHEMA ${schema}_before"
			bdsn="$IVR_TEST_POSTGRES_URL${sep}search_path=${schema}_before"
		fi
		cp "$BEFORE_BIN" "$tmp/ivr-before"
		env IVR_ADDR=127.0.0.1:0 IVR_DATABASE_URL="$bdsn" TWILIO_AUTH_TOKEN="$TOKEN" \
			IVR_LOG_FORMAT=json IVR_NGROK_API=off IVR_PROVIDERS=twilio IVR_CALL_CENTER_NUMBER=+15005550006 \
			"$tmp/ivr-before" serve >"$tmp/before-$store.out" 2>"$tmp/before-$store.log" &
		pid[before]=$!
		pids+=("${pid[before]}")
		url[before]=$(wait_url "$tmp/before-$store.out")
		servers="$servers before"
	fi
	for p in $PEERS; do
		if [ "$p" = sdklog ]; then
			sdb="sqlite:$tmp/sdklog.db"
			[ "$store" = postgres ] && sdb=$dsn
			"$tmp/sdkapp" -addr 127.0.0.1:0 -token "$TOKEN" -db "$sdb" >"$tmp/sdklog-$store.out" 2>&1 &
			pid[sdklog]=$!
			pids+=("${pid[sdklog]}")
			url[sdklog]=$(wait_url "$tmp/sdklog-$store.out")
		fi
		servers="$servers $p"
	done
	echo
	echo "=== store: $store (ivr pid $ivr_pid on $ivr_url; baseline on $baseline_url; load average $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "== answers: saturation, wrk -t$THREADS -c$CONNS -d${DURATION}s after a ${WARMUP}s warm-up, distinct calls"
	saturate answers answer "$servers ivr"
	[ "$ROUNDS" -gt 1 ] && rounds "$servers ivr"
	if [ "$REPEAT" = 1 ]; then
		echo "== repeat: saturation on the answer URL of one call (the same CallSid every time), same settings"
		saturate repeat repeat "baseline ${pid[before]:+before }ivr"
	fi
	echo "== mixed calls (1 answer : 2 menu steps : 1 status callback): saturation, each call's requests in order on one of $CONNS connections (bench/loadgen -calls-in-order)"
	saturate mixed mixed "baseline ${pid[before]:+before }ivr"
	[ "$FLAT" -gt 0 ] && flat
	[ "$SOAK" -gt 0 ] && soak
	echo "  ivr log lines: $(wc -l <"$tmp/ivr-$store.log")"
	kill "$ivr_pid"
	wait "$ivr_pid" 2>/dev/null || true
	if [ -n "${pid[before]:-}" ]; then
		kill "${pid[before]}"
		wait "${pid[before]}" 2>/dev/null || true
		unset 'pid[before]'
	fi
	if [ -n "${pid[sdklog]:-}" ]; then
		kill "${pid[sdklog]}"
		wait "${pid[sdklog]}" 2>/dev/null || true
		unset 'pid[sdklog]'
	fi
done
