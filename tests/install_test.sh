#!/usr/bin/env bash
# `cmake --install` into a temp prefix, then build a C program against it through pkg-config and
# a C and a C++ program through CMake's find_package(duosync); all three must run. Then the man
# page and the example unit are where they belong, `pip install bindings/python` into a fresh venv
# (no network) finds the installed library, and the Go module builds against it through
# pkg-config (-tags duosync_system).
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cat >"$tmp/consumer.c" <<'C'
#include <duosync.h>
#include <stdio.h>
int main(void) {
  printf("%s\n", duo_version());
  return duo_version_number() == DUO_VERSION_NUMBER ? 0 : 1;
}
C
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
gcc -std=c99 -pedantic -Wall -Werror "$tmp/consumer.c" $(pkg-config --cflags --libs duosync) \
  -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/pc_consumer"
version=$("$tmp/pc_consumer")
echo "$version"
cat >"$tmp/main.cc" <<'CC'
#include "duosync/project.h"
int main() { bool ok = true; duosync::Project::Validate("{}", &ok); return ok ? 1 : 0; }
CC
cat >"$tmp/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(consumer C CXX)
find_package(duosync REQUIRED)
add_executable(c_consumer consumer.c)
target_link_libraries(c_consumer duosync::duosync)
add_executable(cpp_consumer main.cc)
target_link_libraries(cpp_consumer duosync::duosync_core)
CM
cmake -S "$tmp" -B "$tmp/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/b" >/dev/null
"$tmp/b/c_consumer"
"$tmp/b/cpp_consumer"
# The man page (from the CLI's usage) and the example unit.
grep -q '^\.TH DUOSYNC 1' "$tmp/prefix/share/man/man1/duosync.1"
grep -q 'binlog FILE' "$tmp/prefix/share/man/man1/duosync.1"
grep -q '^ExecStart=/usr/bin/duosync run' "$tmp/prefix/share/duosync/duosync@.service"
config='{"name": "installed", "scenario": "DATA_MIGRATION",
 "endpoints": {"a": {"host": "127.0.0.1", "port": 3306, "user": "u"},
               "b": {"host": "127.0.0.1", "port": 3307, "user": "u"}},
 "forward": {"migration_types": ["INCREMENTAL"], "objects": {"import": "s.t"}}}'
# Python (Debian's /usr/bin/python3): pip install from the source tree, offline, into a venv;
# the library from the prefix.
# (--without-pip: the system's pip, setuptools and wheel, which bootstrap installs, do the build.)
/usr/bin/python3 -m venv --system-site-packages --without-pip "$tmp/venv"
# From a copy: setuptools writes build/ and *.egg-info beside the sources it builds.
cp -r "$src/bindings/python" "$tmp/python-package"
"$tmp/venv/bin/python" -m pip install --quiet --no-index --no-build-isolation "$tmp/python-package" \
  >"$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log"; exit 1; }
(cd "$tmp" && env -u DUOSYNC_BUILD_DIR -u DUOSYNC_LIBRARY LD_LIBRARY_PATH="$tmp/prefix/lib" \
  "$tmp/venv/bin/python" - "$config" "$version" <<'PY'
import sys, duosync
assert duosync.__file__.startswith(sys.prefix), duosync.__file__  # the installed package
assert duosync.version() == sys.argv[2], duosync.version()
with duosync.Project(sys.argv[1]) as p:
    assert p.status()["name"] == "installed"
print("python package ok:", duosync.version())
PY
)
# Go: the module against the installed library through pkg-config.
if command -v go >/dev/null; then
  mkdir -p "$tmp/goapp"
  cat >"$tmp/goapp/go.mod" <<GOMOD
module goapp
go 1.19
require duosync.dev/duosync v0.0.0
replace duosync.dev/duosync => $src/bindings/go
GOMOD
  cat >"$tmp/goapp/main.go" <<'GO'
package main

import (
	"fmt"
	"os"

	"duosync.dev/duosync"
)

func main() {
	p, err := duosync.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer p.Close()
	s, err := p.Status()
	if err != nil || s["name"] != "installed" {
		panic(fmt.Sprint(s, err))
	}
	fmt.Println("go module ok:", duosync.Version())
}
GO
  # A cache of its own: the temp prefix changes each run, and a shared cache has kept old link flags.
  (cd "$tmp/goapp" && PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$tmp/gocache" \
     go build -tags duosync_system -o app . && LD_LIBRARY_PATH="$tmp/prefix/lib" ./app "$config")
fi
echo "install test passed"
