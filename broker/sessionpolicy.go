package broker

import (
	"errors"
	"fmt"
	"io"

	"github.com/credbroker/credbroker/policy"
	"github.com/credbroker/credbroker/profile"
)

// maxPolicyFile bounds what is read of a session policy file: AWS takes
// 2,048 characters.
const maxPolicyFile = 64 << 10

// ReadSessionPolicy reads and checks the session_policy file at path of
// profile name (see policy.CheckSessionPolicy: JSON, grammar, errors of
// lint, AWS's 2,048 characters), for AssumeRole and for credbroker
// login's GetFederationToken alike. A failure is a *profile.ConfigError
// naming the file.
func ReadSessionPolicy(path, name string) (string, error) {
	fail := func(msg string) error {
		return &profile.ConfigError{Path: path, Msg: fmt.Sprintf("session_policy of profile %s: %s", name, msg)}
	}
	f, err := profile.OpenRegular(path)
	var ce *profile.ConfigError
	if errors.As(err, &ce) {
		return "", fail(ce.Msg)
	}
	if err != nil {
		return "", fail(errors.Unwrap(err).Error())
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPolicyFile+1))
	if err != nil {
		return "", fail(err.Error())
	}
	if len(data) > maxPolicyFile {
		return "", fail(fmt.Sprintf("larger than %d bytes", maxPolicyFile))
	}
	if err := policy.CheckSessionPolicy(data); err != nil {
		return "", fail(err.Error())
	}
	return string(data), nil
}
