//go:build linux

package main

// Target 2: requests per second over the socket and the daemon's memory.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is one load run against a daemon.
type loadResult struct {
	clients, requests int
	wall              time.Duration
	latency           summary
	errors            int
	firstError        string
	daemonCPU         time.Duration
	harnessCPU        time.Duration
	rss, hwm          int64 // kB
	threads           int64
	served            uint64 // the daemon's request counter after the run
	auditDropped      uint64
	stsCalls          map[string]int
}

func (r loadResult) perSecond() float64 { return float64(r.requests-r.errors) / r.wall.Seconds() }

var credentialsPrefix = []byte(`{"Version":1,"AccessKeyId":"`)

// load fires requests GET /v1/credentials, round-robin over profiles,
// from clients goroutines, each with its own keep-alive connection.
func load(socket string, pid int, profiles []string, clients, requests int) (loadResult, error) {
	res := loadResult{clients: clients, requests: requests}
	c := daemonClient(socket, clients)
	defer c.CloseIdleConnections()
	urls := make([]string, len(profiles))
	for i, p := range profiles {
		urls[i] = "http://credbroker/v1/credentials?profile=" + p
	}
	var (
		next     atomic.Int64
		mu       sync.Mutex
		all      = make([]time.Duration, 0, requests)
		wg       sync.WaitGroup
		errCount atomic.Int64
		firstErr atomic.Pointer[string]
	)
	cpu0, err := procCPU(pid)
	if err != nil {
		return res, err
	}
	self0 := selfCPU()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, requests/clients+1)
			var body bytes.Buffer
			for {
				i := next.Add(1) - 1
				if i >= int64(requests) {
					break
				}
				t := time.Now()
				resp, err := c.Get(urls[i%int64(len(urls))])
				if err == nil {
					body.Reset()
					_, err = io.Copy(&body, resp.Body)
					resp.Body.Close()
					if err == nil && (resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body.Bytes(), credentialsPrefix)) {
						err = fmt.Errorf("HTTP %d", resp.StatusCode)
					}
				}
				d := time.Since(t)
				if err != nil {
					errCount.Add(1)
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
					continue
				}
				lat = append(lat, d)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.harnessCPU = selfCPU() - self0
	cpu1, err := procCPU(pid)
	if err != nil {
		return res, err
	}
	res.daemonCPU = cpu1 - cpu0
	res.latency = summarize(all)
	res.errors = int(errCount.Load())
	if p := firstErr.Load(); p != nil {
		res.firstError = *p
	}
	st, err := getStatus(c)
	if err != nil {
		return res, err
	}
	res.served, res.auditDropped = st.Requests, st.AuditDropped
	// Let the audit writer drain before reading memory: what is still
	// queued is part of the load, not of the steady state.
	time.Sleep(200 * time.Millisecond)
	m, err := procStatus(pid, "VmRSS", "VmHWM", "Threads")
	if err != nil {
		return res, err
	}
	res.rss, res.hwm, res.threads = m["VmRSS"], m["VmHWM"], m["Threads"]
	return res, nil
}
