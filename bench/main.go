//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/credbroker/credbroker/internal/stspeer"
)

// Targets from the issue.
const (
	coldstartRatioTarget = 2.0
	throughputTarget     = 10000.0 // requests/s
	rssTargetKiB         = 30 * 1024
)

type options struct {
	runs, warmup int
	clients      []int
	requests     int
	profiles     int
	herd         int
	compare      []string
}

func main() {
	var o options
	var clients string
	flag.IntVar(&o.runs, "runs", 500, "measured runs of each program for the warm credential_process target")
	flag.IntVar(&o.warmup, "warmup", 50, "warm-up runs of each program before those")
	flag.StringVar(&clients, "clients", "8,16,32,64", "concurrent keep-alive clients of the throughput runs (comma-separated, one run each)")
	flag.IntVar(&o.requests, "requests", 100000, "requests per throughput run")
	flag.IntVar(&o.profiles, "profiles", 50, "role profiles the throughput runs go round")
	flag.IntVar(&o.herd, "herd", 200, "credential-process started together on a cold cache")
	compare := flag.String("compare", "", "more credential_process programs (comma-separated paths) to measure in target 1's interleaved runs, "+
		"run with the same arguments and environment as credbroker (for trying out a faster client)")
	flag.Parse()
	for _, p := range strings.Split(*compare, ",") {
		if p = strings.TrimSpace(p); p != "" {
			abs, err := filepath.Abs(p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: -compare: %v\n", err)
				os.Exit(2)
			}
			o.compare = append(o.compare, abs)
		}
	}
	for _, c := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -clients: %q is not a positive number\n", c)
			os.Exit(2)
		}
		o.clients = append(o.clients, n)
	}
	if o.runs < 1 || o.requests < 1 || o.profiles < 1 || o.profiles > 100 || o.herd < 1 {
		fmt.Fprintln(os.Stderr, "bench: -runs, -requests and -herd must be positive, -profiles 1 to 100")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
		os.Exit(1)
	}
}

// cleanup runs registered functions in reverse order, once, at the end or
// on an interrupt.
type cleanup struct {
	mu  sync.Mutex
	fns []func()
}

func (c *cleanup) add(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, f)
}

func (c *cleanup) run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func run(o options) error {
	var clean cleanup
	defer clean.run()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "bench: interrupted; cleaning up")
		clean.run()
		os.Exit(130)
	}()

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "cbb")
	if err != nil {
		return err
	}
	clean.add(func() { os.RemoveAll(tmp) })
	sec := &secrets{}

	printMachine()

	step("building credbroker, credbroker-cli and the floor (CGO_ENABLED=0 go build)")
	bin := filepath.Join(tmp, "credbroker")
	cli := filepath.Join(tmp, "credbroker-cli")
	floor := filepath.Join(tmp, "floor")
	for _, b := range [][2]string{{bin, "./cmd/credbroker"}, {cli, "./cmd/credbroker-cli"}, {floor, "./bench/floor"}} {
		cmd := exec.Command("go", "build", "-o", b[0], b[1])
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
		}
	}
	for _, b := range []string{bin, cli, floor} {
		fi, err := os.Stat(b)
		if err != nil {
			return err
		}
		fmt.Printf("  %-10s %5.1f MiB  %s\n", filepath.Base(b), float64(fi.Size())/(1<<20), staticOrNot(b))
	}

	step("starting moto_server and the counting STS proxy")
	motoLog, err := os.Create(filepath.Join(tmp, "moto.log"))
	if err != nil {
		return err
	}
	clean.add(func() { motoLog.Close() })
	moto, err := stspeer.StartMoto(motoLog)
	if err != nil {
		return err
	}
	clean.add(moto.Stop)
	proxy, err := stspeer.StartProxy(moto.URL)
	if err != nil {
		return err
	}
	clean.add(proxy.Close)
	sec.issued = proxy.Issued
	fmt.Printf("  moto_server on %s, proxy on %s\n", moto.URL, proxy.URL)

	// Targets 1 and 2 share a daemon serving role profiles made from one
	// IAM user's key (moto's AssumeRole accepts any role ARN).
	step(fmt.Sprintf("setting up %d role profiles and a daemon", o.profiles))
	passphrase := randomText(24)
	sec.add(passphrase)
	a, err := newSite(filepath.Join(tmp, "a"), proxy.URL, passphrase)
	if err != nil {
		return err
	}
	key, err := stspeer.CreateIAMUser(moto.URL, "bench-base")
	if err != nil {
		return err
	}
	sec.add(key.Secret)
	var conf strings.Builder
	conf.WriteString("[profile base]\n")
	profiles := make([]string, o.profiles)
	for i := range profiles {
		profiles[i] = fmt.Sprintf("r%02d", i)
		fmt.Fprintf(&conf, "\n[profile %s]\nrole_arn = arn:aws:iam::123456789012:role/bench-%s\nsource_profile = base\n", profiles[i], profiles[i])
	}
	if err := a.writeConfig(conf.String()); err != nil {
		return err
	}
	if _, err := a.run(bin, sec, key.ID+"\n"+key.Secret+"\n", "add", "base"); err != nil {
		return err
	}
	daemonLog, err := os.Create(filepath.Join(a.dir, "daemon.log"))
	if err != nil {
		return err
	}
	defer daemonLog.Close()
	daemon := exec.Command(bin, "daemon")
	daemon.Env, daemon.Dir = a.env, a.dir
	daemon.Stdout, daemon.Stderr = daemonLog, daemonLog
	daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := daemon.Start(); err != nil {
		return err
	}
	stopDaemon := sync.OnceFunc(func() {
		stopPID(daemon.Process.Pid)
		_ = daemon.Wait()
	})
	clean.add(stopDaemon)
	if err := waitHealthy(a.socket, 10*time.Second); err != nil {
		return err
	}
	status := daemonClient(a.socket, 1)
	st, err := getStatus(status)
	if err != nil {
		return err
	}
	if st.PID != daemon.Process.Pid {
		return fmt.Errorf("the daemon on %s says pid %d, the bench started pid %d", a.socket, st.PID, daemon.Process.Pid)
	}
	pid := st.PID
	proxy.Take()
	warmStart := time.Now()
	for _, p := range profiles {
		resp, err := status.Get("http://credbroker/v1/credentials?profile=" + p)
		if err != nil {
			return fmt.Errorf("warm %s: %w", p, err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if _, ok := validOutput(body.Bytes()); resp.StatusCode != 200 || !ok {
			return fmt.Errorf("warm %s: HTTP %d, not valid credentials", p, resp.StatusCode)
		}
	}
	warmTook := time.Since(warmStart)
	warmCalls := proxy.Take()
	base, err := procStatus(pid, "VmRSS", "VmHWM")
	if err != nil {
		return err
	}
	fmt.Printf("  daemon pid %d warmed %d profiles in %s (STS: %s); VmRSS %s, VmHWM %s\n",
		pid, len(profiles), warmTook.Round(time.Millisecond), formatCounts(warmCalls), mib(base["VmRSS"]), mib(base["VmHWM"]))

	// Target 1.
	step(fmt.Sprintf("target 1: %d warm-up + %d measured runs of each program, interleaved (load avg %s)", o.warmup, o.runs, loadavg()))
	profile := profiles[0]
	cpArgv := []string{bin, "credential-process", "--profile", profile}
	validJSON := func(r spawned) bool {
		_, ok := validOutput(r.out)
		return ok && r.status.ExitStatus() == 0
	}
	ser := []*series{
		{name: "floor (static Go, prints fixed JSON)", path: floor, argv: []string{floor, "credential-process", "--profile", profile}, env: a.env, check: validJSON},
		{name: "credbroker credential-process (warm)", path: bin, argv: cpArgv, env: a.env, check: validJSON},
		{name: "credbroker credential-process, no --profile (runs the full CLI, no request)", path: bin, argv: []string{bin, "credential-process"}, env: a.env,
			check: func(r spawned) bool { return r.status.ExitStatus() == 1 && len(r.out) == 0 }},
	}
	for _, p := range o.compare {
		ser = append(ser, &series{name: "compare: " + p, path: p, argv: append([]string{p}, cpArgv[1:]...), env: a.env, check: validJSON})
	}
	t1 := time.Now()
	if err := measureColdstart(ser, o.warmup, o.runs); err != nil {
		return err
	}
	t1took := time.Since(t1)
	t1calls := proxy.Take()
	fresh, err := freshRequests(a.socket, profile, o.runs)
	if err != nil {
		return err
	}
	trace, traceTotal, err := initTrace(bin, cpArgv, a.env, 20)
	if err != nil {
		return err
	}
	_, floorInit, err := initTrace(floor, cpArgv, a.env, 20)
	if err != nil {
		return err
	}
	reportColdstart(ser, t1took, t1calls, fresh, trace, traceTotal, floorInit)

	// Target 2.
	step(fmt.Sprintf("target 2: %d requests per run round-robin over %d profiles, keep-alive clients %v", o.requests, len(profiles), o.clients))
	var loads []loadResult
	for _, k := range o.clients {
		la := loadavg()
		r, err := load(a.socket, pid, profiles, k, o.requests)
		if err != nil {
			return err
		}
		r.stsCalls = proxy.Take()
		loads = append(loads, r)
		fmt.Printf("  K=%-3d %8.0f req/s  p50 %s  p99 %s  errors %d  (load avg before %s)\n",
			k, r.perSecond(), us(r.latency.P50), us(r.latency.P99), r.errors, la)
	}
	reportThroughput(loads, base)
	stopDaemon()

	// The herd.
	step(fmt.Sprintf("herd: %d credential-process at once, cold cache, MFA + role, no daemon", o.herd))
	b, err := newSite(filepath.Join(tmp, "b"), proxy.URL, passphrase)
	if err != nil {
		return err
	}
	hr, err := coldHerd(bin, b, herdNames{base: "base", prod: "prod", user: "bench-mfa"}, moto.URL, proxy, o.herd, sec, &clean)
	if err != nil {
		return err
	}
	reportHerd(hr)
	step(fmt.Sprintf("the same herd again, warm (daemon running, credentials cached): what %d process starts cost here", o.herd))
	warm, err := herd(bin, b, "prod", o.herd, sec)
	if err != nil {
		return err
	}
	warm.sts = proxy.Take()
	reportWarmHerd(warm)
	step(fmt.Sprintf("the floor's herd: %d floor programs released from the same gate", o.herd))
	floorHerd, err := herd(floor, b, "prod", o.herd, sec)
	if err != nil {
		return err
	}
	reportWarmHerd(floorHerd)

	// The same cold herd on the kernel keyring, whose items need no
	// passphrase: no Argon2id stretch at the daemon's unlock.
	step(fmt.Sprintf("the cold herd again on the keyctl keyring (no passphrase to stretch): %d credential-process, no daemon", o.herd))
	keyctlHerd, err := keyctlColdHerd(bin, filepath.Join(tmp, "c"), moto.URL, proxy, o.herd, sec, &clean)
	if err != nil {
		fmt.Printf("  not measured: %v\n", err)
	} else {
		reportHerd(keyctlHerd)
	}

	reportTargets(ser, loads, hr, warm, floorHerd, keyctlHerd, err == nil)
	reportOthers()
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the bench from inside the credbroker module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

func step(s string) { fmt.Printf("\n== %s\n", s) }

func staticOrNot(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	// A dynamically linked ELF names its interpreter in PT_INTERP.
	if bytes.Contains(data[:min(len(data), 4096)], []byte("/ld-linux")) || bytes.Contains(data[:min(len(data), 4096)], []byte("ld-musl")) {
		return "dynamically linked"
	}
	return "statically linked"
}

func printMachine() {
	fmt.Println("credbroker bench")
	model := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	gov, _ := exec.Command("go", "version").Output()
	mem := "?"
	if m, err := procStatusFile("/proc/meminfo", "MemTotal"); err == nil {
		mem = mib(m["MemTotal"])
	}
	fmt.Printf("  machine: nproc %d, %s, %s RAM, kernel %s\n", runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)))
	fmt.Printf("  go:      %s (harness %s)\n", strings.TrimSpace(string(gov)), runtime.Version())
	fmt.Printf("  load average at start: %s\n", loadavg())
	fmt.Printf("  date:    %s\n", time.Now().UTC().Format(time.RFC3339))
}

func procStatusFile(path string, fields ...string) (map[string]int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		for _, f := range fields {
			if k == f {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				out[k] = n
			}
		}
	}
	return out, nil
}
