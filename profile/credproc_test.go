package profile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCredbrokerTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ command, want string }{
		{"credbroker credential-process --profile admin", "admin"},
		{"credbroker credential-process --profile=admin", "admin"},
		{"/usr/local/bin/credbroker credential-process --profile admin", "admin"},
		{"credbroker-cli credential-process --profile admin", "admin"},
		{`"/opt/cred broker/credbroker" credential-process --profile 'admin'`, "admin"},
		{`C:\Tools\credbroker.exe credential-process --profile=admin`, ""}, // POSIX splitting eats the backslashes
		{`'C:\Tools\credbroker.exe' credential-process --profile=admin`, "admin"},
		{"CREDBROKER_SOCKET=/run/cb.sock credbroker credential-process --profile admin", "admin"},
		{"env CREDBROKER_CONFIG=/etc/cb credbroker credential-process --profile admin", "admin"},
		{"credbroker --verbose credential-process --profile admin", "admin"},
		{"credbroker credential-process --profile \"ops team\"", "ops team"},
		// Not credbroker, or not its credential-process.
		{"aws-vault exec admin --json", ""},
		{"credbroker-helper credential-process --profile admin", ""},
		{"credbroker exec admin -- aws sts get-caller-identity", ""},
		{"credbroker credential-process", ""},
		{"credbroker credential-process --profile 'admin", ""},
		{"", ""},
	} {
		if got := credbrokerTarget(tc.command); got != tc.want {
			t.Errorf("credbrokerTarget(%q) = %q, want %q", tc.command, got, tc.want)
		}
	}
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"a  b\tc", []string{"a", "b", "c"}, true},
		{`a "b c" 'd e'`, []string{"a", "b c", "d e"}, true},
		{`a\ b "x\"y" 'p\q'`, []string{"a b", `x"y`, `p\q`}, true},
		{`"" x`, []string{"", "x"}, true},
		{`"open`, nil, false},
		{`trailing\`, nil, false},
	} {
		got, ok := shellWords(tc.in)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSelfReference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, process string }{
		{"flag and value", "credbroker credential-process --profile admin"},
		{"flag=value", "credbroker credential-process --profile=admin"},
		{"full path to credbroker-cli", "/usr/local/bin/credbroker-cli credential-process --profile admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text := "[profile base]\n[profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = base\ncredential_process = " + tc.process + "\n"
			cfg, err := ParseAWSConfig("/home/u/.aws/config", strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"base"}, nil }, Getenv: func(string) string { return "" }}
			_, err = r.Resolve("admin")
			var se *SelfReferenceError
			if !errors.As(err, &se) || !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want a *SelfReferenceError", err)
			}
			if se.Profile != "admin" || se.File != "/home/u/.aws/config" || se.Line != 5 {
				t.Errorf("%+v", se)
			}
			want := "/home/u/.aws/config:5: profile admin both defines role_arn and runs credbroker for itself through credential_process: the AWS CLI assumes the role itself and never runs credential_process"
			if err.Error() != want {
				t.Errorf("err = %q", err)
			}
			if got := se.Hint(); got != "keep role_arn in [profile admin] and give the AWS CLI another profile: [profile admin-cb] credential_process = credbroker credential-process --profile admin" {
				t.Errorf("Hint = %q", got)
			}
			// A chain through admin is credbroker's business only: the
			// AWS CLI never runs admin's credential_process there.
			r.Config.Profiles["ops"] = &Profile{Name: "ops", RoleARN: "arn:aws:iam::210987654321:role/Ops", SourceProfile: "admin"}
			if _, err := r.Resolve("ops"); err != nil {
				t.Errorf("ops: %v", err)
			}
		})
	}
}

// TestCredentialProcessNotSelf: what is not a self-reference.
func TestCredentialProcessNotSelf(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	own, aws := filepath.Join(dir, "credbroker"), filepath.Join(dir, "aws")
	// credbroker's file holds admin's role; ~/.aws/config only runs
	// credbroker: whole-profile precedence keeps them apart.
	if err := os.WriteFile(own, []byte("[profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = base\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	awsText := `[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
credential_process = credbroker credential-process --profile base
[profile admin]
credential_process = credbroker credential-process --profile admin
[profile admin-cb]
credential_process = credbroker credential-process --profile admin
[profile ops]
role_arn = arn:aws:iam::210987654321:role/Ops
source_profile = admin-cb
[profile other]
credential_process = aws-vault exec other --json
[profile role-with-other]
role_arn = arn:aws:iam::210987654321:role/X
source_profile = base
credential_process = credbroker credential-process --profile base
[profile to-ghost]
credential_process = credbroker credential-process --profile ghost
[profile via-ghost]
role_arn = arn:aws:iam::210987654321:role/G
source_profile = to-ghost
`
	if err := os.WriteFile(aws, []byte(awsText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadSources(Sources{Credbroker: own, AWS: aws})
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"base", "other"}, nil }, Getenv: func(string) string { return "" }}
	for _, tc := range []struct {
		profile string
		path    []string
		roles   int
	}{
		// What credbroker configure writes: credential_process running
		// credbroker for the profile itself, no role.
		{"base", []string{"base"}, 0},
		{"admin", []string{"admin", "base"}, 1},
		// As a source, admin-cb stands for admin, as it does for the AWS
		// CLI.
		{"ops", []string{"ops", "admin-cb", "admin", "base"}, 2},
		// Another tool's credential_process is not credbroker's business.
		{"other", []string{"other"}, 0},
		// With role_arn the AWS CLI never runs credential_process.
		{"role-with-other", []string{"role-with-other", "base"}, 1},
	} {
		c, err := r.Resolve(tc.profile)
		if err != nil {
			t.Errorf("%s: %v", tc.profile, err)
			continue
		}
		if !slices.Equal(c.Path, tc.path) || len(c.Steps) != tc.roles || c.Source != "base" && c.Source != "other" {
			t.Errorf("%s: chain = %+v", tc.profile, c)
		}
		if c.MFASerial != "" && c.MFASerial != "arn:aws:iam::123456789012:mfa/alice" {
			t.Errorf("%s: mfa %s", tc.profile, c.MFASerial)
		}
	}
	_, err = r.Resolve("admin-cb")
	var de *DelegatedProfileError
	if !errors.As(err, &de) || de.Target != "admin" || !errors.Is(err, ErrConfig) || de.Hint() != "run: credbroker credential-process --profile admin" {
		t.Errorf("admin-cb: err = %v", err)
	}
	_, err = r.Resolve("via-ghost")
	if err == nil || err.Error() != aws+":18: profile to-ghost: credential_process asks credbroker for profile ghost, which is not a known profile" {
		t.Errorf("via-ghost: err = %v", err)
	}
}

// TestCredentialProcessAndInclude: the AWS CLI knows no include_profile,
// so what it does with credential_process is judged by the section alone.
func TestCredentialProcessAndInclude(t *testing.T) {
	t.Parallel()
	text := `[profile base]
[profile frag]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = base
credential_process = credbroker credential-process --profile frag-user
[profile admin]
include_profile = frag
credential_process = credbroker credential-process --profile admin
[profile plain]
include_profile = frag
`
	cfg, err := ParseAWSConfig("c", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Config: cfg, Stored: func() ([]string, error) { return []string{"base"}, nil }, Getenv: func(string) string { return "" }}
	// The AWS CLI sees only credential_process in [profile admin] and runs
	// credbroker, which resolves the role admin includes: no
	// self-reference.
	c, err := r.Resolve("admin")
	if err != nil || len(c.Steps) != 1 || c.Source != "base" {
		t.Fatalf("admin: chain %+v, err %v", c, err)
	}
	if p := cfg.Profiles["plain"]; p.CredentialProcess != "" || p.CredbrokerProfile() != "" || p.RoleARN == "" {
		t.Errorf("plain = %+v: credential_process is not included", p)
	}
	if _, err := r.Resolve("plain"); err != nil {
		t.Errorf("plain: %v", err)
	}
}
