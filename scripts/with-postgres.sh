#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]
#
# Runs CMD with IVR_TEST_POSTGRES_URL pointing at a throwaway PostgreSQL
# cluster, e.g.:  scripts/with-postgres.sh go test ./internal/store/...
#
# - IVR_TEST_POSTGRES_URL already set: just runs CMD.
# - Otherwise finds PostgreSQL's server binaries (PG_BINDIR, then
#   /usr/lib/postgresql/*/bin, then initdb on PATH); when missing and running
#   as root with apt-get, installs Debian's `postgresql` package.
#   If there is still none, warns loudly and runs CMD without a database
#   (the postgres tests then skip, or fail when CI=true).
# - initdb's a cluster in a temp dir (as user postgres when run as root),
#   starts it on a free 127.0.0.1 port with trust auth, creates database
#   ivr_test, exports
#     IVR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/ivr_test?sslmode=disable
#     IVR_TEST_POSTGRES_CTL=<script>   ("<script> stop" / "<script> start" stop and
#                                      restart the cluster, for outage tests)
#   runs CMD, then stops the cluster and removes the dir, exiting with CMD's status.
# - PG_OPTS: more server settings for the cluster, e.g.
#     PG_OPTS="-c shared_preload_libraries=pg_stat_statements" (profiling a load run)
set -uo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi
if [ -n "${IVR_TEST_POSTGRES_URL:-}" ]; then
	exec "$@"
fi

say() { echo "with-postgres: $*" >&2; }
warn() {
	{
		echo "################################################################"
		echo "with-postgres: WARNING: $*"
		echo "with-postgres: WARNING: running without PostgreSQL; postgres tests will SKIP (or FAIL with CI=true)"
		echo "################################################################"
	} >&2
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then
		echo "$PG_BINDIR"
		return
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
		return
	fi
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
	fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "PostgreSQL not found; installing Debian's postgresql package (apt-get)"
		export DEBIAN_FRONTEND=noninteractive
		if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; } >&2; then
			say "apt-get install postgresql failed"
		fi
		bindir=$(find_bindir)
	fi
fi
if [ -z "$bindir" ]; then
	warn "no PostgreSQL server binaries (initdb) found and cannot install them (need root and apt-get)"
	exec "$@"
fi

# Run the server as a non-root user: postgres refuses to run as root.
runas=()
if [ "$(id -u)" -eq 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin postgres 2>/dev/null ||
			adduser --system --no-create-home --group postgres >/dev/null 2>&1 || true
	fi
	if ! id postgres >/dev/null 2>&1; then
		warn "running as root and there is no 'postgres' user to run the server as"
		exec "$@"
	fi
	if command -v runuser >/dev/null 2>&1; then
		runas=(runuser -u postgres --)
	else
		runas=(su_postgres)
	fi
fi
su_postgres() { # fallback when runuser is missing: quote the argv for sh -c
	local cmd="" a
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	su postgres -s /bin/sh -c "$cmd"
}

free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' && return
	fi
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ivr-pg.XXXXXX") || exit 1
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
data="$tmp/data"
log="$tmp/postgres.log"
ctl="$tmp/pgctl"
started=0

cleanup() {
	if [ "$started" -eq 1 ]; then
		"${runas[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! "${runas[@]}" "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$tmp/initdb.log" 2>&1; then
	cat "$tmp/initdb.log" >&2
	warn "initdb failed"
	"$@"
	exit $?
fi

start_on() { # start_on PORT
	"${runas[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $1 -c unix_socket_directories=$tmp -c max_connections=200 ${PG_OPTS:-}" start >/dev/null
}

port=""
for attempt in 1 2 3; do
	p=$(free_port) || break
	if start_on "$p"; then
		port=$p
		started=1
		break
	fi
	say "could not start PostgreSQL on port $p (attempt $attempt)"
done
if [ -z "$port" ]; then
	[ -f "$log" ] && tail -n 20 "$log" >&2
	warn "PostgreSQL did not start"
	"$@"
	exit $?
fi

if ! "${runas[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres ivr_test; then
	warn "createdb ivr_test failed"
	"$@"
	exit $?
fi

# A helper that stops/starts this cluster on the same port (outage tests).
{
	echo '#!/usr/bin/env bash'
	echo 'set -euo pipefail'
	declare -f su_postgres
	printf 'runas=(%s)\n' "$(printf '%q ' "${runas[@]}")"
	printf 'case "${1:-}" in\n'
	printf '  stop) exec "${runas[@]}" %q -D %q -m fast -w -t 60 stop ;;\n' "$bindir/pg_ctl" "$data"
	printf '  start) exec "${runas[@]}" %q -D %q -l %q -w -t 60 -o %q start ;;\n' "$bindir/pg_ctl" "$data" "$log" \
		"-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$tmp -c max_connections=200 ${PG_OPTS:-}"
	printf '  *) echo "usage: $0 stop|start" >&2; exit 2 ;;\nesac\n'
} >"$ctl"
chmod 755 "$ctl"

export IVR_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/ivr_test?sslmode=disable"
export IVR_TEST_POSTGRES_CTL="$ctl"
say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $tmp)"

"$@"
exit $?
