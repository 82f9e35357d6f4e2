//go:build darwin

package tunnel

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// maxCommandOutput bounds one command's output.
const maxCommandOutput = 16 << 20

type limitedBuffer struct {
	buf []byte
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if len(b.buf)+len(p) > b.max {
		return 0, fmt.Errorf("output larger than %d bytes", b.max)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// runTool runs a system tool by absolute path under a timeout.
func runTool(ctx context.Context, argv ...string) ([]byte, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out := &limitedBuffer{max: maxCommandOutput}
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Stdout = out
	cmd.Env = []string{"LANG=C", "PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
	if err := cmd.Run(); err != nil {
		return out.buf, fmt.Errorf("%s: %w", argv[0], err)
	}
	return out.buf, nil
}

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
	if b, err := runTool(ctx, "/usr/sbin/netstat", "-rn"); err != nil {
		ls.fail(err)
	} else {
		ls.files[FileNetstatRoutes] = b
	}
	if b, err := runTool(ctx, "/usr/sbin/scutil", "--proxy"); err != nil {
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
