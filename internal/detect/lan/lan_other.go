//go:build !linux && !darwin && !windows

package lan

import (
	"context"
	"errors"
)

var errUnsupported = errors.New("lan: live neighbour table not supported on this OS; record a snapshot")

func liveNeighbors(context.Context, string) ([]Neighbor, error) { return nil, errUnsupported }

func collectNeighbors(context.Context, string, string) error { return errUnsupported }
