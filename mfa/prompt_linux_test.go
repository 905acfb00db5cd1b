//go:build linux

package mfa

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pty is a pseudo-terminal: the test types on master and reads what the terminal
// shows; the code under test opens slavePath as it would open /dev/tty.
type pty struct {
	master    *os.File
	slave     *os.File // kept open by the test so termios can be inspected
	slavePath string

	mu    sync.Mutex
	shown strings.Builder // everything the terminal displayed (prompts and echo)
	done  chan struct{}
}

func openPTY(t *testing.T) *pty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx (the tests need pseudo-terminals, devpts mounted on /dev/pts): %v", err)
	}
	var n int
	rc, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ioctlErr error
	if err := rc.Control(func(fd uintptr) {
		if ioctlErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioctlErr != nil {
			return
		}
		n, ioctlErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	}); err != nil || ioctlErr != nil {
		t.Fatalf("unlock pseudo-terminal: %v %v", err, ioctlErr)
	}
	p := &pty{master: master, slavePath: fmt.Sprintf("/dev/pts/%d", n), done: make(chan struct{})}
	p.slave, err = os.OpenFile(p.slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", p.slavePath, err)
	}
	go func() {
		defer close(p.done)
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.shown.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		p.slave.Close()
		master.Close()
		<-p.done
	})
	return p
}

func (p *pty) Shown() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.shown.String()
}

// waitShown waits until the terminal has displayed want n times in all.
func (p *pty) waitShown(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(p.Shown(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("terminal did not show %q %d times; it showed %d bytes", want, n, len(p.Shown()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// echo reports whether the terminal echoes input.
func (p *pty) echo(t *testing.T) bool {
	t.Helper()
	rc, err := p.slave.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var tio *unix.Termios
	var ioctlErr error
	if err := rc.Control(func(fd uintptr) { tio, ioctlErr = unix.IoctlGetTermios(int(fd), unix.TCGETS) }); err != nil || ioctlErr != nil {
		t.Fatalf("read termios: %v %v", err, ioctlErr)
	}
	return tio.Lflag&unix.ECHO != 0
}

func (p *pty) typeLine(t *testing.T, s string) {
	t.Helper()
	if _, err := p.master.WriteString(s + "\n"); err != nil {
		t.Fatal(err)
	}
}

type promptResult struct {
	code string
	err  error
}

func prompt(ctx context.Context, p *TTYPrompter, device string) <-chan promptResult {
	ch := make(chan promptResult, 1)
	go func() {
		code, err := p.PromptCode(ctx, device)
		ch <- promptResult{code, err}
	}()
	return ch
}

func result(t *testing.T, ch <-chan promptResult) promptResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("PromptCode did not return")
		return promptResult{}
	}
}

func TestTTYPrompterOnPTY(t *testing.T) {
	t.Parallel()
	term := openPTY(t)
	p := &TTYPrompter{Path: term.slavePath}
	promptA := "MFA code for " + deviceA + ": "

	// A code is read with echo on: the terminal shows what the user types.
	ch := prompt(context.Background(), p, deviceA)
	term.waitShown(t, promptA, 1)
	term.typeLine(t, "123 456")
	if r := result(t, ch); r.err != nil || r.code != "123456" {
		t.Fatalf("first prompt: err %v, right code %v", r.err, r.code == "123456")
	}
	term.waitShown(t, "123 456", 1) // echoed by the terminal

	// The same code again for the same device is refused, the next one accepted.
	ch = prompt(context.Background(), p, deviceA)
	term.waitShown(t, promptA, 2)
	term.typeLine(t, "123456")
	term.waitShown(t, "that code was already used; wait for the next one", 1)
	term.waitShown(t, promptA, 3)
	term.typeLine(t, "654321")
	if r := result(t, ch); r.err != nil || r.code != "654321" {
		t.Fatalf("second prompt: err %v, right code %v", r.err, r.code == "654321")
	}

	// Another device's last code is its own.
	ch = prompt(context.Background(), p, deviceB)
	term.waitShown(t, "MFA code for "+deviceB+": ", 1)
	term.typeLine(t, "123456")
	if r := result(t, ch); r.err != nil || r.code != "123456" {
		t.Fatalf("other device: err %v, right code %v", r.err, r.code == "123456")
	}

	// A malformed entry is re-asked.
	ch = prompt(context.Background(), p, deviceA)
	term.waitShown(t, promptA, 4)
	term.typeLine(t, "12345")
	term.waitShown(t, "not a 6-digit code", 1)
	term.waitShown(t, promptA, 5)
	term.typeLine(t, "111111")
	if r := result(t, ch); r.err != nil || r.code != "111111" {
		t.Fatalf("re-ask: err %v, right code %v", r.err, r.code == "111111")
	}
}

func TestTTYPrompterCancelWhileReading(t *testing.T) {
	t.Parallel()
	term := openPTY(t)
	p := &TTYPrompter{Path: term.slavePath}
	ctx, cancel := context.WithCancel(context.Background())
	ch := prompt(ctx, p, deviceA)
	term.waitShown(t, "MFA code for "+deviceA+": ", 1)
	cancel()
	if r := result(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", r.err)
	}
	// The prompter is usable again: the cancelled prompt gave back its turn.
	ch = prompt(context.Background(), p, deviceA)
	term.waitShown(t, "MFA code for "+deviceA+": ", 2)
	term.typeLine(t, "222222")
	if r := result(t, ch); r.err != nil || r.code != "222222" {
		t.Fatalf("after cancel: err %v, right code %v", r.err, r.code == "222222")
	}
}

// Two goroutines prompting on one TTYPrompter are asked one after the other.
func TestTTYPrompterOneQuestionAtATime(t *testing.T) {
	t.Parallel()
	term := openPTY(t)
	p := &TTYPrompter{Path: term.slavePath}
	first := prompt(context.Background(), p, deviceA)
	term.waitShown(t, "MFA code for ", 1)
	second := prompt(context.Background(), p, deviceB)
	time.Sleep(50 * time.Millisecond)
	if n := strings.Count(term.Shown(), "MFA code for "); n != 1 {
		t.Fatalf("%d prompts on the terminal while the first is unanswered, want 1", n)
	}
	term.typeLine(t, "333333")
	term.waitShown(t, "MFA code for ", 2)
	term.typeLine(t, "444444")
	r1, r2 := result(t, first), result(t, second)
	if r1.err != nil || r2.err != nil {
		t.Fatalf("errors: %v, %v", r1.err, r2.err)
	}
	got := map[string]bool{r1.code: true, r2.code: true}
	if !got["333333"] || !got["444444"] {
		t.Error("the two prompts did not get the two typed codes")
	}
}

func TestReadSecretFromTTYOnPTY(t *testing.T) {
	t.Parallel()
	term := openPTY(t)
	if !term.echo(t) {
		t.Fatal("a new pseudo-terminal does not echo")
	}
	const secret = "correct horse battery staple"
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := ReadSecretFromTTY(term.slavePath, "Passphrase: ")
		ch <- res{s, err}
	}()
	term.waitShown(t, "Passphrase: ", 1)
	// Type only once echo is off (ReadSecretFromTTY turns it off after the prompt).
	deadline := time.Now().Add(10 * time.Second)
	for term.echo(t) {
		if time.Now().After(deadline) {
			t.Fatal("echo was not turned off")
		}
		time.Sleep(5 * time.Millisecond)
	}
	term.typeLine(t, secret)
	var r res
	select {
	case r = <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("ReadSecretFromTTY did not return")
	}
	if r.err != nil {
		t.Fatalf("ReadSecretFromTTY: %v", r.err)
	}
	if r.s != secret {
		t.Errorf("read %d bytes, not the %d typed", len(r.s), len(secret))
	}
	if !term.echo(t) {
		t.Error("echo was not restored")
	}
	// The reader copies what the terminal showed on its own goroutine:
	// wait until the newline after the prompt has arrived.
	term.waitShown(t, "\n", 1)
	shown := term.Shown()
	if strings.Contains(shown, "horse") {
		t.Error("the secret was echoed")
	} else if !strings.HasSuffix(strings.ReplaceAll(shown, "\r", ""), "Passphrase: \n") {
		t.Errorf("terminal shows %q, want the prompt and a newline", shown)
	}
}

func TestReadLineFromTTYOnPTY(t *testing.T) {
	t.Parallel()
	term := openPTY(t)
	ch := make(chan string, 1)
	go func() {
		s, err := ReadLineFromTTY(term.slavePath, "Remove? [y/N] ")
		if err != nil {
			s = "error: " + err.Error()
		}
		ch <- s
	}()
	term.waitShown(t, "Remove? [y/N] ", 1)
	term.typeLine(t, "yes")
	select {
	case got := <-ch:
		if strings.TrimSpace(got) != "yes" {
			t.Errorf("ReadLineFromTTY = %q, want yes", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadLineFromTTY did not return")
	}
	if _, err := ReadLineFromTTY(filepath.Join(t.TempDir(), "missing"), "x"); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("missing terminal: err = %v", err)
	}
}

// TestReadSecretRestoresTerminalOnInterrupt: ^C (SIGINT) while a secret is
// being typed without echo gives the terminal its echo back, then ends the
// process as SIGINT does. The reader runs in a child process (this test
// binary again), since the signal ends it.
func TestReadSecretRestoresTerminalOnInterrupt(t *testing.T) {
	if path := os.Getenv("CREDBROKER_TEST_READ_SECRET_TTY"); path != "" {
		_, _ = ReadSecretFromTTY(path, "Passphrase: ")
		os.Exit(3) // not reached when the signal ends the process
	}
	t.Parallel()
	term := openPTY(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestReadSecretRestoresTerminalOnInterrupt$")
	cmd.Env = append(os.Environ(), "CREDBROKER_TEST_READ_SECRET_TTY="+term.slavePath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.waitShown(t, "Passphrase: ", 1)
	deadline := time.Now().Add(10 * time.Second)
	for term.echo(t) {
		if time.Now().After(deadline) {
			t.Fatal("echo was not turned off")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the reader was not ended by the signal: %v", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("the reader ended with %v, want killed by SIGINT", err)
	}
	if !term.echo(t) {
		t.Error("^C left the terminal without echo")
	}
}
