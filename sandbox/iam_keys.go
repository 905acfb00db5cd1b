package sandbox

import (
	"sort"
	"time"
)

// iamActions are the IAM operations the sandbox answers (Version
// 2010-05-08).
var iamActions = map[string]handler{
	"GetUser":                 {fn: (*call).getUser},
	"CreateAccessKey":         {fn: (*call).createAccessKey},
	"DeleteAccessKey":         {fn: (*call).deleteAccessKey},
	"UpdateAccessKey":         {fn: (*call).updateAccessKey},
	"ListAccessKeys":          {fn: (*call).listAccessKeys},
	"GetAccessKeyLastUsed":    {fn: (*call).getAccessKeyLastUsed},
	"CreateVirtualMFADevice":  {fn: (*call).createVirtualMFADevice},
	"EnableMFADevice":         {fn: (*call).enableMFADevice},
	"DeactivateMFADevice":     {fn: (*call).deactivateMFADevice},
	"ListMFADevices":          {fn: (*call).listMFADevices},
	"SimulateCustomPolicy":    {fn: (*call).simulateCustomPolicy},
	"SimulatePrincipalPolicy": {fn: (*call).simulatePrincipalPolicy},
}

// maxAccessKeys is IAM's quota of access keys per user.
const maxAccessKeys = 2

// memberList is a Query protocol list: <Name><member>...</member></Name>,
// written even when empty, as IAM does.
type memberList[T any] struct {
	Members []T `xml:"member"`
}

// targetUser is the user an IAM call names (UserName), or the caller's
// own user when it names none ("If you do not specify a user name, IAM
// determines the user name implicitly based on the AWS access key ID used
// to sign the request"). It returns the ARN to authorize against even
// when no such user exists: permission is checked before existence.
func (c *call) targetUser() (*User, string, *apiError) {
	name, apiErr := c.stringParam("UserName", "userName", false, 1, 64, `[\w+=,.@-]+`, nameChar)
	if apiErr != nil {
		return nil, "", apiErr
	}
	if name == "" {
		if c.caller.user == nil || c.caller.sessionKind() == kindRole {
			return nil, "", newError("ValidationError", "Must specify userName when calling with non-User credentials")
		}
		return c.caller.user.user, c.caller.user.user.ARN(), nil
	}
	if e := c.sn.ix.users[userKey(c.caller.account, name)]; e != nil {
		return e.user, e.user.ARN(), nil
	}
	return nil, "arn:aws:iam::" + c.caller.account + ":user/" + name, nil
}

// userFor authorizes action on the user the call names and returns it.
func (c *call) userFor(action string) (*User, *apiError) {
	u, arn, apiErr := c.targetUser()
	if apiErr != nil {
		return nil, apiErr
	}
	if apiErr := c.authorize(action, arn); apiErr != nil {
		return nil, apiErr
	}
	if u == nil {
		return nil, newError("NoSuchEntity", "The user with name %s cannot be found.", c.params.Get("UserName"))
	}
	return u, nil
}

func findUser(st *State, account, name string) *User {
	for i := range st.Users {
		if st.Users[i].Account == account && st.Users[i].Name == name {
			return &st.Users[i]
		}
	}
	return nil
}

type userXML struct {
	Path       string  `xml:"Path"`
	UserName   string  `xml:"UserName"`
	UserID     string  `xml:"UserId"`
	Arn        string  `xml:"Arn"`
	CreateDate awsTime `xml:"CreateDate"`
}

func userOf(u *User) userXML {
	return userXML{Path: pathOf(u.Path), UserName: u.Name, UserID: u.ID, Arn: u.ARN(), CreateDate: awsTime(u.CreateDate)}
}

func (c *call) getUser() (any, *apiError) {
	u, apiErr := c.userFor("iam:GetUser")
	if apiErr != nil {
		return nil, apiErr
	}
	return struct {
		User userXML `xml:"User"`
	}{userOf(u)}, nil
}

type accessKeyXML struct {
	UserName        string  `xml:"UserName"`
	AccessKeyID     string  `xml:"AccessKeyId"`
	Status          string  `xml:"Status"`
	SecretAccessKey string  `xml:"SecretAccessKey,omitempty"`
	CreateDate      awsTime `xml:"CreateDate"`
}

func (c *call) createAccessKey() (any, *apiError) {
	u, apiErr := c.userFor("iam:CreateAccessKey")
	if apiErr != nil {
		return nil, apiErr
	}
	id, err := newKeyID(c.s.rand(), "AKIA", u.Account)
	if err != nil {
		return nil, asAPIError(err)
	}
	secret, err := newSecret(c.s.rand())
	if err != nil {
		return nil, asAPIError(err)
	}
	key := AccessKey{ID: id, Secret: secret, Status: statusActive, CreateDate: c.now.UTC().Truncate(time.Second)}
	err = c.s.update(func(st *State) error {
		su := findUser(st, u.Account, u.Name)
		if su == nil {
			return newError("NoSuchEntity", "The user with name %s cannot be found.", u.Name)
		}
		if len(su.AccessKeys) >= maxAccessKeys {
			return newError("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeys)
		}
		su.AccessKeys = append(su.AccessKeys, key)
		return nil
	})
	if err != nil {
		return nil, asAPIError(err)
	}
	return struct {
		AccessKey accessKeyXML `xml:"AccessKey"`
	}{accessKeyXML{UserName: u.Name, AccessKeyID: id, Status: key.Status, SecretAccessKey: secret, CreateDate: awsTime(key.CreateDate)}}, nil
}

// changeKey applies change to the named key of the user the call names.
func (c *call) changeKey(action string, change func(u *User, i int) error) *apiError {
	u, apiErr := c.userFor(action)
	if apiErr != nil {
		return apiErr
	}
	id, apiErr := c.stringParam("AccessKeyId", "accessKeyId", true, 16, 128, `[\w]+`, wordChar)
	if apiErr != nil {
		return apiErr
	}
	err := c.s.update(func(st *State) error {
		if su := findUser(st, u.Account, u.Name); su != nil {
			for i := range su.AccessKeys {
				if su.AccessKeys[i].ID == id {
					return change(su, i)
				}
			}
		}
		return newError("NoSuchEntity", "The Access Key with id %s cannot be found.", id)
	})
	if err != nil {
		return asAPIError(err)
	}
	return nil
}

func (c *call) deleteAccessKey() (any, *apiError) {
	return nil, c.changeKey("iam:DeleteAccessKey", func(u *User, i int) error {
		u.AccessKeys = append(u.AccessKeys[:i], u.AccessKeys[i+1:]...)
		return nil
	})
}

func (c *call) updateAccessKey() (any, *apiError) {
	status := c.params.Get("Status")
	if status != statusActive && status != statusInactive {
		return nil, validation(clip(status, 16), "status", "satisfy enum value set: [Active, Inactive]")
	}
	return nil, c.changeKey("iam:UpdateAccessKey", func(u *User, i int) error {
		u.AccessKeys[i].Status = status
		return nil
	})
}

func (c *call) listAccessKeys() (any, *apiError) {
	u, apiErr := c.userFor("iam:ListAccessKeys")
	if apiErr != nil {
		return nil, apiErr
	}
	out := struct {
		AccessKeyMetadata memberList[accessKeyXML] `xml:"AccessKeyMetadata"`
		IsTruncated       bool                     `xml:"IsTruncated"`
	}{}
	out.AccessKeyMetadata.Members = []accessKeyXML{}
	for _, k := range u.AccessKeys {
		out.AccessKeyMetadata.Members = append(out.AccessKeyMetadata.Members, accessKeyXML{UserName: u.Name, AccessKeyID: k.ID, Status: k.Status, CreateDate: awsTime(k.CreateDate)})
	}
	return out, nil
}

type keyLastUsedXML struct {
	LastUsedDate *awsTime `xml:"LastUsedDate,omitempty"`
	ServiceName  string   `xml:"ServiceName"`
	Region       string   `xml:"Region"`
}

// getAccessKeyLastUsed answers for a key of the caller's account; a key
// never used has ServiceName and Region "N/A", as IAM answers.
func (c *call) getAccessKeyLastUsed() (any, *apiError) {
	id, apiErr := c.stringParam("AccessKeyId", "accessKeyId", true, 16, 128, `[\w]+`, wordChar)
	if apiErr != nil {
		return nil, apiErr
	}
	o, ok := c.sn.ix.keys[id]
	if !ok || o.user == nil || o.account.ID != c.caller.account {
		return nil, newError("AccessDenied", "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s", c.caller.arn, id)
	}
	if apiErr := c.authorize("iam:GetAccessKeyLastUsed", o.user.ARN()); apiErr != nil {
		return nil, apiErr
	}
	last := keyLastUsedXML{ServiceName: "N/A", Region: "N/A"}
	use := o.key.LastUsed
	if u, ok := c.s.used.Load(id); ok {
		v := u.(KeyUse)
		use = &v
	}
	if use != nil {
		t := awsTime(use.Date)
		last = keyLastUsedXML{LastUsedDate: &t, ServiceName: use.Service, Region: use.Region}
	}
	return struct {
		UserName          string         `xml:"UserName"`
		AccessKeyLastUsed keyLastUsedXML `xml:"AccessKeyLastUsed"`
	}{o.user.Name, last}, nil
}

// sortedDevices lists a user's devices by serial.
func sortedDevices(ix *index, u *User) []*MFADevice {
	ds := ix.devicesOf(u)
	sort.Slice(ds, func(i, j int) bool { return ds[i].Serial < ds[j].Serial })
	return ds
}
