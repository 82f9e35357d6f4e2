//go:build !linux && !darwin && !windows

package source

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

var errUnsupported = fmt.Errorf("live host sources are not supported on %s", runtime.GOOS)

func openExe(string, Process) (io.ReadCloser, error)          { return nil, errUnsupported }
func identify(string, string) exeIdentity                     { return exeIdentity{} }
func listServices(context.Context, string) ([]Service, error) { return nil, errUnsupported }
