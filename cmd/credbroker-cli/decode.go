package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/profile"
)

// maxEncodedMessage is the longest EncodedMessage STS takes (the
// DecodeAuthorizationMessage API reference: 1 to 10240 characters).
const maxEncodedMessage = 10240

// encodedMarker is how AWS ends an AccessDenied message that carries an
// encoded authorization message: pasting the whole message works too.
const encodedMarker = "Encoded authorization failure message:"

func newDecodeCmd(a *app) *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "decode [MESSAGE|-]",
		Short: "Say why AWS refused a request: decode an encoded authorization failure message",
		Long: `Decode an encoded authorization failure message (STS
DecodeAuthorizationMessage), with the temporary credentials the daemon serves
for --profile (default $AWS_PROFILE, else "default"), and print it as indented
JSON: the decision, the statements that matched and the request's context.

MESSAGE is the encoded message, or the whole AccessDenied text that ends with
"Encoded authorization failure message: ..."; without it, or with -, it is
read from stdin. The profile needs sts:DecodeAuthorizationMessage in the
account the message was issued to.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{c, fmt.Sprintf("decode takes one MESSAGE argument (or - for stdin), got %d: quote the message", len(args))}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if name == "" {
				var err error
				if name, err = a.profileArg(c, nil); err != nil {
					return err
				}
			} else if err := profile.ValidProfileName(name); err != nil {
				return usageError{c, err.Error()}
			}
			var text string
			if len(args) == 1 && args[0] != "-" {
				text = args[0]
			} else {
				if isTerminal(a.stdin) {
					fmt.Fprintln(a.stderr, "credbroker: paste the encoded message, then press Enter and Ctrl-D:")
				}
				data, err := io.ReadAll(io.LimitReader(a.stdin, 4*maxEncodedMessage))
				if err != nil {
					return fmt.Errorf("read the encoded message from stdin: %w", err)
				}
				text = string(data)
			}
			message, err := encodedMessage(text)
			if err != nil {
				return usageError{c, err.Error()}
			}
			ctx, cancel := context.WithTimeout(c.Context(), credentialProcessTimeout)
			defer cancel()
			s, err := a.stsSession(ctx, name)
			if err != nil {
				return err
			}
			decoded, err := broker.DecodeAuthorizationMessage(ctx, name, s.region, s.ep, s.creds, message, s.trace)
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if err := json.Indent(&out, []byte(decoded), "", "  "); err != nil {
				// Printed as STS gave it: it is what there is to read.
				a.warn("the decoded message is not JSON; printed as STS answered it")
				out.Reset()
				out.WriteString(decoded)
			}
			out.WriteByte('\n')
			_, err = a.stdout.Write(out.Bytes())
			return err
		},
	}
	c.Flags().StringVar(&name, "profile", "", `the profile whose credentials ask STS (default $AWS_PROFILE, else "default")`)
	return c
}

// encodedMessage finds the encoded message in text: text itself, or the
// word that follows "Encoded authorization failure message:" in an
// AccessDenied message (what comes after it, a hint, is not read). It
// refuses what cannot be one before STS is asked.
func encodedMessage(text string) (string, error) {
	marked := false
	if i := strings.LastIndex(text, encodedMarker); i >= 0 {
		text, marked = text[i+len(encodedMarker):], true
	}
	fields := strings.Fields(text)
	switch {
	case len(fields) == 0:
		return "", errors.New("no encoded message: pass it as MESSAGE, or on stdin")
	case len(fields) > 1 && !marked:
		return "", errors.New("the encoded message is one word; this text has several (pass the message alone, or the whole AccessDenied message)")
	}
	msg := strings.TrimRight(fields[0], `."'`)
	if len(msg) > maxEncodedMessage {
		return "", fmt.Errorf("the encoded message has %d characters; STS takes at most %d", len(msg), maxEncodedMessage)
	}
	return msg, nil
}
