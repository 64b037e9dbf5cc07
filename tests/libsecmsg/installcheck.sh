#!/bin/sh
# tests/libsecmsg/installcheck.sh: the installed libsecmsg as an outside
# program finds it (make installcheck, which make distcheck runs).
#
# Builds tests/libsecmsg/extprog.c with only `pkg-config --cflags --libs
# libsecmsg` against the installed prefix (PKG_CONFIG_PATH at its
# lib/pkgconfig), runs it offline, then against the installed secmsgd,
# started on loopback with the helpers of tests/integ/lib.sh.  TAP.
#
#	installcheck.sh LIBDIR SBINDIR INCLUDEDIR
LIBDIR=$1
SBINDIR=$2
INCLUDEDIR=$3
. "${top_srcdir:-.}/tests/integ/lib.sh"
SECMSGD="$SBINDIR/secmsgd"

plan 7
ok "the header is installed as secmsg/secmsg.h" \
    test -f "$INCLUDEDIR/secmsg/secmsg.h"
ok "the shared library has SONAME libsecmsg.so.0" sh -c "
	test -f '$LIBDIR/libsecmsg.a' &&
	objdump -p '$LIBDIR/libsecmsg.so' | grep -q 'SONAME *libsecmsg.so.0\$'"
# Only secmsg_* is exported (nm -D: the dynamic symbols it defines).
ok "only secmsg_* symbols are exported" sh -c "
	nm -D --defined-only '$LIBDIR/libsecmsg.so' | awk '{ print \$3 }' |
	    grep -v '^secmsg_' | sed 's/^/# exported: /' | grep -q . && exit 1
	nm -D --defined-only '$LIBDIR/libsecmsg.so' | grep -q ' secmsg_connect\$'"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
# Installed with DESTDIR: the .pc file names the final prefix.
if [ -n "${DESTDIR:-}" ]; then
	export PKG_CONFIG_SYSROOT_DIR="$DESTDIR"
fi
ok "extprog builds with pkg-config --cflags --libs libsecmsg" sh -c "
	\${CC:-cc} -Wall -Werror -o '$T/extprog' \
	    '$top_srcdir/tests/libsecmsg/extprog.c' \
	    \$(pkg-config --cflags --libs libsecmsg) -Wl,-rpath,'$LIBDIR' \
	    2>&1 | sed 's/^/# /'
	test -x '$T/extprog'"
ok "extprog runs on the installed library (offline)" sh -c "
	'$T/extprog' | sed 's/^/# /'; test \$? -eq 0 &&
	ldd '$T/extprog' | grep -q '$LIBDIR/libsecmsg.so.0'"
if [ -x "$SECMSGD" ]; then
	keygen alice
	authorize alice
	start_daemon ""
	ok "the installed secmsgd starts" kill -0 "$DPID"
	ok "extprog connects to it and pings" sh -c "
		timeout 20 '$T/extprog' 127.0.0.1:$PORT '$SERVER_KEY' \
		    '$T/alice.key' | sed 's/^/# /'
		exit \$(( \$(timeout 20 '$T/extprog' 127.0.0.1:$PORT \
		    '$SERVER_KEY' '$T/alice.key' >/dev/null; echo \$?) ))"
else
	ok "# SKIP no installed secmsgd" true
	ok "# SKIP no installed secmsgd" true
fi
[ "$TAP_FAILED" -eq 0 ]
