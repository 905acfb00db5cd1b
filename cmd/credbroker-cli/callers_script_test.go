//go:build unix

package main

// Script commands for the scenarios of one daemon and many callers: a
// second STS peer, a listener run by another local user on a loopback
// port, and the file keyring's passphrase as one more secret to scan for.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/internal/asuser"
	"github.com/credbroker/credbroker/internal/stspeer"
	"github.com/credbroker/credbroker/keystore"
)

var callerCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// second-peer: a second STS peer (another counting proxy to moto) on
	// its own loopback port, named $STS2.
	"second-peer": func(ts *testscript.TestScript, neg bool, args []string) {
		moto, err := theMoto()
		ts.Check(err)
		p, err := stspeer.StartProxy(moto.URL)
		ts.Check(err)
		ts.Defer(p.Close)
		stateOf(ts).peer2 = p
		ts.Setenv("STS2", p.URL)
	},
	// peer2count ACTION N | peer2count reset: as stscount, at the second peer.
	"peer2count": func(ts *testscript.TestScript, neg bool, args []string) {
		p := stateOf(ts).peer2
		if p == nil {
			ts.Fatalf("peer2count: no second-peer")
		}
		countAt(ts, p, neg, args)
	},
	"squatter":       cmdSquatter,
	"pass-store":     cmdPassStore,
	"short-home":     cmdShortHome,
	"mfa-step-ahead": cmdMFAStepAhead,
	"squat-tmp":      cmdSquatTmp,
	// sts-param ACTION KEY REGEXP: the last ACTION request the STS peer
	// got had KEY matching REGEXP (! : not matching, or absent).
	"sts-param": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 3 {
			ts.Fatalf("usage: sts-param ACTION KEY REGEXP")
		}
		got := proxyOf(ts).Param(args[0], args[1])
		re, err := regexp.Compile(args[2])
		ts.Check(err)
		if (got != "" && re.MatchString(got)) == neg {
			ts.Fatalf("%s %s = %q; want it %s match %s", args[0], args[1], got, map[bool]string{true: "not to", false: "to"}[neg], args[2])
		}
	},
	"squatter-heard": cmdSquatterHeard,
	// passphrase-is-secret: the file keyring's passphrase this script
	// runs with is one more secret leakscan looks for (in files, command
	// lines and the environment of every credbroker process).
	"passphrase-is-secret": func(ts *testscript.TestScript, neg bool, args []string) {
		stateOf(ts).values["keyring-passphrase"] = stateOf(ts).passphrase
	},
	// passphrase-file NAME: the script's keyring passphrase in $WORK/NAME,
	// for ttyin (remove it before a leakscan).
	"passphrase-file": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: passphrase-file NAME")
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(stateOf(ts).passphrase+"\n"), 0o600))
	},
}

// squatterEnv tells the test binary, run again as nobody, to listen.
const squatterEnv = "CREDBROKER_TEST_SQUATTER"

// squatter: another local user (nobody) listens on a free loopback port,
// named $SQUAT, and writes a line for every connection it gets to a log
// only squatter-heard reads.
func cmdSquatter(ts *testscript.TestScript, neg bool, args []string) {
	if why, _ := asuser.Check(); why != "" {
		ts.Fatalf("squatter: %s", why)
	}
	dir, err := asuser.SharedDir("cbsquat")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(dir) })
	self, err := os.Executable()
	ts.Check(err)
	bin := filepath.Join(dir, "squatter")
	ts.Check(asuser.CopyExecutable(self, bin))
	log := filepath.Join(dir, "heard")
	ts.Check(os.WriteFile(log, nil, 0o666))
	ts.Check(os.Chmod(log, 0o666))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := asuser.Command(ctx, asuser.Nobody, bin, "-test.run=^TestSquatter$")
	cmd.Env = append(os.Environ(), squatterEnv+"="+log)
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	ts.Defer(func() { cancel(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	port, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "port ")))
	if err != nil || perr != nil {
		ts.Fatalf("the squatter did not say its port: %q %v", line, err)
	}
	ts.Setenv("SQUAT", fmt.Sprintf("http://127.0.0.1:%d", port))
	stateOf(ts).squatLog = log
}

// squatter-heard N: the squatter got N connections.
func cmdSquatterHeard(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: squatter-heard N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	data, err := os.ReadFile(stateOf(ts).squatLog)
	ts.Check(err)
	if got := strings.Count(string(data), "\n"); (got == want) == neg {
		ts.Fatalf("the squatter got %d connections, want %d:\n%s", got, want, data)
	}
}

// countAt checks (or resets) a peer's count of an STS action.
func countAt(ts *testscript.TestScript, p *stspeer.Proxy, neg bool, args []string) {
	if len(args) == 1 && args[0] == "reset" {
		p.Reset()
		return
	}
	if len(args) != 2 {
		ts.Fatalf("usage: ACTION N | reset")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	if got := p.Count(args[0]); (got == want) == neg {
		ts.Fatalf("%s reached the peer %d times, want %d", args[0], got, want)
	}
}

// squatterMain is the squatter's side, run as nobody: it listens on a free
// loopback port, says which, and logs each connection until killed.
func squatterMain(log string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	fmt.Printf("port %d\n", l.Addr().(*net.TCPAddr).Port)
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			fmt.Fprintf(f, "connection from %s at %s\n", c.RemoteAddr(), time.Now().Format(time.RFC3339Nano))
			f.Close()
		}
		c.Close()
	}
}

// pass-store: a password store and a gpg home of the script's own (a
// throwaway key without passphrase), named by $PASSWORD_STORE_DIR and
// $GNUPGHOME. The gpg home is short and under /tmp: gpg-agent's socket
// path must fit a Unix socket's 108 bytes.
func cmdPassStore(ts *testscript.TestScript, neg bool, args []string) {
	for _, tool := range []string{"pass", "gpg", "gpgconf"} {
		if _, err := exec.LookPath(tool); err != nil {
			ts.Fatalf("%s not found: install the Debian package pass (it brings gnupg)", tool)
		}
	}
	home, err := os.MkdirTemp("", "cbg")
	ts.Check(err)
	ts.Check(os.Chmod(home, 0o700))
	store := filepath.Join(ts.Getenv("WORK"), "password-store")
	env := append(os.Environ(), "GNUPGHOME="+home, "PASSWORD_STORE_DIR="+store)
	ts.Defer(func() {
		kill := exec.Command("gpgconf", "--kill", "gpg-agent")
		kill.Env = env
		_ = kill.Run()
		os.RemoveAll(home)
	})
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			ts.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "credbroker test <test@example.invalid>", "default", "default", "never")
	fpr := ""
	for _, line := range strings.Split(run("gpg", "--list-keys", "--with-colons"), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
			fpr = f[9]
			break
		}
	}
	if fpr == "" {
		ts.Fatalf("no key fingerprint from gpg")
	}
	run("pass", "init", fpr)
	ts.Setenv("GNUPGHOME", home)
	ts.Setenv("PASSWORD_STORE_DIR", store)
}

// short-home: HOME is a short new folder (a socket path there fits the
// 103 bytes a Unix socket allows), and any daemon started there is
// stopped at the end.
func cmdShortHome(ts *testscript.TestScript, neg bool, args []string) {
	home, err := os.MkdirTemp("", "cbh")
	ts.Check(err)
	ts.Setenv("HOME", home)
	ts.Setenv("XDG_STATE_HOME", "")
	ts.Defer(func() {
		socks, _ := filepath.Glob(filepath.Join(home, ".local", "state", "credbroker", "run", "broker*.sock"))
		for _, s := range socks {
			stopDaemon(s)
		}
		os.RemoveAll(home)
	})
}

// squat-tmp: another user (nobody) made /tmp/credbroker-UID first, as
// anyone can; it is removed at the end.
func cmdSquatTmp(ts *testscript.TestScript, neg bool, args []string) {
	dir := filepath.Join(os.TempDir(), "credbroker-"+strconv.Itoa(os.Getuid()))
	if _, err := os.Lstat(dir); err == nil {
		ts.Fatalf("%s exists already: this scenario makes it as another user", dir)
	}
	ts.Check(os.Mkdir(dir, 0o755))
	ts.Defer(func() { os.RemoveAll(dir) })
	ts.Check(os.Chown(dir, 65534, 65534))
}

// mfa-step-ahead DEVICE MINUTES: record the device's last used MFA time
// step MINUTES ahead of this clock, as a clock that was ahead leaves it.
func cmdMFAStepAhead(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mfa-step-ahead DEVICE MINUTES")
	}
	minutes, err := strconv.Atoi(args[1])
	ts.Check(err)
	keys, err := keystore.Open(keystore.ConfigFromEnv(ts.Getenv))
	ts.Check(err)
	step := uint64(time.Now().Unix()/30) + uint64(minutes*2)
	ts.Check((broker.StepStore{Keys: keys}).SetLastStep(args[0], step))
}
