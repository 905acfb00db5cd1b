package sandbox

import (
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoState(t *testing.T) {
	st, err := DemoState()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := st.Summarize()
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Users) != 1 || len(sum.Roles) != 2 {
		t.Fatalf("summary %+v", sum)
	}
	u := sum.Users[0]
	if u.ARN != "arn:aws:iam::111111111111:user/alice" || !strings.HasPrefix(u.AccessKeyID, "AKIA") || len(u.AccessKeyID) != 20 ||
		len(u.SecretAccessKey) != 40 || u.MFASerial != "arn:aws:iam::111111111111:mfa/alice" || len(u.MFASeed) != 32 {
		t.Errorf("alice: %+v", u)
	}
	want := []RoleSummary{{"arn:aws:iam::222222222222:role/Admin", true, 3600}, {"arn:aws:iam::222222222222:role/ReadOnly", false, 14400}}
	for i, r := range sum.Roles {
		if r != want[i] {
			t.Errorf("role %d: %+v, want %+v", i, r, want[i])
		}
	}
	// Random keys and seed: two demo states share none.
	st2, _ := DemoState()
	if st2.Users[0].AccessKeys[0].ID == u.AccessKeyID || st2.MFADevices[0].Seed == u.MFASeed || string(st2.SealKey) == string(st.SealKey) {
		t.Error("two demo states share a key, a seed or a seal key")
	}
}

// TestStateFile: changes are written atomically (no temporary file left,
// mode 0600) and survive a restart: a created key works, and an MFA code
// used before the restart is still refused after it.
func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	clk := &clock{t: testStart}
	st, err := demoState(rand.Reader, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	open := func() *world {
		srv, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		srv.Now = clk.Now
		return &world{t: t, srv: srv, clock: clk, seed: st.MFADevices[0].Seed,
			alice: creds{id: st.Users[0].AccessKeys[0].ID, secret: st.Users[0].AccessKeys[0].Secret}}
	}
	w := open()
	code := w.code(0)
	w.ok(w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "SerialNumber": aliceSerial, "TokenCode": code}), nil)
	var created struct {
		ID     string `xml:"AccessKey>AccessKeyId"`
		Secret string `xml:"AccessKey>SecretAccessKey"`
	}
	w.ok(w.call(w.alice, "iam", map[string]string{"Action": "CreateAccessKey"}), &created)
	s1, _ := w.session(w.alice, map[string]string{"Action": "GetSessionToken"})

	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files, want the state alone", len(entries))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v (%v), want 0600", fi.Mode(), err)
	}

	w = open() // a restart
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "SerialNumber": aliceSerial, "TokenCode": code}), http.StatusForbidden, "AccessDenied", msgMFAInvalidCode)
	w.ok(w.call(creds{id: created.ID, secret: created.Secret}, "sts", map[string]string{"Action": "GetCallerIdentity"}), nil)
	w.ok(w.call(s1, "sts", map[string]string{"Action": "GetCallerIdentity"}), nil) // sessions outlive it
	reloaded, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	// The last change was CreateAccessKey, signed with alice's key: IAM.
	if lu := reloaded.Users[0].AccessKeys[0].LastUsed; lu == nil || lu.Service != "iam" || !lu.Date.Equal(clk.Now()) {
		t.Errorf("last use written with the change: %+v", lu)
	}
}

func TestLoadStateRefuses(t *testing.T) {
	dir := t.TempDir()
	st, err := DemoState()
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.json")
	if err := st.Save(good); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	for _, tc := range []struct{ name, from, to, want string }{
		{"an unknown field", `"accounts": [`, `"acounts": [], "accounts": [`, `unknown field "acounts"`},
		{"a policy that does not parse", `"Effect": "Allow"`, `"Effect": "Perhaps"`, `Effect`},
		{"a short seal key", `"sealKey": "`, `"sealKey": "AAAA", "x": "`, ``},
		{"a bad account", `"id": "111111111111"`, `"id": "1111"`, `not a 12-digit account ID`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(data), tc.from, tc.to, 1)
			if bad == string(data) {
				t.Fatalf("%q is not in the state file", tc.from)
			}
			path := filepath.Join(dir, "bad.json")
			if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadState(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadState: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0"} {
		if l, err := Listen(addr); err == nil {
			l.Close()
			t.Errorf("Listen(%q) accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		l, err := Listen(addr)
		if err != nil {
			t.Errorf("Listen(%q): %v", addr, err)
			continue
		}
		l.Close()
	}
}

// TestChangeNotWrittenNotServed: a change the state file cannot take is
// InternalFailure, and the sandbox goes on serving the state as it was.
func TestChangeNotWrittenNotServed(t *testing.T) {
	w := newWorld(t, nil)
	w.srv.StatePath = filepath.Join(t.TempDir(), "missing", "state.json")
	w.refused(w.call(w.alice, "iam", map[string]string{"Action": "CreateAccessKey"}), http.StatusInternalServerError, "InternalFailure", "")
	var list struct {
		Keys []string `xml:"AccessKeyMetadata>member>AccessKeyId"`
	}
	w.ok(w.call(w.alice, "iam", map[string]string{"Action": "ListAccessKeys"}), &list)
	if len(list.Keys) != 1 {
		t.Fatalf("a key the state file never got is served: %v", list.Keys)
	}
	// Nor is an MFA step recorded only in memory: the code is refused,
	// and still good once the file can be written.
	w.refused(w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "SerialNumber": aliceSerial, "TokenCode": w.code(0)}), http.StatusInternalServerError, "InternalFailure", "")
	w.srv.StatePath = filepath.Join(t.TempDir(), "state.json")
	w.ok(w.call(w.alice, "sts", map[string]string{"Action": "GetSessionToken", "SerialNumber": aliceSerial, "TokenCode": w.code(0)}), nil)
}
