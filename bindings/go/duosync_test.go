package duosync_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"duosync.dev/duosync"
	"duosync.dev/duosync/duosynctest"
)

// One server pair for the whole test binary.
var cluster *duosynctest.Cluster

func TestMain(m *testing.M) {
	if level := os.Getenv(logLevelChildEnv); level != "" {
		os.Exit(logLevelChild(level)) // a child process of TestLogLevel: no servers of its own
	}
	var err error
	cluster, err = duosynctest.Start(2)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := cluster.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

var ids atomic.Int64

// offline is valid but names servers that no test starts: fine where nothing connects.
const offline = `{"name": "offline", "scenario": "DATA_MIGRATION",
 "endpoints": {
  "a": {"region": "region-1", "host": "127.0.0.1", "port": 3306, "user": "u", "password": "offline-secret"},
  "b": {"region": "region-1", "host": "127.0.0.1", "port": 3307, "user": "u", "password": "offline-secret"}},
 "forward": {"migration_types": ["INCREMENTAL"], "objects": {"import": "db1.t1"}}}`

func mustExec(t *testing.T, e duosynctest.Endpoint, sql string) [][]string {
	t.Helper()
	rows, err := duosynctest.Exec(e, sql)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// newTable creates a fresh database with table t on both servers and returns "db.t".
func newTable(t *testing.T) string {
	t.Helper()
	db := fmt.Sprintf("go%d", ids.Add(1))
	for _, s := range cluster.Servers {
		mustExec(t, s.Endpoint, "CREATE DATABASE "+db+"; CREATE TABLE "+db+
			".t (id INT PRIMARY KEY, v VARCHAR(32))")
	}
	t.Cleanup(func() {
		for _, s := range cluster.Servers {
			_, _ = duosynctest.Exec(s.Endpoint, "DROP DATABASE IF EXISTS "+db)
		}
	})
	return db + ".t"
}

// config returns an incremental data-migration project over the two servers.
func config(t *testing.T, objects string) string {
	t.Helper()
	c := map[string]any{
		"name":     fmt.Sprintf("go-%d", ids.Add(1)),
		"scenario": "DATA_MIGRATION",
		"endpoints": map[string]any{
			"a": cluster.Servers[0].Endpoint, "b": cluster.Servers[1].Endpoint},
		"forward": map[string]any{
			"migration_types": []string{"INCREMENTAL"},
			"objects":         map[string]any{"import": objects},
		},
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func open(t *testing.T, configJSON string) *duosync.Project {
	t.Helper()
	p, err := duosync.Open(configJSON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestVersion(t *testing.T) {
	if got := duosync.Version(); got != "0.4.0" {
		t.Errorf("Version() = %q", got)
	}
	if got := duosync.VersionNumber(); got/1000000 != 0 {
		t.Errorf("VersionNumber() = %d", got)
	}
}

func TestOpenInvalidConfig(t *testing.T) {
	p, err := duosync.Open(`{"name": "x", "colour": 1}`)
	if p != nil || !errors.Is(err, duosync.ErrInvalidArgument) {
		t.Fatalf("Open = %v, %v; want ErrInvalidArgument", p, err)
	}
	if errors.Is(err, duosync.ErrFailedPrecondition) {
		t.Error("an InvalidArgument error matches ErrFailedPrecondition")
	}
	var e *duosync.Error
	if !errors.As(err, &e) || e.Code != duosync.InvalidArgument || !strings.Contains(e.Message, "colour") {
		t.Errorf("error %#v does not name the field", err)
	}
	if duosync.CodeOf(fmt.Errorf("wrapped: %w", err)) != duosync.InvalidArgument {
		t.Error("CodeOf does not see through wrapping")
	}

	_, err = duosync.Open(`{"name": "x"}`)
	if !errors.Is(err, duosync.ErrInvalidArgument) || !strings.Contains(err.Error(), "endpoints.a") {
		t.Errorf("Open of a config without endpoints = %v", err)
	}
}

func TestValidate(t *testing.T) {
	report, err := duosync.Validate(`{"name": "x"}`)
	if err != nil {
		t.Fatal(err)
	}
	if report["ok"] != false {
		t.Errorf("ok = %v", report["ok"])
	}
	fields := map[string]bool{}
	for _, e := range report["errors"].([]any) {
		e := e.(map[string]any)
		fields[e["field"].(string)] = true
		if e["message"] == "" || e["fix"] == "" {
			t.Errorf("error without message or fix: %v", e)
		}
	}
	if !fields["endpoints.a"] || !fields["forward"] {
		t.Errorf("fields = %v", fields)
	}

	report, err = duosync.Validate(offline)
	if err != nil || report["ok"] != true {
		t.Errorf("Validate(valid) = %v, %v", report, err)
	}
}

func TestCodes(t *testing.T) {
	for code, want := range map[duosync.Code]string{
		duosync.InvalidArgument: "INVALID_ARGUMENT", duosync.Unavailable: "UNAVAILABLE",
		duosync.Code(99): "CODE_99"} {
		if code.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(code), code, want)
		}
	}
	if duosync.FailedPrecondition != 9 || duosync.Unauthenticated != 16 {
		t.Error("codes differ from the C ones")
	}
	err := &duosync.Error{Code: duosync.NotFound, Message: "gone"}
	if !errors.Is(err, duosync.ErrNotFound) || errors.Is(err, duosync.ErrUnavailable) {
		t.Error("errors.Is by code fails")
	}
	if errors.Is(duosync.ErrNotFound, err) {
		t.Error("a sentinel matches an error with a message")
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	p, err := duosync.Open(offline)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Status(); !errors.Is(err, duosync.ErrFailedPrecondition) {
		t.Errorf("Status after Close = %v", err)
	}
}

func TestStartHonoursACancelledContext(t *testing.T) {
	p := open(t, offline)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Start = %v", err)
	}
}

func TestPrecheckPasses(t *testing.T) {
	p := open(t, config(t, newTable(t)))
	report, err := p.Precheck()
	if err != nil {
		t.Fatal(err)
	}
	if report["ok"] != true {
		t.Errorf("precheck failed: %v", report)
	}
}

func TestPrecheckFailsForAMissingTable(t *testing.T) {
	missing := strings.Split(newTable(t), ".")[0] + ".missing"
	p := open(t, config(t, missing))
	report, err := p.Precheck()
	if err != nil {
		t.Fatal(err)
	}
	if report["ok"] != false {
		t.Fatalf("precheck passed: %v", report)
	}
	found := false
	for _, c := range report["checks"].([]any) {
		c := c.(map[string]any)
		if c["status"] == "FAILED" && strings.Contains(c["message"].(string), missing) {
			found = true
		}
	}
	if !found {
		t.Errorf("no FAILED check names %s: %v", missing, report)
	}
}

func TestIncrementalReplicates(t *testing.T) {
	a, b := cluster.Servers[0].Endpoint, cluster.Servers[1].Endpoint
	table := newTable(t)
	p := open(t, config(t, table))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); !errors.Is(err, duosync.ErrFailedPrecondition) {
		t.Errorf("second Start = %v", err)
	}
	short, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	defer stop()
	if err := p.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on a running incremental link = %v", err)
	}

	mustExec(t, a, "INSERT INTO "+table+" VALUES (1, 'one'), (2, 'two')")
	want := [][]string{{"1", "one"}, {"2", "two"}}
	var got [][]string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if got = mustExec(t, b, "SELECT id, v FROM "+table+" ORDER BY id"); reflect.DeepEqual(got, want) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("B has %v, want %v", got, want)
	}

	status, err := p.Status()
	if err != nil {
		t.Fatal(err)
	}
	if status["state"] != "running" {
		t.Errorf("state = %v", status["state"])
	}
	forward := status["links"].([]any)[0].(map[string]any)
	if forward["stage"] != "incremental" {
		t.Errorf("stage = %v", forward["stage"])
	}
	// Counters come back as numbers (the C ABI's JSON writes 64-bit counters as strings).
	if n, ok := forward["transactions_applied"].(int64); !ok || n < 1 {
		t.Errorf("transactions_applied = %#v", forward["transactions_applied"])
	}
	raw, _ := json.Marshal(status)
	if strings.Contains(string(raw), a.Password) {
		t.Errorf("status shows the password: %s", raw)
	}

	// The embedded project serves Prometheus metrics on a port of its own.
	port, err := p.Listen("127.0.0.1:0")
	if err != nil || port <= 0 {
		t.Fatalf("Listen = %d, %v", port, err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `duosync_link_transactions_applied_total{project=`) ||
		strings.Contains(string(body), a.Password) {
		t.Errorf("metrics:\n%s", body)
	}
	if _, err := p.Listen("no port"); !errors.Is(err, duosync.ErrInvalidArgument) {
		t.Errorf("Listen(bad address) = %v", err)
	}
	if _, err := p.Listen(""); err != nil {
		t.Errorf("Listen(\"\") = %v", err)
	}

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop = %v", err)
	}
	if status, _ := p.Status(); status["state"] != "stopped" {
		t.Errorf("state after Stop = %v", status["state"])
	}
}

func TestCloseWhileWaiting(t *testing.T) {
	p, err := duosync.Open(config(t, newTable(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- p.Wait(context.Background()) }()
	time.Sleep(300 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		t.Logf("Wait after Close: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after Close")
	}
}
