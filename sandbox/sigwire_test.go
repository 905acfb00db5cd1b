package sandbox

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// wireCapture is a loopback TCP proxy in front of the sandbox that keeps
// every byte clients send, connection by connection, so that a test can
// send the same requests again, byte for byte or with one byte changed.
type wireCapture struct {
	url    string // http://127.0.0.1:PORT
	target string // the sandbox's host:port
	l      net.Listener
	wg     sync.WaitGroup

	mu      sync.Mutex
	streams [][]byte
}

func startCapture(t *testing.T, sandboxURL string) *wireCapture {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &wireCapture{url: "http://" + l.Addr().String(), target: strings.TrimPrefix(sandboxURL, "http://"), l: l}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			c.wg.Add(1)
			go c.relay(conn.(*net.TCPConn))
		}
	}()
	t.Cleanup(func() { l.Close() })
	return c
}

// relay copies one connection both ways, keeping what the client sent;
// when the client stops sending, the sandbox is told so, and the
// connection ends when the sandbox has answered.
func (c *wireCapture) relay(client *net.TCPConn) {
	defer c.wg.Done()
	defer client.Close()
	up, err := net.Dial("tcp", c.target)
	if err != nil {
		return
	}
	defer up.Close()
	var sent bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, io.TeeReader(client, &sent))
		_ = up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(client, up)
	<-done
	c.mu.Lock()
	c.streams = append(c.streams, sent.Bytes())
	c.mu.Unlock()
}

// requests waits until every connection the clients opened has ended
// (they have exited, or closed their idle connections) and returns the
// requests sent, each as the bytes that were on the wire.
func (c *wireCapture) requests(t *testing.T) [][]byte {
	t.Helper()
	c.l.Close()
	ended := make(chan struct{})
	go func() { c.wg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("a client's connection to the capture is still open after 30 s")
	}
	var reqs [][]byte
	for _, stream := range c.streams {
		for rest := stream; len(rest) > 0; {
			r := bytes.NewReader(rest)
			br := bufio.NewReader(r)
			req, err := http.ReadRequest(br)
			if err != nil {
				t.Fatalf("the capture holds %d bytes that are no request: %v", len(rest), err)
			}
			if _, err := io.Copy(io.Discard, req.Body); err != nil {
				t.Fatal(err)
			}
			n := len(rest) - r.Len() - br.Buffered()
			reqs = append(reqs, rest[:n])
			rest = rest[n:]
		}
	}
	return reqs
}

// sendRaw sends raw to the sandbox as it is, and reads its answer: the
// HTTP status and, for an error, the code of its ErrorResponse.
func sendRaw(t *testing.T, addr string, raw []byte) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, ""
	}
	var e errorResponse
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("status %d without an ErrorResponse: %s", resp.StatusCode, body)
	}
	return resp.StatusCode, e.Code
}

// presignedRequest is the request an HTTP client sends for a presigned
// URL: GET, the URL's path and query, and the headers it was signed with.
func presignedRequest(t *testing.T, rawURL string, headers http.Header) []byte {
	t.Helper()
	host, target, ok := strings.Cut(strings.TrimPrefix(rawURL, "http://"), "/")
	if !ok || !strings.Contains(target, "X-Amz-Signature=") {
		t.Fatalf("not a presigned URL: %s", rawURL)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET /%s HTTP/1.1\r\nHost: %s\r\n", target, host)
	for k, vs := range headers {
		if !strings.EqualFold(k, "host") {
			for _, v := range vs {
				fmt.Fprintf(&b, "%s: %s\r\n", k, v)
			}
		}
	}
	b.WriteString("User-Agent: credbroker-sigwire-test\r\nConnection: close\r\n\r\n")
	return []byte(b.String())
}
