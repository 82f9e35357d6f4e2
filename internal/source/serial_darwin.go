package source

import (
	"context"

	"github.com/farmwatch/farmwatch/internal/source/command"
)

// machineSerial asks ioreg for the platform expert's serial number.
func machineSerial(ctx context.Context, _ string) (string, error) {
	out, err := command.Run(ctx, "/usr/sbin/ioreg", "-r", "-d", "1", "-c", "IOPlatformExpertDevice", "-a")
	if err != nil {
		return "", err
	}
	return ParseIoregSerial(out)
}
