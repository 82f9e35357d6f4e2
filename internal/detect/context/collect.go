package hostcontext

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/farmwatch/farmwatch/internal/source"
)

// Collect records the raw sources the detector reads into a snapshot
// directory: on Linux copies of the locale/keyboard/time-zone files, the
// IME component lists and utmp; on macOS the preference plists; on Windows
// context.json. The symlink target of etc/localtime is written to
// etc/localtime.link; the activity histogram is copied as
// context-activity.json.
func Collect(ctx context.Context, src source.Source, dir string) error {
	root := src.Root()
	var errs []error
	cp := func(rel string) {
		b, err := readSmall(filepath.Join(root, rel))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			errs = append(errs, err)
			return
		}
		errs = append(errs, os.WriteFile(dst, b, 0o644))
	}
	link := func() {
		if t, err := os.Readlink(filepath.Join(root, linuxLocaltime)); err == nil {
			dst := filepath.Join(dir, filepath.FromSlash(linuxLocaltimeLink))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
				errs = append(errs, os.WriteFile(dst, []byte(t+"\n"), 0o644))
			}
		}
	}
	switch src.Host().OS {
	case "linux":
		link()
		for _, f := range []string{linuxTimezone, linuxDefaultLocale, linuxLocaleConf, linuxKeyboard} {
			cp(f)
		}
		for _, u := range linuxUtmp {
			cp(u)
		}
		for _, d := range []string{linuxIbusDir, linuxFcitx5Dir, linuxFcitxDir} {
			ents, _ := os.ReadDir(filepath.Join(root, d))
			for _, e := range ents {
				if _, ok := imeFromFile(e.Name(), ""); ok && !e.IsDir() {
					cp(d + "/" + e.Name())
				}
			}
		}
	case "darwin":
		link()
		cp(darwinGlobalPrefs)
		users, _ := os.ReadDir(filepath.Join(root, darwinUsers))
		for _, u := range users {
			cp(darwinUsers + "/" + u.Name() + "/" + darwinHIToolbox)
		}
	case "windows":
		b, err := liveWindowsJSON(ctx)
		if err != nil {
			errs = append(errs, err)
		} else {
			errs = append(errs, os.WriteFile(filepath.Join(dir, FileWindows), b, 0o644))
		}
	}
	if b, err := os.ReadFile(filepath.Join(defaultStateDir(), FileActivity)); err == nil {
		errs = append(errs, os.WriteFile(filepath.Join(dir, FileActivity), b, 0o644))
	}
	return errors.Join(errs...)
}
