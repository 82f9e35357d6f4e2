package spool

import "golang.org/x/sys/windows"

// syncDir: Windows has no directory fsync (FlushFileBuffers needs a handle
// opened for writing, which a directory cannot be). NTFS journals metadata,
// so a created segment's directory entry survives a crash once the journal
// is committed (normally within seconds); the segment's data itself is
// flushed by File.Sync (FlushFileBuffers) before an append returns. The
// state file is replaced with MoveFileEx(MOVEFILE_WRITE_THROUGH), which
// returns only when the rename is on disk.
func syncDir(string) error { return nil }

// replaceFile renames from over to, write-through.
func replaceFile(from, to string) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return err
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return err
	}
	return windows.MoveFileEx(f, t, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
}
