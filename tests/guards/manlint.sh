#!/bin/sh
# Guard: the man pages are lint clean (mandoc -Tlint), when mandoc exists.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
if [ -z "$MANDOC" ] || [ ! -x "$MANDOC" ]; then
	echo "1..0 # SKIP no mandoc"
	exit 0
fi
# Every page in man/ (each man/X.in is built into man/X).
pages=$(for f in "$top_srcdir"/man/*.in; do basename "$f" .in; done)
echo "1..$(echo $pages | wc -w)"
n=0
for p in $pages; do
	n=$((n + 1))
	f="$top_builddir/man/$p"
	if [ ! -f "$f" ]; then
		echo "not ok $n - $p lint clean # not built"
		continue
	fi
	# Warnings and worse fail; style notes (such as cross references to
	# pages not installed yet) do not.
	out=$("$MANDOC" -Tlint -W warning "$f" 2>&1)
	if [ -z "$out" ]; then
		echo "ok $n - $p lint clean"
	else
		echo "not ok $n - $p lint clean"
		echo "$out" | sed 's/^/# /'
	fi
done
