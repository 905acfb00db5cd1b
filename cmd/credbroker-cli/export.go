package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/wire"
)

func newExportCmd(a *app) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "export PROFILE [--format env|json|ini|powershell]",
		Short: "Print PROFILE's temporary credentials for a shell, a file or a tool",
		Long: `Print temporary credentials for PROFILE on stdout, from the daemon as
credential_process gets them:

  env         export lines for sh, bash and zsh: eval "$(credbroker export prod)"
  json        the credential_process document
  ini         a section of ~/.aws/credentials
  powershell  $Env: lines

They are secrets until they expire: print them only where you mean to.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			switch format {
			case "env", "json", "ini", "powershell":
			default: // before anything asks STS
				return usageError{c, fmt.Sprintf("--format %q: want env, json, ini or powershell", format)}
			}
			ctx, cancel := context.WithTimeout(c.Context(), credentialProcessTimeout)
			defer cancel()
			body, err := a.fetch(ctx, args[0], true)
			if err != nil {
				return err
			}
			out, err := formatCredentials(body, args[0], format)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write([]byte(out))
			return err
		},
	}
	c.Flags().StringVar(&format, "format", "env", "env, json, ini or powershell")
	addMFACodeFlag(c, a)
	return c
}

// formatCredentials renders the daemon's credential_process document for
// profile in format.
func formatCredentials(body []byte, profile, format string) (string, error) {
	if format == "json" {
		return string(body), nil
	}
	var out wire.ProcessOutput
	if err := json.Unmarshal(body, &out); err != nil || out.AccessKeyID == "" {
		return "", fmt.Errorf("the daemon's answer is not credential_process JSON")
	}
	vars := [][2]string{
		{"AWS_ACCESS_KEY_ID", out.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", out.SecretAccessKey},
		{"AWS_SESSION_TOKEN", out.SessionToken},
		{"AWS_CREDENTIAL_EXPIRATION", out.Expiration},
	}
	var b strings.Builder
	switch format {
	case "env":
		for _, v := range vars {
			// Single quotes: nothing in them is expanded by the shell.
			fmt.Fprintf(&b, "export %s='%s'\n", v[0], strings.ReplaceAll(v[1], "'", `'\''`))
		}
	case "powershell":
		for _, v := range vars {
			fmt.Fprintf(&b, "$Env:%s='%s'\n", v[0], strings.ReplaceAll(v[1], "'", "''"))
		}
	case "ini":
		fmt.Fprintf(&b, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n",
			profile, out.AccessKeyID, out.SecretAccessKey, out.SessionToken)
	default:
		return "", fmt.Errorf("--format %q: want env, json, ini or powershell", format)
	}
	return b.String(), nil
}
