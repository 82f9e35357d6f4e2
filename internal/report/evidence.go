package report

// Evidence keys that something downstream relies on: the collector's fleet
// correlation, the web page, SIEM mappings. Detectors write these keys and
// the collector reads them through these constants only, so a renamed key
// breaks the build instead of silently breaking correlation. Every other
// evidence key is descriptive (for people) and may change. docs/findings.md
// ("Evidence vocabulary") and docs/finding.schema.json document them.
const (
	// EvSerial is a USB device's (or an emulated virtual-media drive's)
	// serial string, as the device reports it (hardware detector).
	EvSerial = "serial"
	// EvEDIDSerialText is a display's EDID serial-number descriptor (0xFF).
	EvEDIDSerialText = "serial_text"
	// EvEDIDSerial32 is a display's 32-bit EDID serial as 8 hex digits.
	EvEDIDSerial32 = "serial32"
	// EvSerialDefault is true when the finding's serials are a factory or
	// preset default that every unit of the product shares (PiKVM's
	// "CAFEBABE", a capture chip's 0x88888800, JetKVM's EDID presets): they
	// identify the product, not the device, and never link hosts.
	EvSerialDefault = "serial_default"
	// EvVIDPID is a USB device's vendor:product id ("1d6b:0104").
	EvVIDPID = "vid_pid"

	// EvClient and EvServer are a flow's endpoints (ip:port; the client
	// opened the connection) in traffic findings.
	EvClient = "client"
	EvServer = "server"
	// EvDirection is a traffic flow's direction seen from this host:
	// DirectionOutbound (this host opened it), "inbound", "local" or
	// "transit".
	EvDirection = "direction"
	// EvServerName, EvTLSSNI and EvHTTPHost name a flow's server: the DNS
	// name it was resolved from, the TLS client's SNI and the HTTP Host.
	EvServerName = "server_name"
	EvTLSSNI     = "tls_sni"
	EvHTTPHost   = "http_host"
	// EvControlled and EvControllerSide are the endpoints of a driven
	// flow: the side streaming its screen and the side sending input.
	EvControlled     = "controlled"
	EvControllerSide = "controller_side"
	// EvHostRole is this host's role in a driven flow: HostRoleControlled
	// or HostRoleViewer.
	EvHostRole = "host_role"
	// EvInboundConnections are established connections into a tool's
	// listener ("tcp/5900 from 203.0.113.5:51000").
	EvInboundConnections = "inbound_connections"
	// EvOutboundConnections are a tool's established outbound connections
	// ("tcp to 203.0.113.5:443"): mostly the vendor's own servers.
	EvOutboundConnections = "outbound_connections"
	// EvConnectedTo are the peers (host:port) of an SSH reverse tunnel or a
	// relay's outbound side.
	EvConnectedTo = "connected_to"
	// EvRelay is the server a remote-access agent is configured to report
	// to (self-hosted RustDesk/MeshCentral relay, host[:port]).
	EvRelay = "relay"
	// EvRemoteID is a remote-desktop identity (AnyDesk/RustDesk/TeamViewer
	// id, MeshCentral MeshID); unique only within one tool.
	EvRemoteID = "remote_id"

	// Process identity.
	EvPID       = "pid"
	EvPIDs      = "pids"
	EvProcess   = "process"
	EvName      = "name"
	EvPath      = "path"
	EvExe       = "exe"
	EvExeSHA256 = "exe_sha256"
	EvCmdline   = "cmdline"

	// Executable signature. EvSigner (Authenticode signer CN or O) and
	// EvTeamID (macOS Team ID) are what the file claims; EvSignature is the
	// verdict on its signature (codesign.Status: valid, invalid, unsigned,
	// untrusted, unverified) and EvSignatureReason says why. Allowlist
	// signer scopes match only when EvSignature is valid.
	EvSigner          = "signer"
	EvTeamID          = "team_id"
	EvSignature       = "signature"
	EvSignatureReason = "signature_reason"
)

// Values of EvHostRole.
const (
	HostRoleControlled = "controlled"
	HostRoleViewer     = "viewer"
)

// DirectionOutbound is the EvDirection of a flow this host opened.
const DirectionOutbound = "outbound"
