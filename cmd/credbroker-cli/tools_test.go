package main

import (
	"os"
	"os/exec"
	"testing"
)

// needTool returns the path of a program a test runs, such as oathtool or
// curl. Where it is missing the test is skipped, except on CI (CI=true,
// as .ci/run runs), where every check must run: there it fails, saying
// which Debian package to install.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found: install the Debian package %s (make deps does)", name, pkg)
	}
	t.Skipf("%s not found (install the Debian package %s)", name, pkg)
	return ""
}
