//go:build !unix

package broker

import (
	"context"
	"fmt"
	"github.com/credbroker/credbroker/broker/wire"
	"net"
	"runtime"
)

// SystemSocket is where the system service would listen.
const SystemSocket = wire.SystemSocket

type listener struct{ net.Listener }

func listenUnix(string, bool, string) (*listener, error) {
	return nil, fmt.Errorf("the credbroker daemon needs a Unix system (peer credentials), not %s", runtime.GOOS)
}

func lockFile(context.Context, string) (func(), error) {
	return nil, fmt.Errorf("file locks are not implemented on %s", runtime.GOOS)
}
