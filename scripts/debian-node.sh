#!/bin/sh
# Run the Node unpacked by scripts/debian-node18.sh:  scripts/debian-node.sh DIR [node arguments…]
# Debian's node reads parts of itself from /usr/share/nodejs; when this host has no such
# directory (a Node from elsewhere), the unpacked one is overlaid on /usr/share in a private
# mount namespace of this command alone (needs root and unshare), and nothing else sees it.
set -eu
DIR=${1:?usage: scripts/debian-node.sh DIR [args…]}
shift
DIR=$(cd "$DIR" && pwd)
LIB="$DIR/usr/lib/x86_64-linux-gnu"
if [ -f /usr/share/nodejs/cjs-module-lexer/lexer.js ] && [ -f /usr/share/nodejs/acorn/dist/acorn.js ] && [ -f /usr/share/nodejs/undici/undici-fetch.js ]; then
  exec env LD_LIBRARY_PATH="$LIB" "$DIR/usr/bin/node" "$@"
fi
exec unshare -m sh -c 'd=$1; shift; mount -t overlay overlay -o "lowerdir=$d/usr/share:/usr/share" /usr/share && exec env LD_LIBRARY_PATH="$0" "$d/usr/bin/node" "$@"' "$LIB" "$DIR" "$@"
