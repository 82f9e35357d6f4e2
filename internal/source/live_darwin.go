package source

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/shirou/gopsutil/v4/process"

	"github.com/farmwatch/farmwatch/internal/source/fileid"
	"github.com/farmwatch/farmwatch/internal/source/hostpath"
	"github.com/farmwatch/farmwatch/internal/source/macho"
)

// darwinHostPath maps a host path to the configured root (as
// LiveSource.hostPath).
func darwinHostPath(root, p string) string { return hostpath.Root(root).Path(p) }

// openExe opens the executable file of a process.
func openExe(root string, p Process) (io.ReadCloser, error) {
	if p.Exe == "" {
		return nil, fmt.Errorf("open executable of pid %d: path unknown", p.PID)
	}
	f, err := os.Open(darwinHostPath(root, p.Exe))
	if err != nil {
		return nil, fmt.Errorf("open executable of pid %d: %w", p.PID, err)
	}
	return f, nil
}

// identify reads the bundle identifier of the .app enclosing exe and the
// Team ID and signer of exe's code signature. An executable outside any app bundle
// that carries a real (not ad-hoc) signature gets its signing identifier
// as bundle ID: for helpers such as /Library/PrivilegedHelperTools/* that
// identifier is the reverse-DNS name the vendor chose.
func identify(root, exe string) exeIdentity {
	var id exeIdentity
	if app := macho.EnclosingApp(exe); app != "" {
		id.BundleID, _ = macho.BundleID(darwinHostPath(root, app))
	}
	if fid, err := fileid.Read(darwinHostPath(root, exe), CodeSigningTrust()); err == nil {
		id.TeamID = fid.TeamID
		// The developer's name as Apple certified it (the certificate's O;
		// its CN is "Developer ID Application: <O> (<team>)").
		id.Signer = fid.Signer
		if id.BundleID == "" && !fid.AdHoc {
			id.BundleID = fid.Identifier
		}
		id.Signature, id.SignatureReason, id.SHA256 = string(fid.Signature.Status), fid.Signature.Reason, fid.SHA256
	}
	return id
}

// listServices reads launchd daemons and agents (launchd.go). A job runs
// when a process runs its program; with a root other than "/" the
// processes of this host say nothing about the tree, so states are unknown.
func listServices(ctx context.Context, root string) ([]Service, error) {
	var running func(string) bool
	if root == "" || root == "/" {
		if exes, err := runningExecutables(ctx); err == nil {
			running = func(p string) bool { return exes[p] }
		}
	}
	return listLaunchd(ctx, root, running)
}

// runningExecutables returns the executable paths of running processes.
func runningExecutables(ctx context.Context) (map[string]bool, error) {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(procs))
	for _, p := range procs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if exe, err := p.ExeWithContext(ctx); err == nil && exe != "" {
			out[exe] = true
		}
	}
	return out, nil
}
