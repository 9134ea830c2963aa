#!/usr/bin/env bash
# The C ABI contract: the exported functions of capi/duosync.h, with their exact signatures, must
# match capi/duosync.abi line for line, and libduosync.so must export exactly those symbols.
# A new function is added by appending its line to capi/duosync.abi (never by editing one).
# Usage: abi_check.sh SOURCE_DIR LIBRARY
set -euo pipefail
src=$1
lib=$2
current=$(gcc -E -P -x c "$src/capi/duosync.h" |
  tr '\n' ' ' | tr ';' '\n' | grep -E '\bduo_[a-z0-9_]+ *\(' |
  sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//; s/\( /(/g; s/ \)/)/g; s/ ,/,/g')
expected=$(grep -v '^#' "$src/capi/duosync.abi")
if [ "$current" != "$expected" ]; then
  echo "C ABI changed: the declarations in capi/duosync.h differ from capi/duosync.abi" >&2
  diff <(echo "$expected") <(echo "$current") >&2 || true
  exit 1
fi
declared=$(echo "$current" | grep -oE '\bduo_[a-z0-9_]+ *\(' | tr -d ' (' | sort)
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
if [ "$declared" != "$exported" ]; then
  echo "libduosync.so exports differ from the header:" >&2
  diff <(echo "$declared") <(echo "$exported") >&2 || true
  exit 1
fi
echo "ABI check passed: $(echo "$declared" | wc -l) functions"
