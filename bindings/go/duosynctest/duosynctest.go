// Package duosynctest starts real MariaDB servers for tests through `duosync servers` (which needs
// mariadb-server) and runs SQL on them through the mariadb client.
//
//	cluster, err := duosynctest.Start(2)
//	...
//	defer cluster.Close()
//	a, b := cluster.Servers[0], cluster.Servers[1]
//	_, err = duosynctest.Exec(a.Endpoint, "CREATE DATABASE db1")
//
// The CLI is found through DUOSYNC_CLI, else DUOSYNC_BUILD_DIR/duosync, else the build tree of
// the repository this package's source lives in.
package duosynctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// startTimeout bounds how long the CLI may take to print the servers' endpoints.
const startTimeout = 2 * time.Minute

// Endpoint is a server as a project config endpoint; it marshals to the config's JSON.
type Endpoint struct {
	Region   string `json:"region"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// Server is one server as the CLI printed it.
type Server struct {
	Endpoint
	ServerID int    `json:"server_id"`
	Dir      string `json:"dir"`
}

// Cluster is a running `duosync servers` process and its servers.
type Cluster struct {
	Servers []Server

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer
	tmp    string
}

// CLIPath returns the duosync binary this package runs.
func CLIPath() string {
	if p := os.Getenv("DUOSYNC_CLI"); p != "" {
		return p
	}
	if d := os.Getenv("DUOSYNC_BUILD_DIR"); d != "" {
		return filepath.Join(d, "duosync")
	}
	// This file is bindings/go/duosynctest/duosynctest.go in the repository.
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "build", "duosync")
}

// Start starts count fresh MariaDB servers. Close removes them.
func Start(count int) (*Cluster, error) {
	// A private TMPDIR for the servers' data and for MariaDB's temporary files: in a /tmp shared
	// with other test runs, mariadb-install-db sometimes loses its temp tables to theirs.
	tmp, err := os.MkdirTemp("", "duosync-servers-")
	if err != nil {
		return nil, fmt.Errorf("duosynctest: %w", err)
	}
	cli := CLIPath()
	cmd := exec.Command(cli, "servers", "--count", strconv.Itoa(count))
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	c := &Cluster{cmd: cmd, tmp: tmp, stderr: &bytes.Buffer{}}
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		c.stdin, err = cmd.StdinPipe()
	}
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("duosynctest: %w", err)
	}

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		// Keep draining so the CLI never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		if err := json.Unmarshal([]byte(s), &c.Servers); err != nil || len(c.Servers) != count {
			c.Close()
			return nil, fmt.Errorf("duosynctest: %s servers printed %q, want %d endpoints (%v): %s",
				cli, s, count, err, strings.TrimSpace(c.stderr.String()))
		}
		return c, nil
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		c.Close()
		return nil, fmt.Errorf("duosynctest: %s servers printed nothing in %v", cli, startTimeout)
	}
}

// Close stops the servers and removes their data (the CLI does both when its stdin closes).
func (c *Cluster) Close() error {
	if c.stdin == nil {
		return nil
	}
	c.stdin.Close()
	c.stdin = nil
	defer os.RemoveAll(c.tmp)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		return fmt.Errorf("duosynctest: servers did not stop in time, killed: %v", <-done)
	}
}

// Exec runs SQL on e through the mariadb client and returns the result rows, one string per
// column (NULL reads "NULL", the client's batch format).
func Exec(e Endpoint, sql string) ([][]string, error) {
	cmd := exec.Command("mariadb", "--batch", "--skip-column-names", "--protocol=TCP",
		"--host="+e.Host, "--port="+strconv.Itoa(e.Port), "--user="+e.User, "-e", sql)
	// The password goes through the environment, not argv where ps shows it.
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+e.Password)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("duosynctest: mariadb %q on port %d: %w: %s", sql, e.Port, err,
			strings.TrimSpace(stderr.String()))
	}
	if stdout.Len() == 0 {
		return nil, nil
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows, nil
}
