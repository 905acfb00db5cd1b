package wire

import "errors"

// ErrUnsafeSocket: a socket folder could be tampered with by someone else.
var ErrUnsafeSocket = errors.New("unsafe socket folder")

// SocketDirError says what is wrong with a socket folder.
type SocketDirError struct {
	Dir, Problem string
	// Fix is what to do about it, "" when there is nothing simple.
	Fix string
}

func (e *SocketDirError) Error() string {
	return "socket folder " + e.Dir + " " + e.Problem + ": refusing to serve there"
}

// Hint is what to do about it.
func (e *SocketDirError) Hint() string { return e.Fix }

// Is makes errors.Is(err, ErrUnsafeSocket) work.
func (e *SocketDirError) Is(target error) bool { return target == ErrUnsafeSocket }
