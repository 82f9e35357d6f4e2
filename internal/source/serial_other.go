//go:build !linux && !darwin && !windows

package source

import "context"

func machineSerial(context.Context, string) (string, error) { return "", errUnsupported }
