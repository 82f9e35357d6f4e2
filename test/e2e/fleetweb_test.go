//go:build linux

package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Screenshot size: the viewport width, and the page's height up to a cap.
const (
	shotWidth     = 1360
	shotMaxHeight = 1400
)

// fleetWebPage is one collector page the fleet test renders.
type fleetWebPage struct {
	path, file string
	ready      string   // JavaScript condition: the page has rendered
	text       []string // rendered text that must appear
	absent     []string // rendered text that must not
}

// checkFleetPagesInChromium logs in to the running collector in headless
// Chromium (one browser for all pages), asserts the farm, its hosts, their
// reasons and links appear as rendered text on the fleet page, the host
// list and the alerts page, and screenshots each page; the PNGs are
// checked to be real renders and written to $FARMWATCH_SCREENSHOTS when set
// (scripts/screenshots.sh).
func checkFleetPagesInChromium(t *testing.T, data string, port int, farm, office []string) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("fleet pages in Chromium: %v", time.Since(start).Round(time.Millisecond)) }()
	browser := startChromium(t)
	add := exec.Command(collector(t), "user", "add", "analyst", "--data-dir", data)
	add.Stdin = strings.NewReader("fleet-web-password-1\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	browser.call("Page.navigate", map[string]any{"url": base + "/fleet"})
	browser.waitFor(`location.pathname === "/login" && document.readyState === "complete" && !!document.getElementById("login")`)
	browser.eval(`document.getElementById("username").value = "analyst"; document.getElementById("password").value = "fleet-web-password-1"; document.getElementById("login").click(); true`)
	browser.waitFor(`location.pathname === "/fleet" && document.readyState === "complete"`)

	var laptops []string
	for _, h := range farm {
		laptops = append(laptops, h+"-laptop")
	}
	var officeLaptops []string
	for _, h := range office {
		officeLaptops = append(officeLaptops, h+"-laptop")
	}
	pages := []fleetWebPage{
		{path: "/fleet", file: "collector-fleet.png",
			ready:  `document.querySelectorAll("section.farm").length === 1 && document.querySelectorAll("#farm-1 tr.host").length === 3 && document.querySelectorAll("#farm-1 tr.link").length >= 3`,
			text:   append([]string{"Farm 1: 3 hosts linked by", "shared KVM", "shared peer", "co-location", "USB serial", "remote peer 198.51.100.23", "default gateway (MAC hash", "remote-access-hardware", "reporting"}, laptops...),
			absent: officeLaptops},
		{path: "/", file: "collector-hosts.png",
			ready: `document.querySelectorAll("#hosts tr.host").length === 5`,
			text:  append([]string{"Shares infrastructure with", "USB serial", "farm 1", "reporting"}, append(laptops, officeLaptops...)...)},
		{path: "/alerts", file: "collector-alerts.png",
			ready: `document.querySelectorAll("#alerts tr.alert").length >= 3`,
			text:  append([]string{"shared KVM", "shared peer", "co-location", "3 host(s):", "since "}, laptops...)},
	}
	out := os.Getenv("FARMWATCH_SCREENSHOTS")
	for _, p := range pages {
		browser.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": shotWidth, "height": 800, "deviceScaleFactor": 1, "mobile": false})
		browser.call("Page.navigate", map[string]any{"url": base + p.path})
		browser.waitFor(`location.pathname === "` + p.path + `" && document.readyState === "complete" && ` + p.ready)
		text := browser.eval(`document.body.innerText`)
		for _, want := range p.text {
			if !strings.Contains(text, want) {
				t.Errorf("%s: rendered text lacks %q:\n%s", p.path, want, text)
			}
		}
		for _, bad := range p.absent {
			if strings.Contains(text, bad) {
				t.Errorf("%s: rendered text shows %q:\n%s", p.path, bad, text)
			}
		}
		// Per host, the host list links the farm laptops to each other.
		if p.path == "/" {
			for _, h := range farm {
				links := browser.eval(`Array.from(document.querySelectorAll('#hosts tr.host[data-host="` + h + `"] td.shares a')).map(a => a.getAttribute("href")).join(" ")`)
				for _, o := range farm {
					if o != h && !strings.Contains(links, "/hosts/"+o) {
						t.Errorf("host list: %s does not link to %s (links %q)", h, o, links)
					}
				}
			}
			for _, h := range office {
				if n := browser.eval(`document.querySelectorAll('#hosts tr.host[data-host="` + h + `"] td.shares a').length`); n != "0" {
					t.Errorf("host list: office laptop %s linked to %s hosts", h, n)
				}
			}
		}
		height, _ := strconv.Atoi(browser.eval(`Math.ceil(document.documentElement.scrollHeight)`))
		height = min(max(height, 400), shotMaxHeight)
		browser.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": shotWidth, "height": height, "deviceScaleFactor": 1, "mobile": false})
		r := browser.call("Page.captureScreenshot", map[string]any{"format": "png"})
		b64, _ := r["data"].(string)
		shot, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("%s: screenshot: %v", p.path, err)
		}
		checkScreenshot(t, p.path, shot, shotWidth, height)
		if out != "" {
			if err := os.WriteFile(filepath.Join(out, p.file), shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkScreenshot asserts a PNG is a real render of the page: it decodes,
// has the viewport's size, and is not blank (many distinct colours: text
// anti-aliasing, badges, the header).
func checkScreenshot(t *testing.T, what string, shot []byte, w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("%s: screenshot is not a PNG: %v", what, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: screenshot is %dx%d, want %dx%d", what, b.Dx(), b.Dy(), w, h)
	}
	// Every second pixel of every second row is plenty.
	colours := map[uint32]int{}
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			n++
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8]++
		}
	}
	top := 0
	for _, n := range colours {
		top = max(top, n)
	}
	if len(colours) < 64 || top > n*97/100 {
		t.Fatalf("%s: screenshot looks blank: %d distinct colours, the commonest covers %d of %d sampled pixels", what, len(colours), top, n)
	}
	t.Logf("%s: %dx%d screenshot, %d bytes, %d distinct colours", what, w, h, len(shot), len(colours))
}
