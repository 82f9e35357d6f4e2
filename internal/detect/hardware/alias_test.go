package hardware

import "github.com/farmwatch/farmwatch/internal/detect/hardware/inventory"

type (
	PnPDevice = inventory.PnPDevice
	Monitor   = inventory.Monitor
)
