//go:build linux

package harden

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProcess runs this test binary again, hardened, and reads what the
// kernel says of it: not dumpable, core size 0.
func TestProcess(t *testing.T) {
	if os.Getenv("HARDEN_CHILD") == "1" {
		if err := Process(); err != nil {
			t.Fatal(err)
		}
		if Dumpable() {
			t.Fatal("still dumpable")
		}
		limits, err := os.ReadFile("/proc/self/limits")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(limits), "\n") {
			if strings.HasPrefix(l, "Max core file size") && !strings.Contains(strings.Join(strings.Fields(l), " "), "Max core file size 0 0") {
				t.Fatalf("core limit: %q", l)
			}
		}
		return
	}
	if !Dumpable() {
		t.Fatal("the test process itself is not dumpable: the check cannot tell")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "HARDEN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("hardened child: %v\n%s", err, out)
	}
}
