package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseContextFlag(t *testing.T) {
	tests := []struct {
		flag    string
		want    ContextEntry
		wantErr string
	}{
		{flag: "aws:SourceIp=ip:203.0.113.7", want: ContextEntry{Key: "aws:SourceIp", Type: "ip", Values: []string{"203.0.113.7"}}},
		{flag: "aws:TagKeys=string:env,owner", want: ContextEntry{Key: "aws:TagKeys", Type: "string", Values: []string{"env", "owner"}, Multi: true}},
		{flag: "aws:TagKeys=stringList:env", want: ContextEntry{Key: "aws:TagKeys", Type: "stringList", Values: []string{"env"}, Multi: true}},
		{flag: "aws:TagKeys=stringList:", want: ContextEntry{Key: "aws:TagKeys", Type: "stringList", Multi: true}},
		{flag: `app:csv=string:a\,b,c\\d`, want: ContextEntry{Key: "app:csv", Type: "string", Values: []string{"a,b", `c\d`}, Multi: true}},
		{flag: "aws:MultiFactorAuthPresent=boolean:TRUE", want: ContextEntry{Key: "aws:MultiFactorAuthPresent", Type: "boolean", Values: []string{"true"}}},
		{flag: "aws:CurrentTime=date:2024-05-01T12:00:00Z", want: ContextEntry{Key: "aws:CurrentTime", Type: "date", Values: []string{"2024-05-01T12:00:00Z"}}},
		{flag: "s3:max-keys=numeric:10", want: ContextEntry{Key: "s3:max-keys", Type: "numeric", Values: []string{"10"}}},
		{flag: "aws:SourceArn=arn:arn:aws:sns:us-east-1:111122223333:t", want: ContextEntry{Key: "aws:SourceArn", Type: "arn", Values: []string{"arn:aws:sns:us-east-1:111122223333:t"}}},
		{flag: "k=binary:AAEC", want: ContextEntry{Key: "k", Type: "binary", Values: []string{"\x00\x01\x02"}}},
		{flag: "k=string:", want: ContextEntry{Key: "k", Type: "string", Values: []string{""}}},
		{flag: "novalue", wantErr: "want KEY=TYPE:VALUE"},
		{flag: "k=10", wantErr: "TYPE one of string, numeric"},
		{flag: "k=float:1", wantErr: `unknown type "float"`},
		{flag: "k=numeric:ten", wantErr: "not a decimal number"},
		{flag: "k=boolean:yes", wantErr: `not "true" or "false"`},
		{flag: "k=ip:10.0.0.0/8", wantErr: "not an IP address"},
		{flag: "k=date:tomorrow", wantErr: "not an ISO 8601 date"},
		{flag: "k=arn:bucket", wantErr: "not an ARN"},
		{flag: "k=binary:!", wantErr: "not base64"},
		{flag: `k=string:a\b`, wantErr: "backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			got, err := ParseContextFlag(tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Key != tt.want.Key || got.Type != tt.want.Type || got.Multi != tt.want.Multi || !slices.Equal(got.Values, tt.want.Values) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func writePolicy(t *testing.T, dir, name, doc string) *Policy {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSimulation(t *testing.T) {
	dir := t.TempDir()
	identity := writePolicy(t, dir, "role.json", rwRolePolicy)
	deny := writePolicy(t, dir, "deny.json", doc(stmt(`"Sid":"NoDelete"`, `"Effect":"Deny"`, `"Action":"s3:DeleteObject"`, `"Resource":"*"`)))
	sim := Simulation{
		Identity:    []*Policy{identity, deny},
		Actions:     []string{"s3:GetObject", "s3:DeleteObject", "s3:ListBucket"},
		ResourceARN: "arn:aws:s3:::my_bucket/a.txt",
		Principal:   "arn:aws:sts::111122223333:assumed-role/S3Access/app",
		Context:     []string{"aws:SourceIp=ip:203.0.113.7"},
	}
	rep, err := sim.Run()
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	roleFile, denyFile := filepath.Join(dir, "role.json"), filepath.Join(dir, "deny.json")
	want := `{"results":[` +
		`{"action":"s3:GetObject","resource":"arn:aws:s3:::my_bucket/a.txt","decision":"allowed","matchedStatements":[{"policy":"` + roleFile + `","sid":"AllObjectActions","index":1}]},` +
		`{"action":"s3:DeleteObject","resource":"arn:aws:s3:::my_bucket/a.txt","decision":"explicitDeny","matchedStatements":[{"policy":"` + denyFile + `","sid":"NoDelete","index":0}]},` +
		`{"action":"s3:ListBucket","resource":"arn:aws:s3:::my_bucket/a.txt","decision":"implicitDeny","matchedStatements":[]}]}` + "\n"
	if js.String() != want {
		t.Errorf("JSON\n got %s\nwant %s", js.String(), want)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	wantText := "s3:GetObject on arn:aws:s3:::my_bucket/a.txt: allowed (allowed by identity-based policy)\n" +
		"  " + roleFile + " statement 2 Sid \"AllObjectActions\"\n" +
		"s3:DeleteObject on arn:aws:s3:::my_bucket/a.txt: explicitDeny (an explicit Deny applies)\n" +
		"  " + denyFile + " statement 1 Sid \"NoDelete\"\n" +
		"s3:ListBucket on arn:aws:s3:::my_bucket/a.txt: implicitDeny (no identity-based policy allows the action)\n"
	if text.String() != wantText {
		t.Errorf("text\n got %q\nwant %q", text.String(), wantText)
	}
}

func TestSimulationAllPolicyKinds(t *testing.T) {
	dir := t.TempDir()
	sim := Simulation{
		Identity:        []*Policy{writePolicy(t, dir, "id.json", doc(allowStmt("s3:*", "*")))},
		Resource:        writePolicy(t, dir, "bucket.json", bucketPolicy("Allow", `{"AWS":"444455556666"}`, "s3:GetObject")),
		Boundary:        writePolicy(t, dir, "boundary.json", doc(allowStmt("s3:Get*", "*"))),
		Session:         writePolicy(t, dir, "session.json", doc(allowStmt("s3:GetObject", "arn:aws:s3:::bucket/public/*"))),
		Actions:         []string{"s3:GetObject"},
		ResourceARN:     "arn:aws:s3:::bucket/public/a",
		Principal:       "arn:aws:sts::444455556666:assumed-role/Reader/s",
		ResourceAccount: account,
	}
	rep, err := sim.Run()
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Results[0]; got.Decision != Allowed || len(got.MatchedStatements) != 4 {
		t.Fatalf("got %+v", got)
	}
	sim.ResourceARN = "arn:aws:s3:::bucket/private/a"
	if rep, _ = sim.Run(); rep.Results[0].Decision != ImplicitDeny || !strings.Contains(rep.Results[0].Reason, "session policy") {
		t.Fatalf("got %+v", rep.Results[0])
	}
}

func TestSimulationBadInput(t *testing.T) {
	base := Simulation{Actions: []string{"s3:GetObject"}, Principal: alice}
	tests := []struct {
		name   string
		change func(*Simulation)
		want   string
	}{
		{"NoAction", func(s *Simulation) { s.Actions = nil }, "no action"},
		{"WildcardAction", func(s *Simulation) { s.Actions = []string{"s3:*"} }, `action "s3:*" is not service:action`},
		{"NoPrincipal", func(s *Simulation) { s.Principal = "" }, "no caller"},
		{"BadPrincipal", func(s *Simulation) { s.Principal = "alice" }, `principal "alice"`},
		{"BadResource", func(s *Simulation) { s.ResourceARN = "bucket" }, `resource "bucket" is not an ARN`},
		{"BadAccount", func(s *Simulation) { s.ResourceAccount = "12" }, "not a 12-digit account ID"},
		{"BadContext", func(s *Simulation) { s.Context = []string{"k=ip:nope"} }, "not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.change(&s)
			if _, err := s.Run(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "read policy") {
		t.Errorf("ParseFile of a missing file: %v", err)
	}
}
