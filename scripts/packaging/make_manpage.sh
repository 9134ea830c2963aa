#!/usr/bin/env bash
# Writes the duosync(1) man page from the CLI's own usage text, so the two never disagree.
# Usage: make_manpage.sh PATH_TO_DUOSYNC OUTPUT VERSION
set -euo pipefail
cli=$1
out=$2
version=$3
usage=$("$cli" --help)
{
  echo ".TH DUOSYNC 1 \"\" \"duosync $version\" \"User Commands\""
  echo ".SH NAME"
  echo "duosync \\- keep two MySQL-compatible databases in two regions in (active-active) sync"
  echo ".SH SYNOPSIS"
  echo ".B duosync"
  echo ".I COMMAND"
  echo "[\\fIARGS\\fR]"
  echo ".SH DESCRIPTION"
  echo "A project joins endpoint A and endpoint B with a forward link A\\(->B and, for"
  echo "active-active, a reverse link B\\(->A. Its config is JSON (see the README and"
  echo "proto/duosync/config.proto). The commands:"
  echo ".PP"
  echo ".nf"
  # The usage text verbatim; backslashes and leading dots escaped for troff.
  printf '%s\n' "$usage" | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./'
  echo ".fi"
  echo ".SH ENVIRONMENT"
  echo ".TP"
  echo ".B DUOSYNC_STATUS_DIR"
  echo "where \\fBrun\\fR writes and \\fBstatus\\fR reads project status (default /tmp/duosync-status)."
  echo ".TP"
  echo ".B XDG_STATE_HOME"
  echo "record stores of a project without data_dir go to \$XDG_STATE_HOME/duosync (else ~/.local/state/duosync)."
  echo ".SH SEE ALSO"
  echo "The README of the duosync sources; the example unit duosync@.service."
} >"$out"
