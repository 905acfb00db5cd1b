package keystore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/keyring"
)

// The AWS documentation's example key pair: never a real one.
var testKey = AccessKey{
	AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
	SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}

// Names as the broker uses them: profiles, role chains, MFA device ARNs.
var testNames = []string{
	"prod",
	"team/prod",
	"arn:aws:iam::123456789012:mfa/alice",
	"100%/done",
	"a%2Fb",
	"with space",
	"ünïcödé",
}

func TestPutGetDelete(t *testing.T) {
	t.Parallel()
	for _, name := range testNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := NewMemory()
			data := []byte("data of " + name)
			if err := s.Put(KindSession, name, data); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := s.Get(KindSession, name)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("Get = %q, want %q", got, data)
			}
			items, err := s.List()
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if want := []Item{{KindSession, name}}; !slices.Equal(items, want) {
				t.Fatalf("List = %v, want %v", items, want)
			}
			// The same name under another kind is another item.
			if _, err := s.Get(KindTOTPSeed, name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get other kind: err = %v, want ErrNotFound", err)
			}
			if err := s.Delete(KindSession, name); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := s.Get(KindSession, name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
			}
			if err := s.Delete(KindSession, name); err != nil {
				t.Fatalf("Delete of an absent item: %v", err)
			}
		})
	}
}

func TestGetNotFound(t *testing.T) {
	t.Parallel()
	s := NewMemory()
	_, err := s.Get(KindTOTPSeed, "nobody")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if want := `get totp-seed "nobody": not found`; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
	if _, err := s.AccessKey("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AccessKey: err = %v, want ErrNotFound", err)
	}
}

func TestPutReplaces(t *testing.T) {
	t.Parallel()
	s := NewMemory()
	for _, v := range []string{"one", "two"} {
		if err := s.Put(KindState, "step", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(KindState, "step")
	if err != nil || string(got) != "two" {
		t.Fatalf("Get = %q, %v; want two", got, err)
	}
}

func TestGetAndPutCopyData(t *testing.T) {
	t.Parallel()
	s := NewMemory()
	data := []byte("original")
	if err := s.Put(KindSession, "x", data); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X'
	got, _ := s.Get(KindSession, "x")
	got[1] = 'X'
	again, _ := s.Get(KindSession, "x")
	if string(again) != "original" {
		t.Fatalf("stored data changed through a caller's slice: %q", again)
	}
}

func TestListOnlyOwnItemsSorted(t *testing.T) {
	t.Parallel()
	foreign := []string{
		"aws-vault-profile",
		"credbroker",
		"credbroker:",
		"credbroker:session",  // no name
		"credbroker::name",    // no kind
		"credbroker:session:", // empty name
		"credbroker:future:x", // a kind this version does not know
		"Credbroker:session:upper",
		"x-credbroker:session:y",
		probeKey,
		stagingPrefix + "123",
	}
	var initial []keyring.Item
	for _, k := range foreign {
		initial = append(initial, keyring.Item{Key: k, Data: []byte("foreign")})
	}
	s := New(keyring.NewArrayKeyring(initial))
	puts := []Item{
		{KindState, "z"},
		{KindAccessKey, "prod"},
		{KindTOTPSeed, "dev"},
		{KindState, "arn:aws:iam::123456789012:mfa/alice"},
		{KindAccessKey, "dev"},
		{KindSession, "prod/admin"},
	}
	for _, it := range puts {
		if err := s.Put(it.Kind, it.Name, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{
		{KindAccessKey, "dev"},
		{KindAccessKey, "prod"},
		{KindSession, "prod/admin"},
		{KindState, "arn:aws:iam::123456789012:mfa/alice"},
		{KindState, "z"},
		{KindTOTPSeed, "dev"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List =\n%v\nwant\n%v", got, want)
	}
}

func TestParseKeyInvertsItemKey(t *testing.T) {
	t.Parallel()
	for _, name := range testNames {
		for _, kind := range []Kind{KindAccessKey, KindTOTPSeed, KindSession, KindState} {
			got, ok := parseKey(itemKey(kind, name))
			if !ok || got != (Item{kind, name}) {
				t.Errorf("parseKey(itemKey(%s, %q)) = %v, %v", kind, name, got, ok)
			}
		}
	}
}

func TestInvalidItems(t *testing.T) {
	t.Parallel()
	const secret = "data-that-must-not-leak"
	tests := []struct {
		name    string
		kind    Kind
		item    string
		wantErr string
	}{
		{"unknown kind", "password", "prod", "unknown item kind"},
		{"kind with colon", "a:b", "prod", "unknown item kind"},
		{"empty name", KindSession, "", "empty item name"},
		{"NUL in name", KindSession, "a\x00b", "without NUL"},
		{"invalid UTF-8", KindSession, "a\xffb", "valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewMemory()
			errs := map[string]error{"put": s.Put(tt.kind, tt.item, []byte(secret))}
			_, errs["get"] = s.Get(tt.kind, tt.item)
			errs["delete"] = s.Delete(tt.kind, tt.item)
			for op, err := range errs {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), op+" ") {
					t.Errorf("%s: err = %v, want %q prefixed with the operation", op, err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("%s: error contains the data", op)
				}
			}
		})
	}
}

func TestAccessKeyRoundTrip(t *testing.T) {
	t.Parallel()
	s := NewMemory()
	if err := s.PutAccessKey("prod", testKey); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccessKey("prod")
	if err != nil {
		t.Fatal(err)
	}
	if got != testKey {
		t.Fatal("AccessKey returned a different key")
	}
	// The stored form is JSON, as the broker and other tools may read it.
	raw, err := s.Get(KindAccessKey, "prod")
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]string
	if err := json.Unmarshal(raw, &decoded); err != nil || decoded["AccessKeyID"] != testKey.AccessKeyID {
		t.Fatalf("stored form is not the JSON of AccessKey (err %v)", err)
	}
}

func TestAccessKeyRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  AccessKey
	}{
		{"empty", AccessKey{}},
		{"no secret", AccessKey{AccessKeyID: testKey.AccessKeyID}},
		{"no id", AccessKey{SecretAccessKey: testKey.SecretAccessKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewMemory()
			err := s.PutAccessKey("prod", tt.key)
			if err == nil {
				t.Fatal("PutAccessKey accepted an incomplete key")
			}
			if tt.key.SecretAccessKey != "" && strings.Contains(err.Error(), tt.key.SecretAccessKey) {
				t.Fatal("error contains the secret")
			}
		})
	}
}

func TestAccessKeyDamaged(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"not JSON":       "not json " + testKey.SecretAccessKey,
		"truncated JSON": `{"AccessKeyID":"AKIA","SecretAccessKey":"` + testKey.SecretAccessKey,
		"missing secret": `{"AccessKeyID":"AKIA"}`,
	}
	for name, stored := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := NewMemory()
			if err := s.Put(KindAccessKey, "prod", []byte(stored)); err != nil {
				t.Fatal(err)
			}
			_, err := s.AccessKey("prod")
			if err == nil || !strings.Contains(err.Error(), `access-key "prod"`) {
				t.Fatalf("err = %v, want an error naming the item", err)
			}
			if strings.Contains(err.Error(), testKey.SecretAccessKey) || strings.Contains(err.Error(), "not json") {
				t.Fatal("error quotes the stored data")
			}
		})
	}
}

func TestAccessKeyFormattingHidesSecret(t *testing.T) {
	t.Parallel()
	const want = "AccessKey{****************MPLE}"
	k := testKey
	type holder struct{ Key AccessKey }
	tests := map[string]string{
		"%v":          fmt.Sprintf("%v", k),
		"%+v":         fmt.Sprintf("%+v", k),
		"%#v":         fmt.Sprintf("%#v", k),
		"%s":          fmt.Sprintf("%s", k),
		"%q":          fmt.Sprintf("%q", k),
		"%x":          fmt.Sprintf("%x", k),
		"%X":          fmt.Sprintf("%X", k),
		"%d":          fmt.Sprintf("%d", k),
		"String":      k.String(),
		"GoString":    k.GoString(),
		"Sprint":      fmt.Sprint(k),
		"pointer %v":  fmt.Sprintf("%v", &k),
		"pointer %+v": fmt.Sprintf("%+v", &k),
		"in struct":   fmt.Sprintf("%+v", holder{k}),
		"in struct #": fmt.Sprintf("%#v", holder{k}),
		"in slice":    fmt.Sprintf("%v", []AccessKey{k}),
		"in map":      fmt.Sprintf("%v", map[string]AccessKey{"p": k}),
		"error":       fmt.Errorf("key %v", k).Error(),
	}
	for name, out := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if strings.Contains(out, k.SecretAccessKey) || strings.Contains(out, fmt.Sprintf("%x", k.SecretAccessKey)) {
				t.Fatalf("output shows the secret access key")
			}
			if !strings.Contains(out, want) {
				t.Fatalf("output %q does not contain %q", out, want)
			}
		})
	}
	for name, h := range map[string]slog.Handler{"text": nil, "json": nil} {
		var buf bytes.Buffer
		if name == "text" {
			h = slog.NewTextHandler(&buf, nil)
		} else {
			h = slog.NewJSONHandler(&buf, nil)
		}
		slog.New(h).Info("stored", "key", k)
		if strings.Contains(buf.String(), k.SecretAccessKey) || !strings.Contains(buf.String(), want) {
			t.Errorf("slog %s handler output does not mask the key", name)
		}
	}
}

func TestMaskID(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                     "****************",
		"ABCD":                 "****************",
		"ABCDE":                "****************BCDE",
		"AKIAIOSFODNN7EXAMPLE": "****************MPLE",
	}
	for id, want := range tests {
		if got := maskID(id); got != want {
			t.Errorf("maskID(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestConfigFormattingHidesPassphrase(t *testing.T) {
	t.Parallel()
	const pass = "correct horse battery staple"
	c := Config{Backend: "file", FileDir: "/k", FilePassphrase: pass}
	for _, out := range []string{
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c),
		fmt.Sprintf("%x", c), fmt.Sprintf("%v", &c), c.String(),
	} {
		if strings.Contains(out, pass) || strings.Contains(out, fmt.Sprintf("%x", pass)) {
			t.Fatalf("Config output shows the passphrase")
		}
		if !strings.Contains(out, `FileDir:"/k"`) {
			t.Fatalf("Config output %q lacks the non-secret fields", out)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", c)
	if strings.Contains(buf.String(), pass) {
		t.Fatal("slog output shows the passphrase")
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"CREDBROKER_KEYRING":                   "file",
		"CREDBROKER_FILE_DIR":                  "/srv/keys",
		"CREDBROKER_FILE_PASSPHRASE":           "pw",
		"CREDBROKER_SECRET_SERVICE_COLLECTION": "work",
		"XDG_DATA_HOME":                        "/ignored",
	}
	got := ConfigFromEnv(func(k string) string { return env[k] })
	if got.Backend != "file" || got.FileDir != "/srv/keys" || got.FilePassphrase != "pw" || got.Collection != "work" ||
		got.Passphrase != nil || got.ServiceName != "" {
		t.Fatalf("ConfigFromEnv = %v (passphrase set: %t)", got, got.FilePassphrase == "pw")
	}
	if empty := ConfigFromEnv(func(string) string { return "" }); empty.String() != (Config{}).String() {
		t.Fatalf("ConfigFromEnv with no variables = %v, want zero Config", empty)
	}
}

func TestDefaultFileDir(t *testing.T) {
	t.Parallel()
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		name    string
		xdg     string
		home    func() (string, error)
		want    string
		wantErr string
	}{
		{"XDG_DATA_HOME", "/data", home, "/data/credbroker/keyring", ""},
		{"unset", "", home, "/home/u/.local/share/credbroker/keyring", ""},
		// The XDG Base Directory spec says to ignore a relative path.
		{"relative XDG_DATA_HOME", "data", home, "/home/u/.local/share/credbroker/keyring", ""},
		{"no home", "", noHome, "", "CREDBROKER_FILE_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				if k == "XDG_DATA_HOME" {
					return tt.xdg
				}
				return ""
			}
			got, err := defaultFileDir(getenv, tt.home)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("defaultFileDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestOpenUnknownBackend(t *testing.T) {
	t.Parallel()
	_, err := Open(Config{Backend: "vault"})
	if err == nil {
		t.Fatal("Open accepted an unknown backend")
	}
	for _, name := range backendNames {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %s", err, name)
		}
	}
	if !strings.Contains(err.Error(), `"vault"`) {
		t.Errorf("error %q does not name the bad value", err)
	}
}

func TestOpenUnavailableBackend(t *testing.T) {
	t.Parallel()
	name := "wincred"
	if runtime.GOOS == "windows" {
		name = "keychain"
	}
	_, err := Open(Config{Backend: name})
	if err == nil || !strings.Contains(err.Error(), "not available on "+runtime.GOOS) {
		t.Fatalf("err = %v, want %s not available", err, name)
	}
}

func TestBackendName(t *testing.T) {
	t.Parallel()
	if got := NewMemory().Backend(); got != "array" {
		t.Errorf("NewMemory().Backend() = %q", got)
	}
	if got := New(keyring.NewArrayKeyring(nil)).Backend(); got != "array" {
		t.Errorf("New(ArrayKeyring).Backend() = %q", got)
	}
	if got := New(struct{ keyring.Keyring }{}).Backend(); got != "custom" {
		t.Errorf("New(other).Backend() = %q", got)
	}
}

// TestConcurrentUse fails under -race, or with a map panic, if Store lets two
// goroutines into the (unsynchronised) ArrayKeyring at once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := NewMemory()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("p%d", g)
			for i := range 50 {
				data := fmt.Appendf(nil, "%d", i)
				if err := s.Put(KindSession, name, data); err != nil {
					t.Error(err)
					return
				}
				if got, err := s.Get(KindSession, name); err != nil || !bytes.Equal(got, data) {
					t.Errorf("Get(%s) = %q, %v; want %q", name, got, err, data)
					return
				}
				if _, err := s.List(); err != nil {
					t.Error(err)
					return
				}
				if err := s.Put(KindState, "shared", data); err != nil {
					t.Error(err)
					return
				}
			}
			if err := s.Delete(KindSession, name); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	items, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := []Item{{KindState, "shared"}}; !slices.Equal(items, want) {
		t.Fatalf("List = %v, want %v", items, want)
	}
}
