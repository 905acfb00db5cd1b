package wire

import (
	"context"
	"encoding/json"
	"fmt"
)

// PathTOTPCode is POST /v1/totp-code (credbroker totp code): the daemon's
// owner asks for a code of a profile's stored seed, made by the daemon's
// own code generator, so that the time steps it records as used and the
// codes shown agree. The body is a ProfileRequest (no Code).
const PathTOTPCode = "/v1/totp-code"

// TOTPCodeAnswer is what POST /v1/totp-code answers: a code never handed
// out before for Device.
type TOTPCodeAnswer struct {
	Code   string `json:"code"`
	Device string `json:"device"`
}

// TOTPCode asks the daemon for a code of profile's stored seed. While the
// daemon waits for the device's next time step (the code of this one was
// used), OnWait hears it.
func (c *Client) TOTPCode(ctx context.Context, profile string) (TOTPCodeAnswer, error) {
	body, _ := json.Marshal(ProfileRequest{Profile: profile})
	data, err := c.do(ctx, "POST", c.path(PathTOTPCode, ""), body)
	if err != nil {
		return TOTPCodeAnswer{}, err
	}
	var ans TOTPCodeAnswer
	if err := json.Unmarshal(data, &ans); err != nil || ans.Code == "" {
		return TOTPCodeAnswer{}, fmt.Errorf("daemon on %s: totp code: an answer without a code", c.Socket)
	}
	return ans, nil
}
