#!/bin/sh
# Guard: the programs that are libsecmsg's users see its public API only
# (issue 19): every #include of src/client, the libevent example and the
# library's test programs is a system header (<...>, which is where
# <secmsg/secmsg.h> is found), or a header of the program's own folder --
# never one of src/lib's or the daemon's.  So secmsg-client proves the
# public API is enough.  Their build sees no src/lib either
# (CLIENT_CPPFLAGS in Makefile.am).
#
# bench/ is not on the public API yet: the files that still include
# src/lib (PENDING) are checked as TODO (TAP), which turns into a failure
# (XPASS) once one passes, so that it leaves the list when ported.
: "${top_srcdir:=.}"
n=0
fails=0
# private FILE: the quoted includes of FILE that are not in FILE's folder,
# and any <secmsg/X> but the public header.
private() {
	d=$(dirname "$1")
	sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1" |
	while read -r h; do
		[ -f "$d/$h" ] || echo "$1: \"$h\""
	done
	sed -n 's/^#[[:space:]]*include[[:space:]]*<\(secmsg\/[^>]*\)>.*/\1/p' \
	    "$1" | while read -r h; do
		[ -f "$top_srcdir/include/$h" ] || echo "$1: <$h>"
	done
}
# check FILE [TODO]: one TAP line.
check() {
	n=$((n + 1))
	out=$(private "$1")
	if [ -z "$out" ]; then
		echo "ok $n - $1 uses the public API only${2:+ # TODO $2}"
	else
		echo "not ok $n - $1 uses the public API only${2:+ # TODO $2}"
		echo "$out" | sed 's/^/# /'
		[ -n "$2" ] || fails=$((fails + 1))
	fi
}
PENDING="bconn.c bench.h ceiling.c secmsg-bench.c wl_basic.c wl_durable.c \
    wl_relay.c"
files=$(ls "$top_srcdir"/src/client/*.[ch] "$top_srcdir"/examples/*.c \
    "$top_srcdir"/tests/libsecmsg/*.c "$top_srcdir"/bench/*.[ch])
echo "1..$(echo $files | wc -w)"
for f in $files; do
	todo=
	case "$f" in
	*/bench/*)
		case " $PENDING " in
		*" $(basename "$f") "*)
			todo="bench/ not yet on libsecmsg's public API" ;;
		esac
	esac
	check "$f" "$todo"
done
[ "$fails" -eq 0 ]
