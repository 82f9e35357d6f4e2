//go:build linux

package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
)

// liveFiles is the Linux acquisition seam: interface addresses (netlink,
// through the Go runtime), the owners of tun devices and Astrill's files.
// Everything else is read from sysfs/procfs/etc under root.
func liveFiles(ctx context.Context, root, hostOS string) (fileSet, error) {
	if hostOS != "linux" {
		return nil, fmt.Errorf("tunnel: a live %s host can only be read on %s; record a snapshot there", hostOS, hostOS)
	}
	files := fileSet{}
	var errs []error
	put := func(name string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			errs = append(errs, err)
			return
		}
		files[name] = b
	}
	if ifs, err := goInterfaces(); err != nil {
		errs = append(errs, fmt.Errorf("list interfaces: %w", err))
	} else {
		put(FileInterfaces, ifs)
	}
	if err := ctx.Err(); err != nil {
		return files, err
	}
	owners := scanTunOwners(root)
	if owners == nil {
		owners = []TunOwner{}
	}
	put(FileTunOwners, owners)
	if root == "/" || root == "" {
		// Netlink shows the agent's own network namespace: only meaningful
		// when reading this host, not a tree mounted elsewhere.
		var dump []byte
		for _, req := range []int{syscall.RTM_GETROUTE, syscall.RTM_GETRULE} {
			b, err := syscall.NetlinkRIB(req, syscall.AF_UNSPEC)
			if err != nil {
				errs = append(errs, fmt.Errorf("netlink dump %d: %w", req, err))
				continue
			}
			dump = append(dump, b...)
		}
		pr := parseNetlinkDump(dump)
		if pr.Routes == nil {
			pr.Routes = []Route{}
		}
		if pr.Rules == nil {
			pr.Rules = []Rule{}
		}
		put(FilePolicyRouting, pr)
	}
	tf := existingToolFiles(root, hostOS)
	if tf == nil {
		tf = []string{}
	}
	put(FileToolFiles, tf)
	return files, errors.Join(errs...)
}
