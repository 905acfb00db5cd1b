//go:build unix

package stspeer

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestProxyCountsRecordsAndMisbehaves checks the test harness itself
// against moto, so that a broken proxy cannot make scenarios pass.
func TestProxyCountsRecordsAndMisbehaves(t *testing.T) {
	moto, err := StartMoto(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer moto.Stop()
	p, err := StartProxy(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	key, err := CreateIAMUser(moto.URL, "proxy-check")
	if err != nil {
		t.Fatal(err)
	}
	call := func() (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader("Action=GetSessionToken&Version=2011-06-15"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key.ID+"/20261127/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	status, body := call()
	if status != 200 || p.Count("GetSessionToken") != 1 {
		t.Fatalf("status %d, count %d: %.200s", status, p.Count("GetSessionToken"), body)
	}
	issued := p.Issued()
	if len(issued) != 2 {
		t.Fatalf("recorded %d secrets, want the secret key and the session token", len(issued))
	}
	for _, s := range issued {
		if !bytes.Contains(body, []byte(s)) {
			t.Errorf("recorded a value that is not in the answer")
		}
	}
	p.SetMode(func(m *Mode) { m.Lifetime = 30 * time.Second })
	_, body = call()
	want := time.Now().Add(30 * time.Second).UTC().Format("2006-01-02T15:04")
	if !bytes.Contains(body, []byte("<Expiration>"+want)) {
		t.Errorf("Lifetime not applied: %.300s", body)
	}
	p.SetMode(func(m *Mode) { m.Fault = "throttle" })
	if status, body := call(); status != 400 || !bytes.Contains(body, []byte("<Code>Throttling</Code>")) {
		t.Errorf("throttle: %d %s", status, body)
	}
	p.SetMode(func(m *Mode) { m.Fault = "503" })
	if status, _ := call(); status != 503 {
		t.Errorf("503: %d", status)
	}
	if got := p.Take()["GetSessionToken"]; got != 4 {
		t.Errorf("counted %d calls, want 4", got)
	}
	if p.Count("GetSessionToken") != 0 {
		t.Error("Take did not start over")
	}
}
