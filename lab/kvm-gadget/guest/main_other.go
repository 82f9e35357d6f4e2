//go:build !linux

// Command guest is the Linux /init of the IP-KVM lab; see main_linux.go.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "the lab's guest /init runs only on Linux")
	os.Exit(2)
}
