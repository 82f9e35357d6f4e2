// Package packaging holds the files installed with farmwatch — the systemd
// unit, the macOS LaunchDaemon plist, the default configuration — embedded so
// that `farmwatch-agent install` writes exactly what the packages ship.
package packaging

import _ "embed"

// SystemdUnit is packaging/linux/farmwatch-agent.service.
//
//go:embed linux/farmwatch-agent.service
var SystemdUnit string

// LaunchdPlist is packaging/macos/com.farmwatch.agent.plist.
//
//go:embed macos/com.farmwatch.agent.plist
var LaunchdPlist string

// DefaultConfig is packaging/farmwatch.yaml.
//
//go:embed farmwatch.yaml
var DefaultConfig string

// Names and paths the packages and `install` agree on.
const (
	ServiceName   = "farmwatch-agent"
	LaunchdLabel  = "com.farmwatch.agent"
	LinuxBinary   = "/usr/bin/farmwatch-agent"
	LinuxConfig   = "/etc/farmwatch/farmwatch.yaml"
	LinuxUnitPath = "/lib/systemd/system/farmwatch-agent.service"
	MacBinary     = "/usr/local/bin/farmwatch-agent"
	MacConfig     = MacStateDir + "/farmwatch.yaml"
	MacPlistPath  = "/Library/LaunchDaemons/com.farmwatch.agent.plist"
	// MacManagedDomain is the managed-preferences domain a .mobileconfig
	// profile writes (collector URL, enrollment secret).
	MacManagedDomain = "com.farmwatch.agent"
	WindowsDir       = `C:\Program Files\farmwatch`
	WindowsConfig    = WindowsStateDir + `\farmwatch.yaml`
	// WindowsLogFile is where `run --service` logs on Windows (rotated:
	// 10 MB, 5 old files kept, compressed).
	WindowsLogFile = WindowsStateDir + `\logs\farmwatch-agent.log`

	// State directories (spool, enrollment credential, activity
	// histogram): the one definition; StateDir picks one per OS.
	LinuxStateDir   = "/var/lib/farmwatch"
	LinuxLogDir     = "/var/log/farmwatch"
	MacStateDir     = "/Library/Application Support/farmwatch"
	WindowsStateDir = `C:\ProgramData\farmwatch`
)

// StateDir is the agent's state directory on goos (runtime.GOOS).
func StateDir(goos string) string {
	switch goos {
	case "windows":
		return WindowsStateDir
	case "darwin":
		return MacStateDir
	}
	return LinuxStateDir
}
