//go:build !unix

package daemon

import (
	"fmt"
	"net"
	"runtime"
)

type listener struct{ net.Listener }

func listenUnix(string, bool, string) (*listener, error) {
	return nil, fmt.Errorf("the credbroker daemon needs a Unix system (peer credentials), not %s", runtime.GOOS)
}
