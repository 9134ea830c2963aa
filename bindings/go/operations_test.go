package duosync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"duosync.dev/duosync"
)

// recorder is an event callback that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	events []duosync.Event
}

func (r *recorder) record(e duosync.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) of(kind int) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e.JSON)
		}
	}
	return out
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) hasStage(link, stage string) bool {
	for _, e := range r.of(duosync.EventStage) {
		if e["link"] == link && e["stage"] == stage {
			return true
		}
	}
	return false
}

// eventually polls cond every 50 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func start(t *testing.T, p *duosync.Project) {
	t.Helper()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// activeActive returns an active-active project over the two servers.
func activeActive(t *testing.T, objects string) string {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(config(t, objects)), &c); err != nil {
		t.Fatal(err)
	}
	c["scenario"] = "ACTIVE_ACTIVE"
	c["reverse"] = map[string]any{"migration_types": []string{"INCREMENTAL"}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEvents(t *testing.T) {
	var first recorder
	p := open(t, config(t, newTable(t)))
	if err := p.OnEvent(first.record); err != nil { // before Start: the first stage is an event too
		t.Fatal(err)
	}
	started := time.Now()
	start(t, p)
	if !eventually(3*time.Second, func() bool { return len(first.of(duosync.EventProgress)) > 0 }) {
		t.Fatalf("no progress event within 3 s: %v", first.events)
	}
	if time.Since(started) > 3*time.Second || !first.hasStage("forward", "incremental") {
		t.Errorf("stage events %v", first.of(duosync.EventStage))
	}
	progress := first.of(duosync.EventProgress)[0]
	links, _ := progress["links"].([]any)
	if progress["state"] != "running" || len(links) != 1 {
		t.Errorf("progress event %v", progress)
	}

	// A new callback replaces the first; nil unsubscribes.
	var second recorder
	if err := p.OnEvent(second.record); err != nil {
		t.Fatal(err)
	}
	seen := first.count()
	if !eventually(3*time.Second, func() bool { return len(second.of(duosync.EventProgress)) > 0 }) {
		t.Fatal("the new callback gets no progress event")
	}
	if n := first.count(); n > seen+1 { // at most one call already under way
		t.Errorf("the replaced callback got %d more events", n-seen)
	}
	if err := p.OnEvent(nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a call under way may still finish
	quiet := second.count()
	time.Sleep(1300 * time.Millisecond)
	if n := second.count(); n != quiet {
		t.Errorf("%d events after OnEvent(nil)", n-quiet)
	}

	// Close clears the callback first: not even the link's "stopped" stage comes.
	if err := p.OnEvent(first.record); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	closed := first.count()
	time.Sleep(1200 * time.Millisecond)
	if n := first.count(); n != closed || first.hasStage("forward", "stopped") {
		t.Errorf("events after Close: %v", first.events[closed:])
	}
	if err := p.OnEvent(first.record); !errors.Is(err, duosync.ErrFailedPrecondition) {
		t.Errorf("OnEvent after Close = %v", err)
	}
}

// logBuffer captures the log package's output during a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestEventCallbackPanicIsRecovered(t *testing.T) {
	var logs logBuffer
	log.SetOutput(&logs)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })

	var mu sync.Mutex
	progress := 0
	p := open(t, config(t, newTable(t)))
	err := p.OnEvent(func(e duosync.Event) {
		mu.Lock()
		if e.Kind == duosync.EventProgress {
			progress++
		}
		mu.Unlock()
		panic("callback bug")
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, p)
	if !eventually(4*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return progress >= 2 }) {
		t.Fatal("events stopped after a panic")
	}
	if !strings.Contains(logs.String(), "callback bug") {
		t.Errorf("the panic was not logged: %q", logs.String())
	}
}

func TestCloseInsideTheCallback(t *testing.T) {
	p, err := duosync.Open(config(t, newTable(t)))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	var once sync.Once
	err = p.OnEvent(func(e duosync.Event) {
		if e.Kind == duosync.EventProgress {
			once.Do(func() { closed <- p.Close() })
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, p)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no progress event")
	}
	if _, err := p.Status(); !errors.Is(err, duosync.ErrFailedPrecondition) {
		t.Errorf("Status after Close = %v", err)
	}
}

func TestVerify(t *testing.T) {
	table := newTable(t)
	for _, s := range cluster.Servers {
		mustExec(t, s.Endpoint, "INSERT INTO "+table+" VALUES (1, 'one'), (2, 'two'), (3, 'three')")
	}
	b := cluster.Servers[1].Endpoint
	p := open(t, config(t, table))
	report, err := p.Verify(false)
	if err != nil {
		t.Fatal(err)
	}
	tables, _ := report["tables"].([]any)
	if report["equal"] != true || len(tables) != 1 ||
		tables[0].(map[string]any)["table"] != table || report["rows_checked"] != 3.0 {
		t.Fatalf("report on equal tables: %v", report)
	}

	mustExec(t, b, "DELETE FROM "+table+" WHERE id = 2")
	report, err = p.Verify(false) // a difference is reported, not an error
	if err != nil {
		t.Fatal(err)
	}
	missing := report["tables"].([]any)[0].(map[string]any)["missing"]
	if report["equal"] != false || !reflect.DeepEqual(missing, []any{"id=2"}) {
		t.Fatalf("report after a delete on B: %v", report)
	}
	if got := mustExec(t, b, "SELECT count(*) FROM "+table); got[0][0] != "2" {
		t.Errorf("Verify(false) changed B: %v rows", got)
	}

	report, err = p.Verify(true)
	if err != nil {
		t.Fatal(err)
	}
	if report["equal"] != false || report["repaired"] != true { // as found, before the repair
		t.Errorf("repair report: %v", report)
	}
	if report, err = p.Verify(false); err != nil || report["equal"] != true {
		t.Errorf("Verify after the repair = %v, %v", report, err)
	}
}

func TestVerifyThatCannotConnectFails(t *testing.T) {
	p := open(t, strings.Replace(offline, `"port": 3306`, `"port": 1`, 1))
	report, err := p.Verify(false)
	if err == nil || errors.Is(err, duosync.ErrDataLoss) || report != nil {
		t.Errorf("Verify = %v, %v", report, err)
	}
}

func TestSwitchover(t *testing.T) {
	a, b := cluster.Servers[0].Endpoint, cluster.Servers[1].Endpoint
	table := newTable(t)
	var events recorder
	p := open(t, config(t, table))
	if err := p.OnEvent(events.record); err != nil {
		t.Fatal(err)
	}
	start(t, p)
	mustExec(t, a, "INSERT INTO "+table+" VALUES (1, 'from a')")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Switchover(ctx, false); err != nil {
		t.Fatal(err)
	}
	// Everything A wrote was on B before the roles swapped.
	if got := mustExec(t, b, "SELECT v FROM "+table); !reflect.DeepEqual(got, [][]string{{"from a"}}) {
		t.Errorf("B has %v", got)
	}
	mustExec(t, b, "INSERT INTO "+table+" VALUES (2, 'from b')")
	if !eventually(20*time.Second, func() bool {
		return len(mustExec(t, a, "SELECT v FROM "+table+" WHERE id = 2")) == 1
	}) {
		t.Fatal("B's write did not reach A")
	}
	status, err := p.Status()
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]any{}
	for _, l := range status["links"].([]any) {
		stages[l.(map[string]any)["name"].(string)] = l.(map[string]any)["stage"]
	}
	if !reflect.DeepEqual(stages, map[string]any{"forward": "stopped", "reverse": "incremental"}) {
		t.Errorf("link stages %v", stages)
	}
	if !eventually(2*time.Second, func() bool { return events.hasStage("reverse", "incremental") }) {
		t.Errorf("no stage event of the reverse link: %v", events.of(duosync.EventStage))
	}
	// A second switchover returns the roles.
	if err := p.Switchover(ctx, false); err != nil {
		t.Fatal(err)
	}
	mustExec(t, a, "INSERT INTO "+table+" VALUES (3, 'from a again')")
	if !eventually(20*time.Second, func() bool {
		return len(mustExec(t, b, "SELECT v FROM "+table+" WHERE id = 3")) == 1
	}) {
		t.Fatal("A's write after the second switchover did not reach B")
	}
}

func TestSwitchoverNeedsARunningOneWayProject(t *testing.T) {
	p := open(t, offline)
	if err := p.Switchover(context.Background(), false); !errors.Is(err, duosync.ErrFailedPrecondition) {
		t.Errorf("Switchover of a project never started = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Switchover(ctx, true); !errors.Is(err, context.Canceled) {
		t.Errorf("Switchover with a cancelled context = %v", err)
	}
	past, stop := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer stop()
	if err := p.Switchover(past, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Switchover with a past deadline = %v", err)
	}
	aa := open(t, activeActive(t, newTable(t)))
	if err := aa.Switchover(context.Background(), false); !errors.Is(err, duosync.ErrFailedPrecondition) ||
		!strings.Contains(err.Error(), "ACTIVE_ACTIVE") {
		t.Errorf("Switchover of an active-active project = %v", err)
	}
}

func TestConflictsOfAOneWayProject(t *testing.T) {
	p := open(t, config(t, newTable(t)))
	start(t, p)
	got, err := p.Conflicts()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"forward": map[string]any{"total": 0.0, "conflicts": []any{}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Conflicts() = %v, want %v", got, want)
	}
}

func TestPauseAndResume(t *testing.T) {
	p := open(t, config(t, newTable(t)))
	start(t, p)
	if err := p.Pause("forward"); err != nil {
		t.Fatal(err)
	}
	if err := p.Pause("sideways"); !errors.Is(err, duosync.ErrNotFound) {
		t.Errorf("Pause(sideways) = %v, want ErrNotFound", err)
	}
	stage := func() string {
		st, err := p.Status()
		if err != nil {
			t.Fatal(err)
		}
		return st["links"].([]any)[0].(map[string]any)["stage"].(string)
	}
	if got := stage(); got != "paused" {
		t.Errorf("stage after Pause = %q", got)
	}
	if err := p.Resume(""); err != nil {
		t.Fatal(err)
	}
	if got := stage(); got != "incremental" {
		t.Errorf("stage after Resume = %q", got)
	}
}

func TestActiveActiveConflict(t *testing.T) {
	a, b := cluster.Servers[0].Endpoint, cluster.Servers[1].Endpoint
	table := newTable(t)
	var events recorder
	p := open(t, activeActive(t, table))
	if err := p.OnEvent(events.record); err != nil {
		t.Fatal(err)
	}
	start(t, p)
	mustExec(t, a, "INSERT INTO "+table+" VALUES (1, 'a')")
	if !eventually(20*time.Second, func() bool { return len(mustExec(t, b, "SELECT v FROM "+table)) == 1 }) {
		t.Fatal("A's insert did not reach B")
	}
	// Change B's row behind the links' back, then update it on A: the forward link finds another
	// row on B than the one A changed.
	mustExec(t, b, "SET sql_log_bin=0; UPDATE "+table+" SET v='b only' WHERE id = 1")
	mustExec(t, a, "UPDATE "+table+" SET v='a again' WHERE id = 1")
	var conflicts map[string]any
	if !eventually(20*time.Second, func() bool {
		var err error
		conflicts, err = p.Conflicts()
		return err == nil && conflicts["forward"].(map[string]any)["total"] == 1.0
	}) {
		t.Fatalf("Conflicts() = %v", conflicts)
	}
	record := conflicts["forward"].(map[string]any)["conflicts"].([]any)[0].(map[string]any)
	if record["table"] != table || record["key"] != "id=1" || record["operation"] != "UPDATE" {
		t.Errorf("conflict record %v", record)
	}
	if !eventually(3*time.Second, func() bool { return len(events.of(duosync.EventConflict)) == 1 }) ||
		!reflect.DeepEqual(events.of(duosync.EventConflict)[0], record) {
		t.Errorf("conflict events %v, want %v", events.of(duosync.EventConflict), record)
	}
}

// The child process of TestLogLevel, run by TestMain: sets the level, starts and closes a project.
const logLevelChildEnv = "DUOSYNC_TEST_LOG_LEVEL"

func logLevelChild(level string) int {
	n, err := strconv.Atoi(level)
	if err == nil {
		duosync.SetLogLevel(duosync.LogLevel(n))
		var p *duosync.Project
		if p, err = duosync.Open(os.Getenv("DUOSYNC_TEST_CONFIG")); err == nil {
			err = p.Start(context.Background())
			p.Close()
		}
	}
	if err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

func TestLogLevel(t *testing.T) {
	table := newTable(t)
	stderr := map[duosync.LogLevel]string{}
	for _, level := range []duosync.LogLevel{duosync.LogInfo, duosync.LogNone} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		// A new project name each time: a new checkpoint logs "starting at", not "resuming".
		cmd.Env = append(os.Environ(), logLevelChildEnv+"="+strconv.Itoa(int(level)),
			"DUOSYNC_TEST_CONFIG="+config(t, table))
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("child at level %d: %v: %s %s", level, err, out.String(), errOut.String())
		}
		stderr[level] = errOut.String()
	}
	if !strings.Contains(stderr[duosync.LogInfo], "starting at") {
		t.Errorf("no INFO line at LogInfo: %q", stderr[duosync.LogInfo])
	}
	if strings.Contains(stderr[duosync.LogInfo], cluster.Servers[0].Password) {
		t.Error("the log shows a password")
	}
	if stderr[duosync.LogNone] != "" {
		t.Errorf("output at LogNone: %q", stderr[duosync.LogNone])
	}
}

func TestReplay(t *testing.T) {
	a, b := cluster.Servers[0].Endpoint, cluster.Servers[1].Endpoint
	table := newTable(t)
	var c map[string]any
	if err := json.Unmarshal([]byte(config(t, table)), &c); err != nil {
		t.Fatal(err)
	}
	c["data_dir"] = t.TempDir()
	c["forward"].(map[string]any)["options"] = map[string]any{"retention_hours": 1}
	text, _ := json.Marshal(c)
	p := open(t, string(text))
	start(t, p)
	mustExec(t, a, "INSERT INTO "+table+" VALUES (1, 'one'), (2, 'two')")
	count := func() string { return mustExec(t, b, "SELECT count(*) FROM "+table)[0][0] }
	if !eventually(10*time.Second, func() bool { return count() == "2" }) {
		t.Fatal("the rows did not arrive")
	}
	position := mustExec(t, a, "SELECT @@gtid_binlog_pos")[0][0]
	mustExec(t, a, "UPDATE "+table+" SET v = 'uno' WHERE id = 1")
	if !eventually(10*time.Second, func() bool {
		return mustExec(t, b, "SELECT v FROM "+table+" WHERE id = 1")[0][0] == "uno"
	}) {
		t.Fatal("the update did not arrive")
	}

	mustExec(t, b, "DELETE FROM "+table) // a mistake on the destination
	got, err := p.Replay("forward", position)
	if err != nil || got != position {
		t.Fatalf("Replay(forward, %s) = %q, %v", position, got, err)
	}
	// The row changed after the position comes back; the other was not changed since.
	if !eventually(10*time.Second, func() bool {
		rows := mustExec(t, b, "SELECT id, v FROM "+table)
		return len(rows) == 1 && rows[0][0] == "1" && rows[0][1] == "uno"
	}) {
		t.Errorf("after the replay B has %v", mustExec(t, b, "SELECT id, v FROM "+table))
	}
	if _, err := p.ReplaySince("forward", time.Unix(1, 0)); !errors.Is(err, duosync.ErrOutOfRange) {
		t.Errorf("ReplaySince(1970) = %v, want ErrOutOfRange", err)
	}
	if _, err := p.Replay("sideways", position); !errors.Is(err, duosync.ErrNotFound) {
		t.Errorf("Replay(sideways) = %v, want ErrNotFound", err)
	}
}
