package duosynctest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCLIPath(t *testing.T) {
	t.Setenv("DUOSYNC_CLI", "/opt/x/duosync")
	t.Setenv("DUOSYNC_BUILD_DIR", "/opt/build")
	if got := CLIPath(); got != "/opt/x/duosync" {
		t.Errorf("with DUOSYNC_CLI: %s", got)
	}
	t.Setenv("DUOSYNC_CLI", "")
	if got := CLIPath(); got != "/opt/build/duosync" {
		t.Errorf("with DUOSYNC_BUILD_DIR: %s", got)
	}
	t.Setenv("DUOSYNC_BUILD_DIR", "")
	got := CLIPath()
	if filepath.Base(filepath.Dir(got)) != "build" {
		t.Errorf("repository default: %s", got)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(got), "..", "capi", "duosync.h")); err != nil {
		t.Errorf("repository default %s is not in this repository: %v", got, err)
	}
}

func TestStartFailsClearlyWithoutTheCLI(t *testing.T) {
	t.Setenv("DUOSYNC_CLI", filepath.Join(t.TempDir(), "missing"))
	if c, err := Start(1); err == nil {
		c.Close()
		t.Fatal("Start succeeded without a CLI")
	}
}
