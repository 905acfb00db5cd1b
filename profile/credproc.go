package profile

import (
	"fmt"
	"strings"
)

// credbrokerTarget returns the profile a credential_process command asks
// credbroker for: the command runs credbroker (or credbroker-cli)
// credential-process with --profile NAME or --profile=NAME. It is "" for
// any other command. The command is split as a POSIX shell would (the AWS
// CLI splits it with shlex; the Go SDK runs it with sh -c), after leading
// NAME=value assignments and env.
func credbrokerTarget(command string) string {
	args, ok := shellWords(command)
	if !ok {
		return ""
	}
	skipAssignments := func() {
		for len(args) > 0 && isAssignment(args[0]) {
			args = args[1:]
		}
	}
	skipAssignments()
	if len(args) > 0 && programName(args[0]) == "env" {
		args = args[1:]
		skipAssignments()
	}
	if len(args) == 0 {
		return ""
	}
	if p := programName(args[0]); p != "credbroker" && p != "credbroker-cli" {
		return ""
	}
	sub, target := false, ""
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "credential-process":
			sub = true
		case a == "--profile" && i+1 < len(args):
			i++
			target = args[i]
		case strings.HasPrefix(a, "--profile="):
			target = strings.TrimPrefix(a, "--profile=")
		}
	}
	if !sub {
		return ""
	}
	return target
}

// programName is a command's base name without a Windows .exe suffix.
func programName(arg0 string) string {
	if i := strings.LastIndexAny(arg0, `/\`); i >= 0 {
		arg0 = arg0[i+1:]
	}
	if len(arg0) > 4 && strings.EqualFold(arg0[len(arg0)-4:], ".exe") {
		arg0 = arg0[:len(arg0)-4]
	}
	return arg0
}

func isAssignment(word string) bool {
	name, _, ok := strings.Cut(word, "=")
	if !ok || name == "" {
		return false
	}
	for i, c := range name {
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// shellWords splits a command line as a POSIX shell does without
// expansions: blanks separate words; single quotes keep everything; double
// quotes keep everything but \" \\ \$ and \`; a backslash outside quotes
// keeps the next character. ok is false for an unterminated quote.
func shellWords(s string) (words []string, ok bool) {
	var (
		cur     strings.Builder
		inWord  bool
		quote   byte
		escaped bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			cur.WriteByte(c)
			escaped = false
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
		case c == '\\':
			escaped, inWord = true, true
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, false
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, true
}

// SelfReferenceError is a profile that defines a role and whose
// credential_process runs credbroker for that same profile. The AWS CLI
// and SDKs try role_arn before credential_process (botocore's resolver
// order: assume-role, then process), so they assume the role themselves,
// need the source profile's key in a file, and never reach credbroker.
type SelfReferenceError struct {
	Profile string
	// File and Line are where credential_process is written.
	File string
	Line int
}

func (e *SelfReferenceError) Error() string {
	return fmt.Sprintf("%s:%d: profile %s both defines role_arn and runs credbroker for itself through credential_process: the AWS CLI assumes the role itself and never runs credential_process",
		e.File, e.Line, e.Profile)
}

// Hint is the two-profile pattern that works.
func (e *SelfReferenceError) Hint() string {
	return fmt.Sprintf("keep role_arn in [profile %s] and give the AWS CLI another profile: [profile %s-cb] credential_process = credbroker credential-process --profile %s",
		e.Profile, e.Profile, e.Profile)
}

// Is makes errors.Is(err, ErrConfig) work.
func (e *SelfReferenceError) Is(target error) bool { return target == ErrConfig }

// DelegatedProfileError is a request for a profile whose only way to
// credentials is credential_process running credbroker for another
// profile (the admin-cb of the pattern SelfReferenceError.Hint shows).
// credbroker answers for the profile named there and nothing else: access
// rules name profiles, and serving admin's credentials under the name
// admin-cb would let a rule about admin be stepped around.
type DelegatedProfileError struct {
	// Profile was asked for; Target is the profile its
	// credential_process names.
	Profile, Target string
	File            string
	Line            int
}

func (e *DelegatedProfileError) Error() string {
	return fmt.Sprintf("profile %s hands out profile %s's credentials through credential_process: ask for %s", e.Profile, e.Target, e.Target)
}

// Hint is the command that asks for the right profile.
func (e *DelegatedProfileError) Hint() string {
	return "run: credbroker credential-process --profile " + e.Target
}

// Is makes errors.Is(err, ErrConfig) work: asking again for the same name
// cannot help.
func (e *DelegatedProfileError) Is(target error) bool { return target == ErrConfig }
