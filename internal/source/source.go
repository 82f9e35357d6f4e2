// Package source is the only place in farmwatch that knows which operating
// system it runs on or whether it reads a recorded snapshot. Detectors ask a
// Source for processes, connections, services and the root of the OS trees
// (sysfs, procfs, command dumps); tests hand detectors a snapshot directory.
package source

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotRecorded is returned when a snapshot does not hold what was asked for
// (for example the executable bytes of a process).
var ErrNotRecorded = errors.New("not recorded in snapshot")

// HostInfo identifies the host a source describes. It is host.json in a
// snapshot.
type HostInfo struct {
	Hostname     string    `json:"hostname"`
	HostID       string    `json:"host_id"`
	OS           string    `json:"os"`
	Arch         string    `json:"arch,omitempty"`
	CollectedAt  time.Time `json:"collected_at,omitempty"`
	AgentVersion string    `json:"agent_version,omitempty"`
	// Serial is the machine's serial number (SMBIOS/DMI, macOS platform
	// serial) that MDM inventories list devices by; "" when unreadable.
	Serial string `json:"serial,omitempty"`
}

// Process is one running process. Identity fields are filled where the OS
// gives them: Signer/Company/Product/OriginalFilename from Windows PE version
// info and Authenticode, BundleID/TeamID from macOS bundles and code
// signatures, Package from the Linux package database.
type Process struct {
	PID              int32     `json:"pid"`
	PPID             int32     `json:"ppid"`
	Name             string    `json:"name"`
	Exe              string    `json:"exe"`
	Cmdline          []string  `json:"cmdline"`
	Username         string    `json:"username"`
	CreateTime       time.Time `json:"create_time"`
	Signer           string    `json:"signer,omitempty"`
	Company          string    `json:"company,omitempty"`
	Product          string    `json:"product,omitempty"`
	OriginalFilename string    `json:"original_filename,omitempty"`
	BundleID         string    `json:"bundle_id,omitempty"`
	TeamID           string    `json:"team_id,omitempty"`
	Package          string    `json:"package,omitempty"`
	// Signature is the verdict on the executable's code signature
	// (codesign.Status: valid, invalid, unsigned, untrusted, unverified)
	// and SignatureReason says why; empty where no signature is checked
	// (Linux). Signer and TeamID are only trustworthy when it is valid.
	Signature       string `json:"signature,omitempty"`
	SignatureReason string `json:"signature_reason,omitempty"`
	// SHA256 is the executable's SHA-256 (hex), where it was read whole
	// (Windows and macOS, to check its signature).
	SHA256 string `json:"sha256,omitempty"`
}

// Connection is one socket attributed to a process.
type Connection struct {
	PID   int32  `json:"pid"`
	Proto string `json:"proto"` // "tcp" or "udp"
	LAddr string `json:"laddr"`
	LPort uint32 `json:"lport"`
	RAddr string `json:"raddr"`
	RPort uint32 `json:"rport"`
	State string `json:"state"` // LISTEN, ESTABLISHED, ... ("" or NONE for udp)
	// TCP holds the kernel's counters for an established TCP connection
	// where the OS gives them (Linux sock_diag tcp_info, macOS
	// net.inet.tcp.pcblist_n, Windows extended TCP statistics); nil
	// otherwise.
	TCP *TCPStats `json:"tcp,omitempty"`
}

// TCPStats are one TCP connection's kernel counters, from this host's
// point of view: "sent" is what this host sent to the remote end.
type TCPStats struct {
	// RTTms is the kernel's smoothed round-trip time estimate and
	// RTTVarMs its variation, in milliseconds.
	RTTms    float64 `json:"rtt_ms"`
	RTTVarMs float64 `json:"rttvar_ms,omitempty"`
	// BytesSent and BytesReceived count payload bytes (acknowledged
	// bytes where that is what the OS counts).
	BytesSent     uint64 `json:"bytes_sent"`
	BytesReceived uint64 `json:"bytes_received"`
	// SegsSent and SegsReceived count data-carrying segments (all
	// segments where the OS does not tell them apart); 0 when unknown.
	SegsSent     uint64 `json:"segs_sent,omitempty"`
	SegsReceived uint64 `json:"segs_received,omitempty"`
}

// Listening reports whether the socket waits for others to connect.
func (c Connection) Listening() bool {
	return c.State == "LISTEN" || (c.Proto == "udp" && c.RPort == 0 && (c.RAddr == "" || c.RAddr == "0.0.0.0" || c.RAddr == "::" || c.RAddr == "*"))
}

// Established reports whether the socket has a live peer.
func (c Connection) Established() bool { return c.State == "ESTABLISHED" }

// Service is an installed service, launchd job or systemd unit.
type Service struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name,omitempty"`
	Path        string   `json:"path"`
	Args        []string `json:"args,omitempty"`
	State       string   `json:"state"`      // running, stopped, unknown
	StartType   string   `json:"start_type"` // auto, manual, disabled, unknown
	Kind        string   `json:"kind"`       // windows-service, launchd-daemon, launchd-agent, systemd-unit, sysv
	Signer      string   `json:"signer,omitempty"`
	Company     string   `json:"company,omitempty"`
	// Signature and SignatureReason: the verdict on the binary's code
	// signature, as for Process.
	Signature       string `json:"signature,omitempty"`
	SignatureReason string `json:"signature_reason,omitempty"`
}

// Service states and start types.
const (
	StateRunning = "running"
	StateStopped = "stopped"
	StateUnknown = "unknown"
)

// Source reads a host, live or recorded.
type Source interface {
	// Host identifies the host.
	Host() HostInfo
	// Snapshot reports whether the source is a recorded snapshot.
	Snapshot() bool
	// Root is the directory that OS trees are read under: "/" (or the
	// configured root) for a live host, the snapshot directory otherwise.
	Root() string
	Processes(ctx context.Context) ([]Process, error)
	Connections(ctx context.Context) ([]Connection, error)
	Services(ctx context.Context) ([]Service, error)
	// OpenExe opens the executable image of a running process. Snapshots
	// return ErrNotRecorded.
	OpenExe(p Process) (io.ReadCloser, error)
}
