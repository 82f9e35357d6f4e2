//go:build darwin

package tunnel

import (
	"context"
	"fmt"

	"github.com/farmwatch/farmwatch/internal/source/command"
)

// liveFiles is the macOS acquisition seam: interfaces with addresses
// (route sockets, through the Go runtime), `netstat -rn` and
// `scutil --proxy` outputs, and Astrill's files.
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
	if b, err := command.Run(ctx, "/usr/sbin/netstat", "-rn"); err != nil {
		ls.fail(err)
	} else {
		ls.files[FileNetstatRoutes] = b
	}
	if b, err := command.Run(ctx, "/usr/sbin/scutil", "--proxy"); err != nil {
		ls.fail(err)
	} else {
		ls.files[FileScutilProxy] = b
	}
	tf := existingToolFiles(root, hostOS)
	if tf == nil {
		tf = []string{}
	}
	ls.put(FileToolFiles, tf)
	return ls.done()
}
