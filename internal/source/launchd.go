package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"howett.net/plist"
)

// This file reads launchd job definitions (macOS services). It has no
// build tag so that it is tested on every OS; live_darwin.go uses it.

// maxLaunchdPlistSize is the largest launchd plist read.
const maxLaunchdPlistSize = 1 << 20

// launchdDirs are the directories of launchd jobs under the root, with the
// kind of job each holds. User agent directories are globbed.
var launchdDirs = []struct{ glob, kind string }{
	{"Library/LaunchDaemons", "launchd-daemon"},
	{"Library/LaunchAgents", "launchd-agent"},
	{"Users/*/Library/LaunchAgents", "launchd-agent"},
}

// listLaunchd reads the launchd jobs installed under root. running reports
// whether a process runs the given executable; it may be nil, and then
// every job's state is unknown. Files that cannot be read or parsed are
// skipped: one broken plist must not hide the others.
func listLaunchd(ctx context.Context, root string, running func(exe string) bool) ([]Service, error) {
	var out []Service
	for _, d := range launchdDirs {
		dirs, _ := filepath.Glob(filepath.Join(root, d.glob))
		for _, dir := range dirs {
			files, _ := filepath.Glob(filepath.Join(dir, "*.plist"))
			sort.Strings(files)
			for _, f := range files {
				if err := ctx.Err(); err != nil {
					return out, err
				}
				data, err := ReadFileCapped(f, maxLaunchdPlistSize)
				if err != nil {
					continue
				}
				svc, err := parseLaunchdPlist(data)
				if err != nil {
					continue
				}
				svc.Kind = d.kind
				svc.State = StateUnknown
				if running != nil {
					svc.State = StateStopped
					if running(svc.Path) {
						svc.State = StateRunning
					}
				}
				out = append(out, svc)
			}
		}
	}
	return out, nil
}

// parseLaunchdPlist reads one launchd job definition (XML or binary
// property list): Label is the name; Program, or else ProgramArguments[0],
// the path, and ProgramArguments[1:] the arguments; Disabled makes the
// start type disabled, RunAtLoad or KeepAlive (true, or a dictionary of
// conditions) auto, and anything else manual. Kind and State are left for
// the caller.
func parseLaunchdPlist(data []byte) (svc Service, err error) {
	defer func() {
		// The plist decoder works on untrusted bytes; a decoder bug must
		// not take the agent down.
		if r := recover(); r != nil {
			svc, err = Service{}, fmt.Errorf("launchd plist: decoder failed: %v", r)
		}
	}()
	var job map[string]any
	if _, err := plist.Unmarshal(data, &job); err != nil {
		return Service{}, fmt.Errorf("launchd plist: %w", err)
	}
	if job == nil {
		return Service{}, errors.New("launchd plist: not a dictionary")
	}
	label, ok := job["Label"].(string)
	if !ok || label == "" {
		return Service{}, errors.New("launchd plist: no Label string")
	}
	svc.Name = label

	var argv []string
	if v, present := job["ProgramArguments"]; present {
		list, ok := v.([]any)
		if !ok {
			return Service{}, fmt.Errorf("launchd plist %s: ProgramArguments is a %T, not an array", label, v)
		}
		for i, a := range list {
			s, ok := a.(string)
			if !ok {
				return Service{}, fmt.Errorf("launchd plist %s: ProgramArguments[%d] is a %T, not a string", label, i, a)
			}
			argv = append(argv, s)
		}
	}
	if v, present := job["Program"]; present {
		p, ok := v.(string)
		if !ok {
			return Service{}, fmt.Errorf("launchd plist %s: Program is a %T, not a string", label, v)
		}
		svc.Path = p
	}
	if svc.Path == "" && len(argv) > 0 {
		svc.Path = argv[0]
	}
	if svc.Path == "" {
		return Service{}, fmt.Errorf("launchd plist %s: neither Program nor ProgramArguments names a program", label)
	}
	if len(argv) > 1 {
		svc.Args = argv[1:]
	}
	// A job that runs its program through a shell (RustDesk's daemon:
	// /bin/sh -c /Applications/RustDesk.app/Contents/MacOS/service) is
	// that program, not the shell: what runs, and what identifies it, is
	// the command.
	if p, args, ok := shellCommand(svc.Path, svc.Args); ok {
		svc.Path, svc.Args = p, args
	}

	switch {
	case isTrue(job["Disabled"]):
		svc.StartType = "disabled"
	case isTrue(job["RunAtLoad"]) || keepsAlive(job["KeepAlive"]):
		svc.StartType = "auto"
	default:
		svc.StartType = "manual"
	}
	return svc, nil
}

// shells are the interpreters a job may wrap its program in.
var shells = map[string]bool{"/bin/sh": true, "/bin/bash": true, "/bin/zsh": true, "/bin/dash": true}

// shellCommand unwraps `<shell> -c "<absolute path> [args]"` when the
// command is a plain word list (no quoting, variables, redirections or
// pipelines, which would need a shell to read).
func shellCommand(path string, args []string) (string, []string, bool) {
	if !shells[path] || len(args) != 2 || args[0] != "-c" {
		return "", nil, false
	}
	cmd := args[1]
	if strings.ContainsAny(cmd, "'\"\\$`;|&<>(){}*?[]~#=\n") {
		return "", nil, false
	}
	words := strings.Fields(cmd)
	if len(words) == 0 || !strings.HasPrefix(words[0], "/") {
		return "", nil, false
	}
	if len(words) == 1 {
		return words[0], nil, true
	}
	return words[0], words[1:], true
}

func isTrue(v any) bool {
	b, ok := v.(bool)
	return ok && b
}

// keepsAlive reads KeepAlive: a bool, or a dictionary of conditions under
// which launchd keeps the job running (which also starts it at load).
func keepsAlive(v any) bool {
	switch k := v.(type) {
	case bool:
		return k
	case map[string]any:
		return len(k) > 0
	}
	return false
}
