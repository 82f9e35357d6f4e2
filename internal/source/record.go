package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Record writes what src shows of processes, connections and services, and
// host.json, into dir. It records everything it can and returns the joined
// errors of the parts that failed.
func Record(ctx context.Context, src Source, dir string, agentVersion string) error {
	host := src.Host()
	host.CollectedAt = time.Now().UTC()
	host.AgentVersion = agentVersion
	var errs []error
	if err := WriteJSONFile(filepath.Join(dir, HostFile), host); err != nil {
		return err
	}
	ps, err := src.Processes(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	if ps == nil {
		ps = []Process{}
	}
	errs = append(errs, WriteJSONFile(filepath.Join(dir, ProcessesFile), ps))
	cs, err := src.Connections(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	if cs == nil {
		cs = []Connection{}
	}
	errs = append(errs, WriteJSONFile(filepath.Join(dir, ConnectionsFile), cs))
	ss, err := src.Services(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	if ss == nil {
		ss = []Service{}
	}
	errs = append(errs, WriteJSONFile(filepath.Join(dir, ServicesFile), ss))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("record snapshot: %w", err)
	}
	return nil
}
