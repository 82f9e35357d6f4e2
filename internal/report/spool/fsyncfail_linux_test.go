package spool

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/farmwatch/farmwatch/internal/testenv"
)

// failFS is a FUSE loopback file system whose fsync (files) and fsyncdir
// (directories) fail with EIO while the flags are set: what a dying disk or
// a lost network file system gives the agent.
type failFS struct{ files, dirs atomic.Bool }

type failNode struct {
	fs.LoopbackNode
	ffs *failFS
}

var (
	_ fs.NodeFsyncer        = (*failNode)(nil)
	_ fs.NodeOpendirHandler = (*failNode)(nil)
)

func (n *failNode) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	if n.ffs.files.Load() {
		return syscall.EIO
	}
	if s, ok := f.(fs.FileFsyncer); ok {
		return s.Fsync(ctx, flags)
	}
	return 0
}

func (n *failNode) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	h, fl, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &failDir{h: h, ffs: n.ffs}, fl, 0
}

// failDir forwards a loopback directory handle, failing Fsyncdir on demand.
type failDir struct {
	h   fs.FileHandle
	ffs *failFS
}

func (d *failDir) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	if d.ffs.dirs.Load() {
		return syscall.EIO
	}
	if s, ok := d.h.(fs.FileFsyncdirer); ok {
		return s.Fsyncdir(ctx, flags)
	}
	return 0
}

func (d *failDir) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	return d.h.(fs.FileReaddirenter).Readdirent(ctx)
}

func (d *failDir) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	return d.h.(fs.FileSeekdirer).Seekdir(ctx, off)
}

func (d *failDir) Releasedir(ctx context.Context, flags uint32) {
	d.h.(fs.FileReleasedirer).Releasedir(ctx, flags)
}

// mountFailFS mounts a failFS over a fresh backing directory and returns
// the mount point and the backing directory.
func mountFailFS(t *testing.T) (*failFS, string, string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "mounting FUSE needs root"
	} else if _, err := os.Stat("/dev/fuse"); err != nil {
		why = "no /dev/fuse: " + err.Error()
	}
	if why != "" {
		testenv.Missing(t, "fsync-failure test: %s", why)
	}
	back, mnt := t.TempDir(), t.TempDir()
	ffs := &failFS{}
	root := &fs.LoopbackRoot{Path: back}
	//lint:ignore SA1019 the wrapper API (NodeWrapChilder) would also wrap the root; NewNode gives every node the failing fsync
	root.NewNode = func(r *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
		return &failNode{LoopbackNode: fs.LoopbackNode{RootData: r}, ffs: ffs}
	}
	//lint:ignore SA1019 see above
	srv, err := fs.Mount(mnt, root.NewNode(root, nil, "", nil), &fs.Options{
		MountOptions: fuse.MountOptions{DirectMount: true, FsName: "farmwatch-failfs", Name: "failfs"},
	})
	if err != nil {
		t.Fatalf("mount FUSE file system: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return ffs, mnt, back
}

// TestFsyncFailureSurfaced runs the spool on a FUSE file system whose fsync
// fails: a failed file fsync, a failed directory fsync of a new segment and
// a failed directory fsync of the acknowledgement each return an error, and
// nothing is counted as spooled or delivered — in memory, and on disk after
// a reopen.
func TestFsyncFailureSurfaced(t *testing.T) {
	ffs, mnt, back := mountFailFS(t)
	sp, err := Open(filepath.Join(mnt, "spool"), 4096) // 4 KiB segments
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Append([]byte("a")); err != nil {
		t.Fatalf("append on a healthy file system: %v", err)
	}

	ffs.files.Store(true)
	if _, err := sp.Append([]byte("lost")); err == nil || !strings.Contains(err.Error(), "fsync") || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("append with failing fsync: err = %v, want the fsync EIO", err)
	}
	if err := sp.Ack(1); err == nil || !strings.Contains(err.Error(), "sync state") {
		t.Fatalf("ack with failing fsync: err = %v", err)
	}
	ffs.files.Store(false)
	if st := sp.Stats(); st.LastSeq != 1 || st.Pending != 1 || st.Acked != 0 {
		t.Fatalf("after a failed fsync: %+v, want only record 1", st)
	}

	// A record too big for the current segment needs a new one, whose
	// directory entry cannot be made durable.
	ffs.dirs.Store(true)
	if _, err := sp.Append(make([]byte, 5000)); err == nil || !strings.Contains(err.Error(), "fsync directory") {
		t.Fatalf("append needing a new segment with failing directory fsync: err = %v", err)
	}
	// The acknowledgement's state file cannot be made durable either:
	// nothing counts as delivered.
	if err := sp.Ack(1); err == nil || !strings.Contains(err.Error(), "fsync directory") {
		t.Fatalf("ack with failing directory fsync: err = %v", err)
	}
	if st := sp.Stats(); st.Acked != 0 || st.Pending != 1 || st.LastSeq != 1 {
		t.Fatalf("after failed segment creation and ack: %+v", st)
	}
	ffs.dirs.Store(false)

	// Healthy again: sequence numbers continue without a gap or a reuse.
	if seq, err := sp.Append([]byte("c")); err != nil || seq != 2 {
		t.Fatalf("append after recovery: seq %d, err %v", seq, err)
	}
	recs, err := sp.Next(10, 1<<20)
	if err != nil || len(recs) != 2 || string(recs[0].Data) != "a" || string(recs[1].Data) != "c" || recs[1].Seq != 2 {
		t.Fatalf("records after recovery: %+v, %v", recs, err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}

	// What is on disk says the same.
	re, err := Open(filepath.Join(back, "spool"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	recs, err = re.Next(10, 1<<20)
	if err != nil || len(recs) != 2 || string(recs[0].Data) != "a" || string(recs[1].Data) != "c" {
		t.Fatalf("records after reopen: %+v, %v", recs, err)
	}
	if st := re.Stats(); st.Acked != 0 || st.LastSeq != 2 {
		t.Fatalf("state after reopen: %+v", st)
	}
}
