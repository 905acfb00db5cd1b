//go:build unix

package sandbox

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/credbroker/credbroker/internal/stspeer"
)

// BenchmarkGetCallerIdentity measures GetCallerIdentity requests per
// second over loopback HTTP with keep-alive connections, against the
// sandbox (served by Serve, signature verified with the SDK's signer and
// the caller resolved on every request) and against moto_server side by
// side. Both get the same request, signed once with SigV4 and sent again
// and again (a signature has no nonce; the sandbox checks it in full each
// time), from GOMAXPROCS*8 concurrent clients.
//
// Target: the sandbox answers at least 20 times as many requests per
// second as moto_server on the same machine. Run:
//
//	go test -run '^$' -bench GetCallerIdentity -benchtime 5s ./sandbox/
func BenchmarkGetCallerIdentity(b *testing.B) {
	st, err := demoState(rand.Reader, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	alice := creds{id: st.Users[0].AccessKeys[0].ID, secret: st.Users[0].AccessKeys[0].Secret}
	srv, err := New(st)
	if err != nil {
		b.Fatal(err)
	}
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	defer func() { cancel(); <-done }()
	b.Run("sandbox", func(b *testing.B) { benchGetCallerIdentity(b, "http://"+l.Addr().String(), alice) })

	b.Run("moto", func(b *testing.B) {
		moto, err := stspeer.StartMoto(nil)
		if err != nil {
			if os.Getenv("CI") == "true" {
				b.Fatal(err)
			}
			b.Skip(err)
		}
		defer moto.Stop()
		key, err := stspeer.CreateIAMUser(moto.URL, "bench")
		if err != nil {
			b.Fatal(err)
		}
		benchGetCallerIdentity(b, moto.URL, creds{id: key.ID, secret: key.Secret})
	})
}

func benchGetCallerIdentity(b *testing.B, url string, c creds) {
	const body = "Action=GetCallerIdentity&Version=2011-06-15"
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signRequest(b, req, c, "sts", time.Now())
	header := req.Header.Clone()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	send := func() error {
		r, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
		r.Header = header.Clone()
		resp, err := client.Do(r)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err == nil && (resp.StatusCode != http.StatusOK || !strings.Contains(string(out), "<Arn>")) {
			b.Errorf("GetCallerIdentity: %d %.200s", resp.StatusCode, out)
		}
		return err
	}
	if err := send(); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := send(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
