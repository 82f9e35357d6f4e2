//go:build windows

// Command netprobe prints, as JSON, what farmwatch's Windows network reader
// (internal/source/winnet, the code behind the agent's co-location
// identity) finds on this host: default gateway, its MAC, the neighbour
// MACs and the Wi-Fi association, and the error if any. The Wine lane runs
// it under Wine and compares with the Linux tables Wine maps.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/farmwatch/farmwatch/internal/source/winnet"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := winnet.Read(ctx, winnet.Live())
	out := struct {
		winnet.Result
		Error string `json:"error,omitempty"`
	}{Result: r}
	if err != nil {
		out.Error = err.Error()
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if err != nil {
		os.Exit(1) //nolint:revive // a test helper's main
	}
}
