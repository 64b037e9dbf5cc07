#!/bin/sh
# Guard: the systemd unit verifies, and its exposure rating stays low.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "1..0 # SKIP no systemd-analyze"
	exit 0
fi
echo "1..4"
d=$(mktemp -d "${TMPDIR:-/tmp}/secmsg-unit.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
# Point the unit at the freshly built daemon so verify can check it.
sed -e "s|@sbindir@|$(cd "$top_builddir" && pwd)/src|g" \
    "$top_srcdir/systemd/secmsgd.service.in" > "$d/secmsgd.service"
out=$(systemd-analyze verify --man=no "$d/secmsgd.service" 2>&1)
if [ -z "$out" ]; then
	echo "ok 1 - systemd-analyze verify is clean"
else
	echo "not ok 1 - systemd-analyze verify is clean"
	echo "$out" | sed 's/^/# /'
fi
# Exposure is rated 0.0 (best) to 10.0; we keep it at 2.0 or below.
out=$(systemd-analyze security --offline=true --threshold=20 \
    "$d/secmsgd.service" 2>&1)
rc=$?
level=$(echo "$out" | grep -o 'exposure level for [^:]*: [0-9.]*' | \
    sed 's/.*: //')
if [ $rc -eq 0 ] && [ -n "$level" ]; then
	echo "ok 2 - exposure level $level <= 2.0"
else
	echo "not ok 2 - exposure level '$level' <= 2.0"
	echo "$out" | tail -n 5 | sed 's/^/# /'
fi
# systemctl reload checks the configuration before it signals: with a
# bad one the check's exit status fails the reload (ssh.service does the
# same); the signal alone would report success whatever happened.
reload=$(sed -n 's/^ExecReload=//p' "$d/secmsgd.service")
first=$(echo "$reload" | head -n 1)
last=$(echo "$reload" | tail -n 1)
printf 'workers = "x";\n' > "$d/bad.conf"
if [ "$(echo "$reload" | wc -l)" -eq 2 ] &&
    [ "$first" = "$(cd "$top_builddir" && pwd)/src/secmsgd -t" ] &&
    [ "$last" = '/bin/kill -HUP $MAINPID' ] &&
    ! $first -c "$d/bad.conf" >/dev/null 2>&1; then
	echo "ok 3 - ExecReload runs secmsgd -t (which fails on a bad file), then signals"
else
	echo "not ok 3 - ExecReload runs secmsgd -t (which fails on a bad file), then signals"
	echo "$reload" | sed 's/^/# /'
fi
# The Unix socket the documentation shows (unix:/run/secmsgd/...) has a
# directory: RuntimeDirectory= creates it for the service's user and
# makes it writable under ProtectSystem=strict; nobody else may write.
rtdir=$(sed -n 's/^RuntimeDirectory=//p' "$d/secmsgd.service")
rtmode=$(sed -n 's/^RuntimeDirectoryMode=//p' "$d/secmsgd.service")
socks=$(cat "$top_srcdir"/man/*.in "$top_srcdir/README.md" \
    "$top_srcdir/conf/secmsgd.conf" | grep -o 'unix:/run/[^" \\]*' | sort -u)
bad=""
for s in $socks; do
	[ "$(dirname "${s#unix:}")" = "/run/$rtdir" ] || bad="$bad $s"
done
if [ -n "$rtdir" ] && [ -n "$socks" ] && [ -z "$bad" ] &&
    [ $(( 0$rtmode & 022 )) -eq 0 ]; then
	echo "ok 4 - RuntimeDirectory=$rtdir (mode $rtmode) holds the documented socket$(echo $socks | sed 's/^/ /')"
else
	echo "not ok 4 - RuntimeDirectory holds the documented socket"
	echo "# RuntimeDirectory='$rtdir' mode '$rtmode'; outside it:$bad"
fi
