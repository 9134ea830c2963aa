package duosync_test

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"duosync.dev/duosync"
)

// startEtcd runs a one-member etcd (Debian's etcd-server) on free loopback ports for the test.
func startEtcd(t *testing.T) string {
	t.Helper()
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}
	client, peer := free(), free()
	cmd := exec.Command("/usr/bin/etcd", "--name=go", "--data-dir="+t.TempDir()+"/data",
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=go="+peer)
	if err := cmd.Start(); err != nil {
		t.Fatalf("etcd: %v (install etcd-server: scripts/bootstrap)", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if !eventually(60*time.Second, func() bool {
		reply, err := http.Get(client + "/health")
		if err != nil {
			return false
		}
		defer reply.Body.Close()
		var health map[string]any
		return json.NewDecoder(reply.Body).Decode(&health) == nil && health["health"] == "true"
	}) {
		t.Fatal("etcd did not start")
	}
	return client
}

func linkOf(status map[string]any, name string) map[string]any {
	links, _ := status["links"].([]any)
	for _, l := range links {
		if link, ok := l.(map[string]any); ok && link["name"] == name {
			return link
		}
	}
	return nil
}

// Two members of one coordinated project: the links run in one, the other stands by; when the
// first closes, the second takes them over and its status says from whom, when and at which epoch.
func TestCoordinatedTakeoverIsVisible(t *testing.T) {
	if _, err := os.Stat("/usr/bin/etcd"); err != nil {
		t.Fatal("etcd is not installed (/usr/bin/etcd): run scripts/bootstrap")
	}
	url := startEtcd(t)
	var c map[string]any
	if err := json.Unmarshal([]byte(activeActive(t, newTable(t))), &c); err != nil {
		t.Fatal(err)
	}
	c["coordination"] = map[string]any{"etcd_endpoints": []string{url}, "lease_ttl_seconds": 2,
		"key_prefix": "/go-test"}
	text, _ := json.Marshal(c)
	first, second := open(t, string(text)), open(t, string(text))
	start(t, first)
	start(t, second)
	var runner, standby *duosync.Project
	if !eventually(30*time.Second, func() bool {
		s1, err1 := first.Status()
		s2, err2 := second.Status()
		if err1 != nil || err2 != nil {
			return false
		}
		f1, f2 := linkOf(s1, "forward"), linkOf(s2, "forward")
		switch {
		case f1["stage"] == "incremental" && f2["stage"] == "standby":
			runner, standby = first, second
		case f2["stage"] == "incremental" && f1["stage"] == "standby":
			runner, standby = second, first
		default:
			return false
		}
		return f1["owner_member"] != "" && f1["owner_member"] == f2["owner_member"]
	}) {
		s1, _ := first.Status()
		s2, _ := second.Status()
		t.Fatalf("the forward link did not settle on one member: %v / %v", s1, s2)
	}
	rs, _ := runner.Status()
	gone := rs["coordination"].(map[string]any)["member"].(string)
	if err := runner.Close(); err != nil {
		t.Fatal(err)
	}
	var forward map[string]any
	if !eventually(30*time.Second, func() bool {
		s, err := standby.Status()
		if err != nil {
			return false
		}
		forward = linkOf(s, "forward")
		takeovers, _ := forward["takeovers"].([]any)
		return forward["stage"] == "incremental" && len(takeovers) > 0
	}) {
		t.Fatalf("the standby did not take the forward link over: %v", forward)
	}
	takeovers := forward["takeovers"].([]any)
	last := takeovers[len(takeovers)-1].(map[string]any)
	if last["from_member"] != gone || !strings.Contains(gone, ":") {
		t.Errorf("takeover from %v, want %s", last["from_member"], gone)
	}
	if at, ok := last["at_unix_ms"].(int64); !ok || at <= 0 {
		t.Errorf("at_unix_ms = %#v, want a positive int64", last["at_unix_ms"])
	}
	if epoch, ok := last["epoch"].(int64); !ok || epoch != forward["epoch"].(int64) {
		t.Errorf("takeover epoch %#v, link epoch %#v", last["epoch"], forward["epoch"])
	}
}
