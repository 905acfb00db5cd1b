package sandbox

import (
	"encoding/base64"
	"strings"
	"time"
)

type virtualMFAXML struct {
	SerialNumber string `xml:"SerialNumber"`
	// Base32StringSeed is a blob: base64 of the base32 text, as IAM
	// sends it (the SDKs hand back the base32 text).
	Base32StringSeed string `xml:"Base32StringSeed"`
}

// createVirtualMFADevice makes an unassigned device with a new seed;
// EnableMFADevice assigns it to a user.
func (c *call) createVirtualMFADevice() (any, *apiError) {
	name, apiErr := c.stringParam("VirtualMFADeviceName", "virtualMFADeviceName", true, 1, 226, `[\w+=,.@-]+`, nameChar)
	if apiErr != nil {
		return nil, apiErr
	}
	path := c.params.Get("Path")
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") || len(path) > 512 {
		return nil, validation(clip(path, 64), "path", `satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	serial := "arn:aws:iam::" + c.caller.account + ":mfa" + path + name
	if apiErr := c.authorize("iam:CreateVirtualMFADevice", serial); apiErr != nil {
		return nil, apiErr
	}
	seed, err := newSeed(c.s.rand())
	if err != nil {
		return nil, asAPIError(err)
	}
	err = c.s.update(func(st *State) error {
		for _, d := range st.MFADevices {
			if d.Serial == serial {
				return newError("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
			}
		}
		st.MFADevices = append(st.MFADevices, MFADevice{Account: c.caller.account, Serial: serial, Seed: seed})
		return nil
	})
	if err != nil {
		return nil, asAPIError(err)
	}
	return struct {
		VirtualMFADevice virtualMFAXML `xml:"VirtualMFADevice"`
	}{virtualMFAXML{SerialNumber: serial, Base32StringSeed: base64.StdEncoding.EncodeToString([]byte(seed))}}, nil
}

// enableMFADevice assigns a device to a user once two consecutive codes
// prove the seed is in the user's authenticator: AuthenticationCode1 of
// one time step and AuthenticationCode2 of the next, a step not used
// before, from ten minutes ago up to now.
func (c *call) enableMFADevice() (any, *apiError) {
	u, apiErr := c.userFor("iam:EnableMFADevice")
	if apiErr != nil {
		return nil, apiErr
	}
	serial, apiErr := c.stringParam("SerialNumber", "serialNumber", true, 9, 256, `[\w+=/:,.@-]+`, nil)
	if apiErr != nil {
		return nil, apiErr
	}
	code1, code2 := c.params.Get("AuthenticationCode1"), c.params.Get("AuthenticationCode2")
	if code1 == "" {
		return nil, validationNull("authenticationCode1")
	}
	if code2 == "" {
		return nil, validationNull("authenticationCode2")
	}
	now := c.clientNow.Unix() / totpPeriod
	err := c.s.update(func(st *State) error {
		for i := range st.MFADevices {
			d := &st.MFADevices[i]
			if d.Serial != serial || d.Account != u.Account {
				continue
			}
			if d.User != "" {
				return newError("EntityAlreadyExists", "MFA Device is already in use.")
			}
			step := matchStep(d.Seed, code1, max(now-20, d.LastStep+1), now)
			if step < 0 || matchStep(d.Seed, code2, step+1, step+1) < 0 {
				return newError("InvalidAuthenticationCode", "Authentication code for device is not valid.")
			}
			enabled := c.now.UTC().Truncate(time.Second)
			d.User, d.EnableDate, d.LastStep = u.Name, &enabled, step+1
			return nil
		}
		return newError("NoSuchEntity", "VirtualMFADevice with serial number %s doesn't exist.", serial)
	})
	if err != nil {
		return nil, asAPIError(err)
	}
	return nil, nil
}

// deactivateMFADevice unassigns a device from its user; the virtual
// device itself remains, as in IAM, until it is deleted.
func (c *call) deactivateMFADevice() (any, *apiError) {
	u, apiErr := c.userFor("iam:DeactivateMFADevice")
	if apiErr != nil {
		return nil, apiErr
	}
	serial, apiErr := c.stringParam("SerialNumber", "serialNumber", true, 9, 256, `[\w+=/:,.@-]+`, nil)
	if apiErr != nil {
		return nil, apiErr
	}
	err := c.s.update(func(st *State) error {
		for i := range st.MFADevices {
			d := &st.MFADevices[i]
			if d.Serial == serial && d.Account == u.Account && d.User == u.Name {
				d.User, d.EnableDate = "", nil
				return nil
			}
		}
		return newError("NoSuchEntity", "MFA Device with serial number %s does not exist.", serial)
	})
	if err != nil {
		return nil, asAPIError(err)
	}
	return nil, nil
}

type mfaDeviceXML struct {
	UserName     string  `xml:"UserName"`
	SerialNumber string  `xml:"SerialNumber"`
	EnableDate   awsTime `xml:"EnableDate"`
}

func (c *call) listMFADevices() (any, *apiError) {
	u, apiErr := c.userFor("iam:ListMFADevices")
	if apiErr != nil {
		return nil, apiErr
	}
	out := struct {
		MFADevices  memberList[mfaDeviceXML] `xml:"MFADevices"`
		IsTruncated bool                     `xml:"IsTruncated"`
	}{}
	out.MFADevices.Members = []mfaDeviceXML{}
	for _, d := range sortedDevices(c.sn.ix, u) {
		var enabled time.Time
		if d.EnableDate != nil {
			enabled = *d.EnableDate
		}
		out.MFADevices.Members = append(out.MFADevices.Members, mfaDeviceXML{UserName: u.Name, SerialNumber: d.Serial, EnableDate: awsTime(enabled)})
	}
	return out, nil
}
