#!/bin/sh
# Package test: builds the Debian packages with dpkg-buildpackage -us -uc -b
# from a copy of the source tree in a temporary folder (the checkout is
# never touched), runs lintian on them, checks what each package holds,
# unpacks both into a temporary root with dpkg -x and runs the programs
# from there.  The project's own test suite is not run again inside the
# package build (the nocheck profile) unless SECMSG_PACKAGE_CHECK=1.
#
# Not part of "make check": it compiles the whole project once more and
# would do so again in every sanitizer run; .ci/run runs it once
# ("make check-package" does too).
: "${top_srcdir:=.}"

for t in dpkg-buildpackage dh lintian; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "1..0 # SKIP no $t (apt-get install dpkg-dev" \
		    "debhelper lintian)"
		exit 0
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/secmsg-package.XXXXXX") || exit 1
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

# lists FILE LINE...: FILE has every LINE, whole.
lists() {
	f=$1
	shift
	for l in "$@"; do
		if ! grep -q -x -F -e "$l" "$f"; then
			echo "# $l: not in $(basename "$f")"
			return 1
		fi
	done
}

# lacks FILE PATTERN: no line of FILE matches PATTERN.
lacks() {
	if grep -E -e "$2" "$1" | sed 's/^/# unexpected: /' | grep .; then
		return 1
	fi
}

# checkconf ROOT: secmsgd -t of ROOT accepts ROOT's /etc/secmsgd.conf.
checkconf() {
	timeout -k 5 30 "$1/usr/sbin/secmsgd" -t -c "$1/etc/secmsgd.conf" \
	    >"$T/t.out" 2>&1
	rc=$?
	sed 's/^/# /' "$T/t.out"
	return $rc
}

# The tracked and new (not ignored) files of a git checkout, so that nothing
# a build left in it comes along; a tree without git (a release tarball) is
# copied whole, and the package build's clean step cleans it.  (A tarball
# unpacked inside some other checkout is no checkout of its own.)
S="$T/secmsgd"
mkdir -p "$S" || exit 1
gittop=$(git -C "$top_srcdir" rev-parse --show-toplevel 2>/dev/null)
if [ -n "$gittop" ] && [ "$gittop" = "$(cd "$top_srcdir" && pwd -P)" ]; then
	(cd "$top_srcdir" &&
	    git ls-files -z --cached --others --exclude-standard |
	    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
	    tar -xf - -C "$S" || exit 1
else
	cp -R "$top_srcdir/." "$S/" || exit 1
fi
chmod -R u+w "$S"

echo "1..19"
if [ "${SECMSG_PACKAGE_CHECK:-0}" = 1 ]; then
	opts=""
else
	opts="nocheck"
fi
ok "dpkg-buildpackage -us -uc -b builds" sh -c '
	cd "$1" && DEB_BUILD_OPTIONS="$2" DEB_BUILD_PROFILES="$2" \
	    timeout -k 10 1200 dpkg-buildpackage -us -uc -b >"$3" 2>&1 || {
		tail -n 40 "$3" | sed "s/^/# /"
		exit 1
	}' sh "$S" "$opts" "$T/build.log"

version=$(sed -n 's/^AC_INIT(\[secmsgd\], \[\([^]]*\)\].*/\1/p' \
    "$S/configure.ac")
ok "debian/changelog has configure.ac's version ($version)" \
    test "$(cd "$S" && dpkg-parsechangelog -S Version)" = "$version"

D="$T/secmsgd_${version}_$(dpkg --print-architecture).deb"
C="$T/secmsg-client_${version}_$(dpkg --print-architecture).deb"
L="$T/libsecmsg0_${version}_$(dpkg --print-architecture).deb"
V="$T/libsecmsg-dev_${version}_$(dpkg --print-architecture).deb"
ok "the four packages are built" test -f "$D" -a -f "$C" -a -f "$L" -a -f "$V"

# Errors fail; the rest is shown.  Lintian complains when run as root.
lintian --pedantic -I "$T"/secmsgd_*.changes >"$T/lintian" 2>&1
sed -e '/running with root privileges/d' -e 's/^/# lintian: /' "$T/lintian"
ok "lintian: no errors" lacks "$T/lintian" '^E: '

dpkg-deb -c "$D" 2>/dev/null | awk '{ print $6 }' >"$T/d.list"
dpkg-deb -c "$C" 2>/dev/null | awk '{ print $6 }' >"$T/c.list"
ok "secmsgd holds the daemon, secmsgctl, the unit, the config, the man pages, the dashboard" \
    lists "$T/d.list" ./usr/sbin/secmsgd ./usr/sbin/secmsgctl \
    ./usr/share/man/man8/secmsgctl.8.gz \
    ./lib/systemd/system/secmsgd.service ./etc/secmsgd.conf \
    ./usr/share/secmsgd/grafana/secmsgd.json \
    ./usr/share/man/man8/secmsgd.8.gz \
    ./usr/share/man/man5/secmsgd.conf.5.gz \
    ./usr/share/man/man7/secmsgd-protocol.7.gz \
    ./usr/share/man/man7/secmsgd-cluster.7.gz \
    ./usr/share/doc/secmsgd/copyright
ok "secmsgd holds no client program" lacks "$T/d.list" 'usr/bin/'
dpkg-deb -e "$D" "$T/ctl" 2>/dev/null
ok "/etc/secmsgd.conf is a conffile" lists "$T/ctl/conffiles" \
    /etc/secmsgd.conf
ok "secmsg-client holds the client, the bench and their man pages" \
    lists "$T/c.list" ./usr/bin/secmsg-client ./usr/bin/secmsg-bench \
    ./usr/share/man/man1/secmsg-client.1.gz \
    ./usr/share/man/man1/secmsg-bench.1.gz \
    ./usr/share/doc/secmsg-client/copyright
ok "secmsg-client holds nothing of the daemon" lacks "$T/c.list" \
    'sbin/|/etc/|systemd|man[578]/'

# libsecmsg: the shared library alone in libsecmsg0, the rest in -dev,
# no libtool .la anywhere; secmsg-client has libsecmsg linked in.
dpkg-deb -c "$L" 2>/dev/null | awk '{ print $6 }' >"$T/l.list"
dpkg-deb -c "$V" 2>/dev/null | awk '{ print $6 }' >"$T/v.list"
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
ok "libsecmsg0 holds libsecmsg.so.0 and nothing to build with" sh -c '
	grep -q -x -F "./usr/lib/$2/libsecmsg.so.0.0.0" "$1" &&
	    ! grep -E "\.(a|la|h|pc)\$|\.so\$" "$1"' sh "$T/l.list" "$multi"
ok "libsecmsg-dev holds the header, the static library, the .pc, section 3" \
    lists "$T/v.list" ./usr/include/secmsg/secmsg.h \
    "./usr/lib/$multi/libsecmsg.a" \
    "./usr/lib/$multi/pkgconfig/libsecmsg.pc" \
    ./usr/share/man/man3/libsecmsg.3.gz \
    ./usr/share/man/man3/secmsg_connect.3.gz
ok "no libtool .la is shipped" lacks "$T/v.list" '\.la$'
ok "secmsg-client needs no libsecmsg0 (linked in)" sh -c '
	! dpkg-deb -f "$1" Depends | grep -q libsecmsg' sh "$C"

R="$T/root"
dpkg -x "$D" "$R" && dpkg -x "$C" "$R"
"$R/usr/sbin/secmsgd" --help >"$T/help" 2>&1
ok "the installed daemon reads /etc/secmsgd.conf" \
    grep -q -F "default /etc/secmsgd.conf;" "$T/help"
# A whole string of the binary: /usr/local/var/lib/secmsgd must not match.
ok "the installed daemon keeps its key in /var/lib/secmsgd" sh -c '
	tr "\\000" "\\n" <"$1" | grep -q -x -F /var/lib/secmsgd' sh \
    "$R/usr/sbin/secmsgd"
ok "the installed daemon accepts the shipped configuration" checkconf "$R"
ok "its control socket is in /run/secmsgd, the unit's RuntimeDirectory" sh -c '
	tr "\\000" "\\n" <"$1" | grep -q -x -F /run/secmsgd/control.sock' sh \
    "$R/usr/sbin/secmsgd"
ok "the unit starts /usr/sbin/secmsgd" \
    grep -q -x -F "ExecStart=/usr/sbin/secmsgd -f" \
    "$R/lib/systemd/system/secmsgd.service"
ok "the installed client and bench run" sh -c '
	"$1/usr/bin/secmsg-client" --version | grep -q -F "$2" &&
	    "$1/usr/bin/secmsg-bench" --help >/dev/null' sh "$R" "$version"
[ "$FAILED" -eq 0 ]
