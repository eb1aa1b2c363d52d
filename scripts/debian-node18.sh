#!/bin/sh
# Unpack Debian 12's own Node.js 18 (the `nodejs` package and what its binary loads) into DIR,
# without installing it: the Node the project builds with stays where it is.
#   scripts/debian-node18.sh DIR   → DIR/usr/bin/node; run it with scripts/debian-node.sh DIR …
# Needs apt-get with Debian 12 (bookworm) sources. Debian's node loads three JavaScript parts
# from /usr/share/nodejs (cjs-module-lexer, acorn, undici): they are unpacked into DIR too.
set -eu
DIR=${1:?usage: scripts/debian-node18.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
# Debian's own version, not whichever nodejs this host's other sources offer first.
V=$(apt-cache madison nodejs | awk -F'|' '$2 ~ /^ *18\./ { gsub(/ /, "", $2); print $2; exit }')
[ -n "$V" ] || { echo "debian-node18: no nodejs 18 in the apt sources (Debian 12 bookworm has 18.20)" >&2; exit 3; }
PKGS="nodejs=$V libnode108=$V node-cjs-module-lexer node-acorn node-undici"
DEBS="$DIR/debs"
mkdir -p "$DEBS"
# apt-get download writes into the current directory; _apt may not be able to, hence the copy.
(cd "$DEBS" && apt-get download $PKGS 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
for p in nodejs libnode108 node-cjs-module-lexer node-acorn node-undici; do
  ls "$DEBS"/"${p}"_*.deb >/dev/null 2>&1 || { echo "debian-node18: could not download $p" >&2; exit 3; }
done
for d in "$DEBS"/*.deb; do dpkg-deb -x "$d" "$DIR"; done
VERSION=$(dpkg-deb -f "$DEBS"/nodejs_*.deb Version)
case "$VERSION" in 18.*) ;; *) echo "debian-node18: nodejs $VERSION is not Node 18 (are these bookworm's sources?)" >&2; exit 3 ;; esac
# The shared libraries libnode needs (libuv, c-ares, ICU, nghttp2, brotli): installed if missing
# and we are root, as plain libraries; nothing else changes.
LIBS=$(dpkg-deb -f "$DEBS"/libnode108_*.deb Depends | tr ',' '\n' | sed -e 's/(.*)//' -e 's/ //g' | grep '^lib' || true)
if LD_LIBRARY_PATH="$DIR/usr/lib/x86_64-linux-gnu" ldd "$DIR/usr/bin/node" | grep -q 'not found'; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $LIBS >/dev/null
  else
    echo "debian-node18: missing shared libraries (apt install $LIBS)" >&2; exit 3
  fi
fi
echo "$VERSION" > "$DIR/VERSION"
echo "debian-node18: nodejs $VERSION in $DIR"
