package main

import (
	"runtime"

	"github.com/farmwatch/farmwatch/packaging"
)

// defaultConfigPath is where packages and `install` put the config.
func defaultConfigPath() string {
	switch runtime.GOOS {
	case "windows":
		return packaging.WindowsConfig
	case "darwin":
		return packaging.MacConfig
	}
	return packaging.LinuxConfig
}
