package pptp

// Accept -update when the whole tree's goldens are regenerated.
import _ "github.com/farmwatch/farmwatch/internal/detect/network/internal/golden"
