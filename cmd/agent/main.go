// Command farmwatch-agent is the farmwatch endpoint agent: it scans this host
// (or a recorded snapshot) for remote-access software, IP-KVM hardware and
// relayed traffic, records host snapshots, and runs as a system service.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	_ "github.com/farmwatch/farmwatch/internal/detect/all"
)

// Exit codes (docs/cli.md).
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitSeverity = 3
)

// usageError marks errors that are the caller's: bad flags, bad config.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// severityExit is returned when --fail-on matched.
type severityExit struct{ msg string }

func (e severityExit) Error() string { return e.msg }

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is filled by each command's file in init().
var commands = map[string]command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "farmwatch-agent: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	var ue usageError
	var se severityExit
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &se):
		fmt.Fprintf(stderr, "farmwatch-agent: %s\n", se.msg)
		return exitSeverity
	case errors.As(err, &ue):
		if !errors.Is(err, errHelp) {
			fmt.Fprintf(stderr, "farmwatch-agent %s: %v\n", args[0], err)
		}
		return exitUsage
	default:
		fmt.Fprintf(stderr, "farmwatch-agent %s: %v\n", args[0], err)
		return exitError
	}
}

var errHelp = errors.New("help requested")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: farmwatch-agent <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'farmwatch-agent <command> -h' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 error, 2 usage or config error, 3 --fail-on severity reached.")
}

// joinErrors renders several errors one per line.
func joinErrors(errs []error) string {
	var b strings.Builder
	for i, e := range errs {
		if i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}
