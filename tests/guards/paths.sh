#!/bin/sh
# Guard: the daemon's default paths follow a reconfigure.  configure writes
# them into secmsg-build.h, which every object includes, so configuring
# again with other directories and running make must rebuild the daemon
# with the new paths (with -D flags on the command line, make rebuilt
# nothing and the daemon kept reading the old configuration file).
#
# It configures a copy of the source tree in a temporary folder (a source
# tree that is already configured refuses VPATH builds, and the running
# build must not be touched), first with the default sysconfdir
# ('${prefix}/etc', which must come out expanded), then with another one,
# and builds only the daemon each time.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"

T=$(mktemp -d "${TMPDIR:-/tmp}/secmsg-paths.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM PIPE
N=0
FAILED=0

# ok NAME COMMAND...: one TAP line for the command's success.
ok() {
	name=$1
	shift
	N=$((N + 1))
	if "$@"; then
		echo "ok $N - $name"
	else
		echo "not ok $N - $name"
		FAILED=$((FAILED + 1))
	fi
}

# has FILE STRING: FILE (text or binary) contains STRING.
has() { grep -a -q -F -e "$2" "$1"; }

# hasnt FILE STRING...: FILE contains none of the STRINGs.
hasnt() {
	f=$1
	shift
	for s in "$@"; do
		! grep -a -q -F -e "$s" "$f" || return 1
	done
}

# build LOG ARGS...: configure the copy with ARGS and build the daemon and
# its man page; the output goes to LOG and is shown on failure.
build() {
	log=$1
	shift
	if ! (cd "$S" && ./configure -q --with-systemdsystemunitdir=no \
	    CFLAGS=-O0 "$@" && timeout -k 10 300 make -j2 src/secmsgd \
	    man/secmsgd.8) >"$log" 2>&1; then
		tail -n 30 "$log" | sed 's/^/# /'
		return 1
	fi
}

# What configure, the Makefile and the daemon need; timestamps kept, so
# that make does not try to run the autotools again.
S="$T/src"
# Only the sources from src/: objects left there by an in-tree build would
# look up to date.
mkdir -p "$S" || exit 1
(cd "$top_srcdir" && cp -p -R configure configure.ac aclocal.m4 \
    Makefile.am Makefile.in secmsg-build.h.in build-aux conf man systemd \
    m4 include libsecmsg.pc.in "$S/" && find src -name '*.[ch]' | tar -cf - -T - | tar -xf - -C "$S") ||
    exit 1
chmod -R u+w "$S"

echo "1..8"
A="$T/a"
help="$T/help"
ok "configure with the default sysconfdir and build" \
    build "$T/build1.log" --prefix="$A"
"$S/src/secmsgd" --help >"$help" 2>&1
ok "the daemon reads $A/etc/secmsgd.conf (expanded)" \
    has "$help" "default $A/etc/secmsgd.conf;"
ok "the daemon keeps its key in $A/var/lib/secmsgd" \
    has "$S/src/secmsgd" "$A/var/lib/secmsgd"

ok "reconfigure with another sysconfdir and localstatedir, make" \
    build "$T/build2.log" --prefix="$T/b" --sysconfdir="$T/etc2" \
    --localstatedir="$T/var2"
"$S/src/secmsgd" --help >"$help" 2>&1
ok "the rebuilt daemon reads $T/etc2/secmsgd.conf" \
    has "$help" "default $T/etc2/secmsgd.conf;"
ok "the rebuilt daemon keeps its key in $T/var2/lib/secmsgd" \
    has "$S/src/secmsgd" "$T/var2/lib/secmsgd"
ok "the old paths are gone from the binary" \
    hasnt "$S/src/secmsgd" "$A/etc" "$A/var"
ok "secmsgd(8) names the same configuration file" \
    has "$S/man/secmsgd.8" "$T/etc2/secmsgd.conf"
[ "$FAILED" -eq 0 ]
