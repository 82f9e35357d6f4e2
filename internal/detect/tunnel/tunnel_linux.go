//go:build linux

package tunnel

import (
	"context"
	"fmt"
	"syscall"
)

// liveFiles is the Linux acquisition seam: interface addresses (netlink,
// through the Go runtime), the owners of tun devices and Astrill's files.
// Everything else is read from sysfs/procfs/etc under root.
func liveFiles(ctx context.Context, root, hostOS string) (fileSet, error) {
	ls, err := newLiveSet(hostOS)
	if err != nil {
		return nil, err
	}
	if ifs, err := goInterfaces(); err != nil {
		ls.fail(fmt.Errorf("list interfaces: %w", err))
	} else {
		ls.put(FileInterfaces, ifs)
	}
	if err := ctx.Err(); err != nil {
		return ls.files, err
	}
	owners := scanTunOwners(root)
	if owners == nil {
		owners = []TunOwner{}
	}
	ls.put(FileTunOwners, owners)
	if root == "/" || root == "" {
		// Netlink shows the agent's own network namespace: only meaningful
		// when reading this host, not a tree mounted elsewhere.
		var dump []byte
		for _, req := range []int{syscall.RTM_GETROUTE, syscall.RTM_GETRULE} {
			b, err := syscall.NetlinkRIB(req, syscall.AF_UNSPEC)
			if err != nil {
				ls.fail(fmt.Errorf("netlink dump %d: %w", req, err))
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
		ls.put(FilePolicyRouting, pr)
	}
	tf := existingToolFiles(root, hostOS)
	if tf == nil {
		tf = []string{}
	}
	ls.put(FileToolFiles, tf)
	return ls.done()
}
