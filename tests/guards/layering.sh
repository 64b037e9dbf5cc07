#!/bin/sh
# Guard: the layers of src/ (STYLE.md section 1) and the direction of the
# dependencies between them.
#  - src/lib (the protocol core and the client-side connection) includes
#    nothing but its own headers, and never libevent, syslog or libconfig,
#    so that it stays unit-testable, fuzzable and a library;
#  - the daemon's pure modules (relay tables, roster, route codec, key
#    policy parser, the durable store and its records...) stay out of the
#    event loop, the log and the config parser too;
#  - src/client includes its own headers only (and libsecmsg's public
#    one, <secmsg/secmsg.h>: tests/guards/publicapi.sh);
#  - src/ctl (secmsgctl) includes src/lib and, of the daemon, only
#    config.h: it reads the daemon's configuration with its parser;
#  - inside the daemon, every file includes only headers of its own layer
#    or lower ones (the table below): the runtime never includes the
#    sessions, the router or the request handling, the router never the
#    request handling, and nothing but main and the server the server.
: "${top_srcdir:=.}"
S="$top_srcdir/src"
n=0
fails=0
check() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "$2" | sed 's/^/# /'
		fails=$((fails + 1))
	fi
}
# includes FILE: the quoted headers FILE includes, one per line.
includes() { sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }
# foreign FILE DIR...: the quoted includes of FILE found in none of DIRs.
foreign() {
	f=$1
	shift
	includes "$f" | while read -r h; do
		found=
		for d in "$@"; do
			[ -f "$S/$d/$h" ] && found=1
		done
		[ -n "$found" ] || echo "$(basename "$f") includes $h"
	done
}
banned='#[[:space:]]*include[[:space:]]*<(event2/|syslog\.h|libconfig\.h)'
pure="authkeys relay roster buspres route confwiden bucket heartbeat stats storerec storekey storedb store"

# The daemon's layers, lowest first (a header's layer is its module's).
rank() {
	case $1 in
	log|config|confcluster|confwiden|authkeys|policy|relay|roster|buspres|route|bucket|\
	notify|heartbeat|stats) echo 0 ;;
	mbox|pool|evsink|sloop|hswork|storethr) echo 1 ;;
	session|sessread|sessout|sessbatch|sessionpriv) echo 2 ;;
	router|busnats|busnatsconn|busnatspriv) echo 3 ;;
	service|dservice|ddeliver) echo 4 ;;
	server|handshake|proxyconn|listener|privdrop|memory|watchdog|control|ctlloop|metrics|durable) echo 5 ;;
	secmsgd) echo 6 ;;
	*) echo 0 ;;	# src/lib
	esac
}
# Exceptions, each with its reason (none today).
allowed=""
daemon=$(ls "$S"/daemon/*.[ch])

echo "1..$(( $(ls "$S"/lib/*.[ch] | wc -l) + $(echo $pure | wc -w) + \
    $(echo "$daemon" | wc -l) + 3 ))"
for f in "$S"/lib/*.[ch]; do
	check "src/lib/$(basename "$f"): no event loop, log or config; lib only" \
	    "$(grep -nE "$banned" "$f"; foreign "$f" lib)"
done
for m in $pure; do
	bad=$(grep -nE "$banned" "$S/daemon/$m".[ch] 2>/dev/null)
	[ -f "$S/daemon/$m.h" ] || bad="src/daemon/$m.h missing"
	check "src/daemon/$m: no event loop, log or config" "$bad"
done
out=
for f in "$S"/client/*.[ch]; do
	out="$out$(foreign "$f" client)"
done
check "src/client includes only itself, never src/lib or the daemon" "$out"
out=
for f in "$S"/ctl/*.[ch]; do
	out="$out$(includes "$f" | while read -r h; do
		[ -f "$S/lib/$h" ] || [ -f "$S/ctl/$h" ] ||
		    [ "$h" = config.h ] || echo "$(basename "$f") includes $h"
	done)"
done
check "src/ctl includes src/lib and the daemon's config.h alone" "$out"
for f in $daemon; do
	b=$(basename "$f")
	me=$(rank "${b%.[ch]}")
	bad=$(includes "$f" | while read -r h; do
		[ "$(rank "${h%.h}")" -le "$me" ] && continue
		case " $allowed " in *" $b:$h "*) continue ;; esac
		echo "$b (layer $me) includes $h (layer $(rank "${h%.h}"))"
	done)
	check "src/daemon/$b includes no higher layer" "$bad"
done
bad=$(grep -l '"sessionpriv.h"' "$S"/daemon/*.c | grep -vE '/(session|sessread|sessout|sessbatch)\.c$')
check "sessionpriv.h is the session files' alone" "$bad"
exit 0
