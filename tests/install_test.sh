#!/usr/bin/env bash
# `cmake --install` into a temp prefix, then build a C program against it through pkg-config and
# a C and a C++ program through CMake's find_package(duosync); all three must run.
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
"$tmp/pc_consumer"
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
echo "install test passed"
