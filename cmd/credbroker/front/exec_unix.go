//go:build unix

package front

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

const exeSuffix = ""

// runCLI replaces this process with credbroker-cli, same arguments, same
// environment, same descriptors: to the caller it is one program.
func runCLI(args []string, stderr io.Writer) int {
	path, err := cliPath()
	if err == nil {
		// argv[0] is the real path: the program is credbroker-cli.
		err = syscall.Exec(path, append([]string{path}, args...), os.Environ())
	}
	fmt.Fprintf(stderr, "credbroker: error: %v\n", err)
	return 1
}
