#!/bin/sh
# tests/integ/python.sh: the secmsg Python package (python/secmsg, ctypes
# over libsecmsg.so.0) against a live secmsgd, with Debian's python3, TAP.
# tests/python/test_secmsg.py makes the checks; they are numbered here.

. "${top_srcdir:-.}/tests/integ/lib.sh"

SO="$top_builddir/src/libsecmsg/.libs/libsecmsg.so.0"
[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
[ -f "$SO" ] || skip_all "no shared libsecmsg (configured --disable-shared?)"
[ -x "$PY" ] || skip_all "no python3"
# A sanitizer's runtime must be loaded first, which python3 does not do.
if ldd "$SO" 2>/dev/null | grep -q 'lib[at]san'; then
	skip_all "libsecmsg built with a sanitizer: python3 cannot load it"
fi

CHECKS=27
plan "$CHECKS"

keygen alice
keygen bob
keygen carol
authorize alice
authorize bob
authorize carol "publish=q"
start_daemon 'store = "lmdb";
store_map_size = 16;' || { echo "Bail out! secmsgd did not start"; exit 1; }

SECMSG_LIBRARY="$SO" PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$top_srcdir/python" \
    timeout -k 5 120 "$PY" "$top_srcdir/tests/python/test_secmsg.py" \
    "127.0.0.1:$PORT" "$SERVER_KEY" "$T/alice.key" "$T/bob.key" "$T" \
    "$T/carol.key" > "$T/py.out" 2>&1
RC=$?
n=0
while IFS= read -r line; do
	case $line in
	"ok - "*|"not ok - "*)
		n=$((n + 1))
		TAP_N=$((TAP_N + 1))
		case $line in
		"not ok"*) TAP_FAILED=$((TAP_FAILED + 1)) ;;
		esac
		echo "$line" | sed "s/^\(not \)\{0,1\}ok - /\1ok $TAP_N - /"
		;;
	"#"*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done < "$T/py.out"
while [ "$n" -lt "$CHECKS" ]; do
	n=$((n + 1))
	ok "python check $n ran (test_secmsg.py exited $RC)" false
done
