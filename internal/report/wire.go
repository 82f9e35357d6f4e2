package report

import "time"

// Item kinds in a batch sent to the collector.
const (
	KindFinding   = "finding"
	KindHeartbeat = "heartbeat"
)

// Heartbeat events.
const (
	EventSleep     = "sleep"
	EventWake      = "wake"
	EventStop      = "stop"
	EventUninstall = "uninstall"
)

// DetectorHealth is one detector's last run, carried in heartbeats.
type DetectorHealth struct {
	OK      bool      `json:"ok"`
	LastRun time.Time `json:"last_run"`
	Error   string    `json:"error,omitempty"`
}

// Heartbeat tells the collector the agent is alive, so silence can be told
// apart from a laptop that slept or an agent that was stopped.
type Heartbeat struct {
	Time            time.Time                 `json:"time"`
	AgentVersion    string                    `json:"agent_version"`
	UptimeSeconds   int64                     `json:"uptime_seconds"`
	IntervalSeconds int64                     `json:"interval_seconds"`
	Detectors       map[string]DetectorHealth `json:"detectors,omitempty"`
	// SpoolBytes is the spools' size on disk (acknowledged records still
	// in their segment included); SpoolPending and SpoolPendingBytes are
	// the records not yet acknowledged by the receiver (the backlog).
	SpoolBytes        int64   `json:"spool_bytes"`
	SpoolPending      int64   `json:"spool_pending"`
	SpoolPendingBytes int64   `json:"spool_pending_bytes"`
	SpoolDropped      uint64  `json:"spool_dropped"`
	Event             string  `json:"event,omitempty"`
	SleptSeconds      int64   `json:"slept_seconds,omitempty"`
	CPUPercent        float64 `json:"cpu_percent"`
	RSSBytes          uint64  `json:"rss_bytes"`
	// Capture has the counters of each running live capture.
	Capture []CaptureStats `json:"capture,omitempty"`
	// Network is where the host is attached, hashed with the fleet key;
	// filled by the collector transport when it sends the heartbeat.
	Network *NetworkIdentity `json:"network,omitempty"`
	// Serial is the machine serial number, for matching the host with the
	// MDM inventory at the collector.
	Serial string `json:"serial,omitempty"`
}

// Item is one spooled, sequenced element of a batch.
type Item struct {
	Seq       uint64     `json:"seq"`
	Kind      string     `json:"kind"`
	Finding   *Finding   `json:"finding,omitempty"`
	Heartbeat *Heartbeat `json:"heartbeat,omitempty"`
}

// Batch is the body of POST /api/v1/ingest.
type Batch struct {
	Host  Host   `json:"host"`
	Batch []Item `json:"batch"`
}

// CaptureStats is one live capture's counters, carried in heartbeats:
// what it analysed, what the kernel counted and dropped, and how often the
// CPU budget paused it.
type CaptureStats struct {
	Interface string `json:"interface"`
	// Packets is frames handed to the analysis.
	Packets uint64 `json:"packets"`
	// KernelPackets, KernelDrops and KernelFreezes are the kernel's
	// counters since the capture started (Linux PACKET_STATISTICS; macOS
	// BIOCGSTATS has no freezes): drops are packets lost because the ring
	// was full.
	KernelPackets uint64 `json:"kernel_packets"`
	KernelDrops   uint64 `json:"kernel_drops"`
	KernelFreezes uint64 `json:"kernel_freezes"`
	// Pauses counts the CPU budget's pauses, PausedSeconds their total.
	Pauses        uint64  `json:"pauses"`
	PausedSeconds float64 `json:"paused_seconds"`
	// Early counts findings sent as soon as they were evident.
	Early uint64 `json:"early_findings"`
	// KernelSnap and KernelBypass say whether the kernel caps the bytes
	// copied per packet and accounts bulk flows itself (Linux eBPF);
	// BypassedFlows counts the flows handed to the kernel so far.
	KernelSnap    bool   `json:"kernel_snap,omitempty"`
	KernelBypass  bool   `json:"kernel_bypass,omitempty"`
	BypassedFlows uint64 `json:"bypassed_flows,omitempty"`
	// ThreadCPUSeconds is the capture thread's own CPU time (packet
	// reading and analysis; not GC or other goroutines), where the OS has
	// a per-thread clock.
	ThreadCPUSeconds float64 `json:"thread_cpu_seconds,omitempty"`
}
