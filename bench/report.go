//go:build linux

package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"
)

func reportColdstart(ser []*series, took time.Duration, sts map[string]int, fresh summary, trace []initLine, traceTotal, floorInit time.Duration) {
	fmt.Printf("  %d rounds took %s; STS calls meanwhile: %s\n", len(ser[0].wall)+ser[0].failures, took.Round(time.Millisecond), formatCounts(sts))
	fmt.Printf("  %-75s %10s %10s %10s %10s %10s | %9s %7s %6s %5s\n", "program (fork/exec to wait4, stdout read)", "min", "median", "p90", "p99", "mean", "cpu med", "minflt", "stdout", "fail")
	for _, s := range ser {
		w := summarize(s.wall)
		c := summarize(s.cpu)
		fmt.Printf("  %-75s %10s %10s %10s %10s %10s | %9s %7d %5dB %5d\n", s.name, ms(w.Min), ms(w.P50), ms(w.P90), ms(w.P99), ms(w.Mean),
			ms(c.P50), medianInt(s.minflt), s.outLen, s.failures)
	}
	floor, cb := summarize(ser[0].wall), summarize(ser[1].wall)
	ratio := float64(cb.P50) / float64(floor.P50)
	fmt.Printf("  ratio of medians credbroker/floor: %.2f (target <= %.1f: %s); p90 ratio %.2f\n", ratio, coldstartRatioTarget, verdict(ratio <= coldstartRatioTarget), float64(cb.P90)/float64(floor.P90))
	if len(ser) > 2 {
		// Without --profile the small program hands over to credbroker-cli
		// (cobra, every package): what the fast path saves a caller.
		full := summarize(ser[2].wall)
		fmt.Printf("  the full CLI's start (no --profile: credbroker-cli, no request) costs %s more than the floor (median); the fast path with its request, %s\n",
			ms(full.P50-floor.P50), ms(cb.P50-floor.P50))
	}
	fmt.Printf("  one request on a fresh connection from the harness (no process): median %s, p90 %s, p99 %s\n", us(fresh.P50), us(fresh.P90), us(fresh.P99))
	fmt.Printf("  package init (GODEBUG=inittrace=1, mean of 20 runs): credbroker %s in all, floor %s; largest:\n", ms(traceTotal), ms(floorInit))
	for i, l := range trace {
		if i == 8 {
			break
		}
		fmt.Printf("    %-50s %s  %7d bytes\n", l.pkg, ms(l.clock), l.bytes)
	}
}

func reportThroughput(loads []loadResult, base map[string]int64) {
	fmt.Printf("  daemon before the runs (50 profiles warm): VmRSS %s, VmHWM %s\n", mib(base["VmRSS"]), mib(base["VmHWM"]))
	fmt.Printf("  %-4s %9s %10s %9s %9s %9s %9s %7s %11s %11s %11s %10s %10s %8s %s\n", "K", "requests", "req/s", "p50", "p90", "p99", "max", "errors",
		"daemon cpu", "harness cpu", "cpu/req (d)", "VmRSS", "VmHWM", "threads", "STS calls")
	var total int
	for _, r := range loads {
		total += r.requests
		fmt.Printf("  %-4d %9d %10.0f %9s %9s %9s %9s %7d %11s %11s %11s %10s %10s %8d %s\n", r.clients, r.requests, r.perSecond(),
			us(r.latency.P50), us(r.latency.P90), us(r.latency.P99), us(r.latency.Max), r.errors,
			r.daemonCPU.Round(10*time.Millisecond), r.harnessCPU.Round(10*time.Millisecond),
			us(r.daemonCPU/time.Duration(r.requests)), mib(r.rss), mib(r.hwm), r.threads, formatCounts(r.stsCalls))
		if r.firstError != "" {
			fmt.Printf("       first error: %s\n", r.firstError)
		}
	}
	last := loads[len(loads)-1]
	fmt.Printf("  the daemon counted %d requests in all (%d from the load runs); audit records dropped: %d\n", last.served, total, last.auditDropped)
}

func reportHerd(h herdResult) {
	fmt.Printf("  %d shells forked and parked at a gate in %s; then released at once\n", h.n, h.park.Round(time.Millisecond))
	fmt.Printf("  all %d finished %s after the release\n", h.n, h.wall.Round(time.Millisecond))
	fmt.Printf("  release to each exit: min %s, median %s, p90 %s, max %s\n", ms(h.each.Min), ms(h.each.P50), ms(h.each.P90), ms(h.each.Max))
	fmt.Printf("  valid credential_process JSON: %d of %d (distinct access key ids: %d)\n", h.valid, h.n, h.distinctID)
	for line, n := range h.failures {
		fmt.Printf("    %d× %s\n", n, line)
	}
	fmt.Printf("  STS calls: %s\n", formatCounts(h.sts))
	fmt.Printf("  the daemon's refreshes: %s\n", strings.Join(h.refreshes, "; "))
	fmt.Printf("  daemons started: %d (pid %d; VmRSS %s, VmHWM %s after the herd)\n", h.daemons, h.daemonPID, mib(h.rss), mib(h.hwm))
}

func reportWarmHerd(h herdResult) {
	fmt.Printf("  all %d finished %s after the release; release to each exit: median %s, max %s\n", h.n, h.wall.Round(time.Millisecond), ms(h.each.P50), ms(h.each.Max))
	fmt.Printf("  valid credential_process JSON: %d of %d; STS calls: %s\n", h.valid, h.n, formatCounts(h.sts))
	for line, n := range h.failures {
		fmt.Printf("    %d× %s\n", n, line)
	}
}

func reportTargets(ser []*series, loads []loadResult, h, warm, floorHerd, keyctlHerd herdResult, keyctlMeasured bool) {
	step("summary against the targets")
	floor, cb := summarize(ser[0].wall), summarize(ser[1].wall)
	ratio := float64(cb.P50) / float64(floor.P50)
	fmt.Printf("  1. warm credential_process median %s vs floor %s: ratio %.2f, target <= %.1f: %s\n", ms(cb.P50), ms(floor.P50), ratio, coldstartRatioTarget, verdict(ratio <= coldstartRatioTarget))
	for _, r := range loads {
		fmt.Printf("  2. K=%-3d %8.0f req/s (target >= %.0f: %s); VmRSS after %s (target <= %s: %s)\n", r.clients, r.perSecond(), throughputTarget,
			verdict(r.perSecond() >= throughputTarget), mib(r.rss), mib(rssTargetKiB), verdict(r.rss <= rssTargetKiB))
	}
	getSession, assume := h.sts["GetSessionToken"], h.sts["AssumeRole"]
	herdRatio := float64(h.wall) / float64(floorHerd.wall)
	fmt.Printf("  3. herd of %d: %d valid, GetSessionToken %d, AssumeRole %d, %d daemon(s), wall %s from the release to the last exit (warm: %s; the floor's herd: %s): ratio %.2f, target <= %.1f: %s\n",
		h.n, h.valid, getSession, assume, h.daemons, h.wall.Round(time.Millisecond), warm.wall.Round(time.Millisecond), floorHerd.wall.Round(time.Millisecond),
		herdRatio, herdRatioTarget, verdict(herdRatio <= herdRatioTarget && getSession == 1 && assume == 1 && h.valid == h.n))
	if keyctlMeasured {
		k := keyctlHerd
		ratio := float64(k.wall) / float64(floorHerd.wall)
		fmt.Printf("     the same herd on keyctl (no passphrase stretch): %d valid, GetSessionToken %d, AssumeRole %d, %d daemon(s), wall %s: ratio %.2f, target <= %.1f: %s\n",
			k.valid, k.sts["GetSessionToken"], k.sts["AssumeRole"], k.daemons, k.wall.Round(time.Millisecond), ratio, herdRatioTarget,
			verdict(ratio <= herdRatioTarget && k.sts["GetSessionToken"] == 1 && k.sts["AssumeRole"] == 1 && k.valid == k.n))
	}
}

// herdRatioTarget: a cold herd (no daemon, nothing cached) finishes within
// twice the time the same released herd of the floor program takes.
const herdRatioTarget = 2.0

func reportOthers() {
	step("other brokers")
	for _, name := range []string{"aws-vault", "granted", "assume"} {
		if p, err := exec.LookPath(name); err == nil {
			fmt.Printf("  %s: found at %s (not measured)\n", name, p)
		} else {
			fmt.Printf("  %s: not on PATH here (not fetched): no comparison\n", name)
		}
	}
}
