// Package layout holds the test that keeps the module's import graph the
// one the README's Layout table draws.
package layout

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/credbroker/credbroker/"

// allowed lists, for each package of the module, the packages of the
// module it may import (directly). Arrows go one way: the daemon uses the
// engine, the engine the leaves, never back; a package missing here fails
// the test until someone decides where it belongs.
var allowed = map[string][]string{
	"cmd/credbroker":               {"cmd/credbroker/front"},
	"cmd/credbroker/front":         {"internal/harden", "wire"},
	"cmd/credbroker-cli":           {"broker", "cache", "daemon", "install", "internal/harden", "keystore", "mfa", "peercred", "policy", "profile", "sandbox", "wire"},
	"daemon":                       {"broker", "internal/harden", "keystore", "peercred", "profile", "wire"},
	"broker":                       {"cache", "keystore", "mfa", "policy", "profile", "wire"},
	"profile":                      {},
	"wire":                         {},
	"peercred":                     {},
	"policy":                       {},
	"cache":                        {},
	"mfa":                          {},
	"keystore":                     {"keystore/internal/sessionbus"},
	"keystore/internal/sessionbus": {},
	"install":                      {},
	"sandbox":                      {"policy"},
	"bench":                        {"internal/stspeer", "wire"},
	"bench/floor":                  {},
	"internal/asuser":              {},
	"internal/fakests":             {"profile"},
	"internal/stspeer":             {},
	"internal/layout":              {},
	"internal/harden":              {},
}

// stdlibOnly packages import nothing outside the standard library and the
// module: the protocol and the small program (whose start-up cost every
// credential_process pays), the config parser and the policy language.
var stdlibOnly = []string{"cmd/credbroker", "cmd/credbroker/front", "wire", "internal/harden", "profile", "policy"}

func TestImportDirections(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := strings.TrimPrefix(fields[0], module), fields[1:]
		may, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the layout: add it to the README's Layout table and to this test", pkg)
			continue
		}
		for _, imp := range imports {
			switch {
			case strings.HasPrefix(imp, module):
				if dep := strings.TrimPrefix(imp, module); !slices.Contains(may, dep) {
					t.Errorf("%s imports %s: not an arrow of the layout", pkg, dep)
				}
			case isStd(imp):
			case slices.Contains(stdlibOnly, pkg):
				t.Errorf("%s imports %s: it takes only the standard library", pkg, imp)
			}
		}
	}
}

// TestSmallProgramStaysLean: everything cmd/credbroker links, however
// deep, is the standard library, package wire and its own; and not
// net/http, whose initialisation alone costs every credential_process
// call.
func TestSmallProgramStaysLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"cmd/credbroker").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case pkg == "net/http":
			t.Error("cmd/credbroker links net/http")
		case isStd(pkg), pkg == module+"wire", pkg == module+"internal/harden", strings.HasPrefix(pkg, module+"cmd/credbroker"):
		default:
			t.Errorf("cmd/credbroker links %s", pkg)
		}
	}
}

// isStd: standard library paths have no dot in their first element.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// TestJose2goPinned: the file keyring's JOSE library is at a version past
// GO-2023-2409 (a PBES2 token with a huge iteration count costs minutes of
// CPU to decrypt); keyring itself asks only for v1.5.0.
func TestJose2goPinned(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/dvsekhvalnov/jose2go").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	v := strings.TrimSpace(string(out))
	var major, minor int
	if _, err := fmt.Sscanf(v, "v%d.%d", &major, &minor); err != nil || major < 1 || (major == 1 && minor < 6) {
		t.Fatalf("jose2go %s: want v1.6.0 or later (GO-2023-2409)", v)
	}
}
