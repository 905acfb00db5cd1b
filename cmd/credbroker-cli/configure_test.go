package main

import "testing"

// TestSetCredentialProcess: the line goes under the section's header
// whatever the file's last line, line ending or header spelling.
func TestSetCredentialProcess(t *testing.T) {
	t.Parallel()
	const cmd = "credbroker credential-process --profile prod"
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "[profile prod]\ncredential_process = " + cmd + "\n"},
		{"no newline at the end", "[default]\nregion = eu-west-1", "[default]\nregion = eu-west-1\n\n[profile prod]\ncredential_process = " + cmd + "\n"},
		{"the header is the last line", "[profile prod]", "[profile prod]\ncredential_process = " + cmd + "\n"},
		{"CRLF", "[profile  prod] # mine\r\nregion = eu-west-1\r\n", "[profile  prod] # mine\r\ncredential_process = " + cmd + "\r\nregion = eu-west-1\r\n"},
		{"a sub-property named like it is not it", "[profile prod]\ns3 =\n  credential_process = x\n", "[profile prod]\ncredential_process = " + cmd + "\ns3 =\n  credential_process = x\n"},
	} {
		got, changed, _, err := setCredentialProcess(tc.in, "config", "prod", cmd, "", false)
		if err != nil || !changed || got != tc.want {
			t.Errorf("%s: %q, %v, %v; want %q", tc.name, got, changed, err, tc.want)
		}
	}
	// The profile's region goes with it when the section has none.
	for in, want := range map[string]string{
		"":                                     "[profile prod]\ncredential_process = " + cmd + "\nregion = eu-west-1\n",
		"[profile prod]\nregion = us-east-1\n": "[profile prod]\ncredential_process = " + cmd + "\nregion = us-east-1\n",
	} {
		got, _, withRegion, err := setCredentialProcess(in, "config", "prod", cmd, "eu-west-1", false)
		if err != nil || got != want || withRegion != (in == "") {
			t.Errorf("region, from %q: %q, %v, %v; want %q", in, got, withRegion, err, want)
		}
	}
}
