package main

import (
	"context"
	"fmt"
	"io"

	"github.com/farmwatch/farmwatch/internal/version"
)

func init() {
	commands["version"] = command{summary: "print the agent's version", run: func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		if err := parseFlags(newFlagSet("version", stderr), args, false); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, version.String("farmwatch-agent"))
		return err
	}}
}
