package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRunVersionPrintsTheName(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, noEnv, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("version: exit %d, stderr %q", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "terroir ") {
		t.Fatalf("version printed %q, want it to start with %q", stdout.String(), "terroir ")
	}
}

func TestRunUnknownCommandExits2(t *testing.T) {
	for _, args := range [][]string{{"serv"}, {}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, noEnv, strings.NewReader(""), &stdout, &stderr); code != 2 {
			t.Errorf("run %q: exit %d, want 2", args, code)
		}
		if !strings.Contains(stderr.String(), "usage: terroir") {
			t.Errorf("run %q: stderr %q lacks the usage", args, stderr.String())
		}
	}
}

func noEnv(string) string { return "" }

// TestCrashLosesNothingAcknowledged kills the server with SIGKILL while
// writes are in flight and restarts it on the same data directory: every
// cooperative and member that was answered 201 must still be there, and the
// lock file of the killed process must not keep the new one out.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	data := t.TempDir()
	srv := startTerroir(t, data)
	token := srv.token(t)

	const writers, perWriter = 3, 10 // N = 30 cooperatives before the crash
	var mu sync.Mutex
	acked := map[string][]string{} // cooperative code → acknowledged member IDs
	ack := func(code, member string) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := acked[code]; !ok {
			acked[code] = nil
		}
		if member != "" {
			acked[code] = append(acked[code], member)
		}
	}
	// write creates cooperatives prefix-1… and two members for each, up to
	// n, and stops at the first failure: after a crash nothing more is
	// acknowledged. It reports each acknowledged cooperative on progress.
	write := func(prefix string, n int, progress chan<- struct{}) error {
		for i := 1; i <= n; i++ {
			code := fmt.Sprintf("%s-%03d", prefix, i)
			if err := srv.create(token, "/api/v1/cooperatives", map[string]string{
				"code": code, "name": "Coopérative " + code, "kind": "saffron", "commune": "Taliouine", "province": "Taroudannt",
			}, nil); err != nil {
				return err
			}
			ack(code, "")
			for j, gender := range []string{"female", "male"} {
				var m struct {
					ID string `json:"id"`
				}
				if err := srv.create(token, "/api/v1/cooperatives/"+code+"/members", map[string]string{
					"name": fmt.Sprintf("Membre %d", j), "gender": gender, "village": "Tinfat",
				}, &m); err != nil {
					return err
				}
				ack(code, m.ID)
			}
			if progress != nil {
				progress <- struct{}{}
			}
		}
		return nil
	}

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() { errs <- write(fmt.Sprintf("A%d", w), perWriter, nil) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("before the crash: %v", err)
		}
	}
	if len(acked) != writers*perWriter {
		t.Fatalf("%d cooperatives acknowledged before the crash, want %d", len(acked), writers*perWriter)
	}

	// A further batch; kill the server once it is well under way, so some
	// requests are cut off in the middle.
	progress := make(chan struct{}, writers*perWriter)
	for w := range writers {
		wg.Go(func() { _ = write(fmt.Sprintf("B%d", w), perWriter, progress) })
	}
	for range writers {
		<-progress
	}
	srv.kill(t)
	wg.Wait()
	if n := len(acked) - writers*perWriter; n == writers*perWriter {
		t.Logf("the whole second batch was acknowledged before the kill: nothing was in flight")
	} else {
		t.Logf("killed with %d of %d cooperatives of the second batch acknowledged", n, writers*perWriter)
	}

	srv = startTerroir(t, data) // the killed process's lock must not refuse this
	token = srv.token(t)
	got := map[string]bool{}
	for offset := 0; ; offset += 200 {
		var page []struct {
			Code string `json:"code"`
		}
		srv.get(t, token, fmt.Sprintf("/api/v1/cooperatives?limit=200&offset=%d", offset), &page)
		for _, c := range page {
			got[c.Code] = true
		}
		if len(page) < 200 {
			break
		}
	}
	members := 0
	for code, ids := range acked {
		if !got[code] {
			t.Errorf("cooperative %s was acknowledged and is lost", code)
			continue
		}
		var ms []struct {
			ID string `json:"id"`
		}
		srv.get(t, token, "/api/v1/cooperatives/"+code+"/members?limit=200", &ms)
		have := map[string]bool{}
		for _, m := range ms {
			have[m.ID] = true
		}
		for _, id := range ids {
			if !have[id] {
				t.Errorf("member %s of %s was acknowledged and is lost", id, code)
			}
			members++
		}
	}
	t.Logf("%d acknowledged cooperatives and %d members survived the crash", len(acked), members)
}

func TestSecondServerOnSameDataDirExits(t *testing.T) {
	data := t.TempDir()
	startTerroir(t, data)
	cmd := exec.Command(terroirBinary(t), "serve", "--addr", "127.0.0.1:0")
	cmd.Env = serverEnv(data)
	done := make(chan struct{})
	timer := time.AfterFunc(30*time.Second, func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	close(done)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
		t.Fatalf("second server on the same data directory: %v, want a non-zero exit\n%s", err, out)
	}
	if !strings.Contains(string(out), "in use") {
		t.Fatalf("second server's message does not say the directory is in use:\n%s", out)
	}
}

// TestGracefulShutdownFinishesRequests sends SIGTERM while a request is
// inside its handler: the request still gets its answer, and the process
// exits 0 after logging "stopped".
func TestGracefulShutdownFinishesRequests(t *testing.T) {
	srv := startTerroir(t, t.TempDir())
	token := srv.token(t)

	// "Expect: 100-continue" makes the server answer "100 Continue" only
	// when the handler starts reading the body, so the test knows the
	// request is in flight before it signals the server.
	conn, err := net.DialTimeout("tcp", srv.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	body := `{"code":"TAZ-01","name":"Coopérative Tazenakht","kind":"crafts","commune":"Tazenakht","province":"Ouarzazate"}`
	fmt.Fprintf(conn, "POST /api/v1/cooperatives HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", srv.addr, token, len(body))
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("waiting for 100 Continue: %q, %v", line, err)
	}
	if _, err := r.ReadString('\n'); err != nil { // the blank line after it
		t.Fatal(err)
	}

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	srv.waitForOutput(t, "shutting down")
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the request in flight at SIGTERM got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("the request in flight at SIGTERM: status %d, want 201", resp.StatusCode)
	}

	select {
	case <-srv.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30 s after SIGTERM")
	}
	if srv.waitErr != nil {
		t.Fatalf("server exit after SIGTERM: %v, want 0\nstderr: %s", srv.waitErr, srv.stderr.String())
	}
	if !srv.hasOutput(`"stopped"`) {
		t.Fatalf("no \"stopped\" log line:\n%s", srv.output())
	}
}

// --- running the real binary ---

var (
	buildOnce   sync.Once
	buildDir    string
	buildOutput []byte
	buildErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// terroirBinary builds cmd/terroir once per test run, from the module root,
// and returns the path of the binary.
func terroirBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "terroir-test-"); buildErr != nil {
			return
		}
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		// No VCS stamp: the test needs none, and it fails in clones that
		// git refuses to read (another owner, no git binary).
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(buildDir, "terroir"), "./cmd/terroir")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
		buildOutput, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build terroir: %v\n%s", buildErr, buildOutput)
	}
	return filepath.Join(buildDir, "terroir")
}

const (
	adminEmail    = "admin@crash.terroir"
	adminPassword = "correct-horse-battery"
)

// serverEnv is the environment of a server on the embedded store in data:
// the test's own environment without any Terroir, MongoDB or Stripe setting,
// so a developer's MONGODB_URI does not point the binary elsewhere.
func serverEnv(data string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TERROIR_") && !strings.HasPrefix(kv, "MONGODB_URI=") && !strings.HasPrefix(kv, "STRIPE_") {
			env = append(env, kv)
		}
	}
	return append(env, "TERROIR_DATA="+data, "TERROIR_ADMIN_EMAIL="+adminEmail, "TERROIR_ADMIN_PASSWORD="+adminPassword)
}

// server is a running `terroir serve` process.
type server struct {
	cmd     *exec.Cmd
	addr    string
	stdout  *lines
	stderr  *lines
	exited  chan struct{} // closed when the process has exited
	waitErr error         // cmd.Wait's result, once exited is closed
	client  *http.Client
}

// startTerroir starts the server on an OS-chosen loopback port and returns
// once /readyz answers 200. The process is killed when the test ends.
func startTerroir(t *testing.T, data string) *server {
	t.Helper()
	cmd := exec.Command(terroirBinary(t), "serve", "--addr", "127.0.0.1:0")
	cmd.Env = serverEnv(data)
	s := &server{cmd: cmd, stdout: newLines(), stderr: newLines(), exited: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second}}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})

	line := s.waitForOutput(t, "Terroir is listening on http://")
	rest := line[strings.Index(line, "http://")+len("http://"):]
	s.addr, _, _ = strings.Cut(rest, " ")

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.client.Get(s.url("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 after 30 s: %v\n%s", err, s.output())
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited before it was ready: %v\n%s", s.waitErr, s.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// kill sends SIGKILL and waits until the process is gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited
}

func (s *server) output() string {
	return "stdout:\n" + s.stdout.String() + "stderr:\n" + s.stderr.String()
}

func (s *server) hasOutput(substr string) bool {
	return strings.Contains(s.stdout.String(), substr) || strings.Contains(s.stderr.String(), substr)
}

// waitForOutput returns the first line of standard output that contains
// substr, waiting up to 30 s, and fails if the process exits first.
func (s *server) waitForOutput(t *testing.T, substr string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		line, changed := s.stdout.find(substr)
		if line != "" {
			return line
		}
		select {
		case <-changed:
		case <-s.exited:
			if line, _ := s.stdout.find(substr); line != "" {
				return line
			}
			t.Fatalf("server exited (%v) without printing %q\n%s", s.waitErr, substr, s.output())
		case <-deadline:
			t.Fatalf("server did not print %q within 30 s\n%s", substr, s.output())
		}
	}
}

func (s *server) token(t *testing.T) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if err := s.create("", "/api/v1/auth/token", map[string]string{"email": adminEmail, "password": adminPassword}, &out); err != nil {
		t.Fatal(err)
	}
	return out.Token
}

// create POSTs in as JSON and decodes the answer into out. Anything but
// 200 or 201 is an error: the write was not acknowledged.
func (s *server) create(token, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", s.url(path), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (s *server) get(t *testing.T, token, path string, out any) {
	t.Helper()
	req, err := http.NewRequest("GET", s.url(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: decode %q: %v", path, b, err)
	}
}

// lines collects a process's output and lets a reader wait for more.
type lines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLines() *lines { return &lines{changed: make(chan struct{})} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// find returns the first complete line containing substr, or "" and a
// channel that is closed when more output arrives.
func (l *lines) find(substr string) (string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.Lines(l.buf.String()) {
		if strings.HasSuffix(line, "\n") && strings.Contains(line, substr) {
			return strings.TrimSuffix(line, "\n"), l.changed
		}
	}
	return "", l.changed
}
