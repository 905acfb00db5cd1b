package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
)

func newMFACmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "mfa",
		Short: "Look after a profile's MFA device",
	}
	c.AddCommand(&cobra.Command{
		Use:   "reset PROFILE",
		Short: "Forget the last MFA time step used for PROFILE's device (after a clock that was ahead was set right)",
		Long: `credbroker records the 30-second time step of every MFA code it uses, and never
uses a step twice: AWS refuses a code used before. When this machine's clock
was ahead, the recorded step is in the future, and no code is made until the
clock catches up; credbroker says so. Once the clock is right, forget the
recorded step. Your authenticator app is not affected.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			_, r, err := a.broker()
			if err != nil {
				return err
			}
			chain, err := r.Resolve(args[0])
			if err != nil {
				return err
			}
			if chain.MFASerial == "" {
				return fmt.Errorf("profile %s uses no MFA device (no mfa_serial)", args[0])
			}
			keys, _ := a.keystore()
			if err := (broker.StepStore{Keys: keys}).Reset(chain.MFASerial); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Forgot the last MFA time step used for %s.\n", chain.MFASerial)
			return nil
		},
	})
	c.AddCommand(newMFAEnrolCmd(a))
	return c
}
