// Package all links every detector into a binary: importing it runs each
// detector package's init(), which registers it.
package all

import (
	_ "github.com/farmwatch/farmwatch/internal/detect/context"
	_ "github.com/farmwatch/farmwatch/internal/detect/hardware"
	_ "github.com/farmwatch/farmwatch/internal/detect/lan"
	_ "github.com/farmwatch/farmwatch/internal/detect/remoteaccess"
	_ "github.com/farmwatch/farmwatch/internal/detect/traffic"
	_ "github.com/farmwatch/farmwatch/internal/detect/tunnel"
)
