package main

import "testing"

// TestProfileArgs: the usage lines of credbroker's commands, read for
// where a PROFILE argument is.
func TestProfileArgs(t *testing.T) {
	for _, tc := range []struct {
		use          string
		first, every bool
	}{
		{"whoami [PROFILE]", true, false},
		{"add PROFILE", true, false},
		{"clear [PROFILE...]", true, true},
		{"exec [--server] PROFILE [--] [CMD [ARGS...]]", true, false},
		{"export PROFILE [--format env|json|ini|powershell]", true, false},
		{"login PROFILE [--stdout] [--duration D]", true, false},
		{"credential-process --profile PROFILE", false, false},
		{"ecs --profile PROFILE [--listen 127.0.0.1:PORT]", false, false},
		{"serve ecs|imds --profile PROFILE [--listen 127.0.0.1:PORT]", false, false},
		{"x [--listen 127.0.0.1:PORT] PROFILE", true, false},
		{"decode [MESSAGE|-]", false, false},
		{"init STATE [--force]", false, false},
		{"list", false, false},
	} {
		first, every := profileArgs(tc.use)
		if first != tc.first || every != tc.every {
			t.Errorf("profileArgs(%q) = %v, %v; want %v, %v", tc.use, first, every, tc.first, tc.every)
		}
	}
}
