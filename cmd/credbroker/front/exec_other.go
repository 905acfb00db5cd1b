//go:build !unix

package front

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
)

const exeSuffix = ".exe"

// runCLI runs credbroker-cli with this process's arguments, environment
// and standard streams, and returns its exit code (no exec(2) here).
func runCLI(args []string, stderr io.Writer) int {
	path, err := cliPath()
	if err != nil {
		fmt.Fprintf(stderr, "credbroker: error: %v\n", err)
		return 1
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode()
	case err != nil:
		fmt.Fprintf(stderr, "credbroker: error: %v\n", err)
		return 1
	}
	return 0
}
