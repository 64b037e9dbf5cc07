#!/bin/sh
# Guard: the protocol core (noise, x25519, frame, msg, proto, keys,
# authkeys, relay, roster, route) and confwiden stay out of the event loop, the log and
# the config parser: they never include libevent, syslog or libconfig, so
# that they stay unit-testable and fuzzable (STYLE.md section 1).  (keys
# and authkeys do read and write their own files.)
: "${top_srcdir:=.}"
core="noise x25519 frame msg proto keys authkeys relay roster route confwiden"
echo "1..$(echo $core | wc -w)"
n=0
for m in $core; do
	n=$((n + 1))
	bad=$(grep -nE '#[[:space:]]*include[[:space:]]*<(event2/|syslog\.h|libconfig\.h)' \
	    "$top_srcdir/src/$m.c" "$top_srcdir/src/$m.h" 2>/dev/null)
	if [ -f "$top_srcdir/src/$m.c" ] && [ -z "$bad" ]; then
		echo "ok $n - src/$m.[ch] free of event2/syslog/libconfig"
	else
		echo "not ok $n - src/$m.[ch] free of event2/syslog/libconfig"
		echo "$bad" | sed 's/^/# /'
	fi
done
