package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/farmwatch/farmwatch/internal/detect/network"
	"github.com/farmwatch/farmwatch/internal/detect/network/filter"
	"github.com/farmwatch/farmwatch/internal/report"
	"github.com/farmwatch/farmwatch/internal/report/deliver"
)

func init() {
	commands["pcap"] = command{summary: "analyse pcap/pcapng captures (merged by time) for remote control, tunnels and relays", run: runPcap}
}

func runPcap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pcap", stderr)
	format := fs.String("format", "table", "output format: table, json (one JSON object per line) or ocsf (OCSF Detection Finding JSON Lines)")
	progress := fs.Bool("progress", false, "show a progress bar on stderr (only when stderr is a terminal)")
	bpf := fs.String("bpf", "", "packet filter (tcpdump subset: host, net, port, portrange, tcp, udp, icmp, ip, ip6, proto, and/or/not; see docs/network.md)")
	failOn := fs.String("fail-on", "", "exit 3 when a finding at or above this severity (info|low|medium|high|critical) is present")
	local := fs.String("local", "", "comma-separated addresses/prefixes of the analysed host's side (default: private, CGNAT, loopback and link-local ranges)")
	attachHost := fs.String("attach", "", "also attach the findings to this fleet host (its host id) at the collector named by --collector")
	collectorURL := fs.String("collector", "", "with --attach: the collector's URL (https://…)")
	tokenFile := fs.String("token-file", "", "with --attach: file holding a collector API token (default: $FARMWATCH_API_TOKEN)")
	caFile := fs.String("ca-file", "", "with --attach: PEM CAs to trust for the collector instead of the system roots")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: farmwatch-agent pcap [--format table|json|ocsf] [--progress] [--bpf EXPR] [--local ADDRS]\n"+
			"                           [--attach HOST_ID --collector URL [--token-file FILE] [--ca-file FILE]] FILE...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no capture files given")}
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return usageError{err}
	}
	var attach deliver.AttachConfig
	if *attachHost != "" {
		if *collectorURL == "" {
			return usageError{errors.New("--attach needs --collector URL")}
		}
		tok := os.Getenv("FARMWATCH_API_TOKEN")
		if *tokenFile != "" {
			b, err := os.ReadFile(*tokenFile)
			if err != nil {
				return fmt.Errorf("--token-file: %w", err)
			}
			tok = string(b)
		}
		if strings.TrimSpace(tok) == "" {
			return usageError{errors.New("--attach needs a collector API token: --token-file FILE or $FARMWATCH_API_TOKEN")}
		}
		attach = deliver.AttachConfig{URL: *collectorURL, HostID: *attachHost, Token: tok, CAFile: *caFile}
	} else if *collectorURL != "" || *tokenFile != "" || *caFile != "" {
		return usageError{errors.New("--collector, --token-file and --ca-file go with --attach HOST_ID")}
	}
	var threshold report.Severity
	if *failOn != "" {
		if threshold, err = report.ParseSeverity(*failOn); err != nil {
			return usageError{fmt.Errorf("--fail-on: %w", err)}
		}
	}
	cfg := network.Config{Host: report.Host{Name: "pcap", ID: "pcap:" + filepath.Base(fs.Arg(0))}}
	for _, p := range strings.Split(*local, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if a, err := netip.ParseAddr(p); err == nil {
				p = netip.PrefixFrom(a, a.BitLen()).String()
			}
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return usageError{fmt.Errorf("--local: %w", err)}
		}
		cfg.LocalNets = append(cfg.LocalNets, pfx)
	}
	if *bpf != "" {
		flt, err := filter.Compile(*bpf)
		if err != nil {
			return usageError{fmt.Errorf("--bpf: %w", err)}
		}
		cfg.Filter = flt
	}
	var bar *progressBar
	if *progress {
		if file, ok := stderr.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
			bar = &progressBar{w: stderr}
		}
	}
	var prog network.Progress
	if bar != nil {
		prog = bar.update
	}
	findings, _, aerr := network.AnalyzeFiles(ctx, cfg, fs.Args(), prog)
	if bar != nil {
		bar.done()
	}
	src, err := captureSource(fs.Args())
	if err != nil {
		return err
	}
	for i := range findings {
		findings[i].Source = src
	}
	// Findings up to a read error are printed (and attached) before the
	// error is reported.
	if err := writeFindings(stdout, f, findings); err != nil {
		return err
	}
	if attach.HostID != "" {
		if err := attachFindings(ctx, attach, findings, stderr); err != nil {
			return errors.Join(err, readError(aerr))
		}
	}
	if aerr != nil {
		return readError(aerr)
	}
	if *failOn != "" {
		if max, ok := report.MaxSeverity(findings); ok && max >= threshold {
			return severityExit{fmt.Sprintf("found a %s finding (--fail-on %s)", max, threshold)}
		}
	}
	return nil
}

func readError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("reading captures: %w", err)
}

// attachFindings sends the findings to the collector as findings of the
// fleet host cfg.HostID and says on stderr what it did.
func attachFindings(ctx context.Context, cfg deliver.AttachConfig, findings []report.Finding, stderr io.Writer) error {
	if len(findings) == 0 {
		fmt.Fprintf(stderr, "nothing attached to host %s: the captures gave no finding\n", cfg.HostID)
		return nil
	}
	var body bytes.Buffer
	if err := report.Write(&body, report.FormatJSON, findings); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	res, err := deliver.AttachPcap(ctx, cfg, body.Bytes())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "attached to host %s at %s: %d findings accepted, %d already there\n", cfg.HostID, cfg.URL, res.Accepted, res.Duplicates)
	return nil
}

// captureSource names the analysed capture(s) in each finding, so the
// output can be attached to a fleet host at the collector (POST
// /api/v1/hosts/{id}/pcap): the base names, and for one file the SHA-256 of
// its bytes.
func captureSource(files []string) (*report.FindingSource, error) {
	src := &report.FindingSource{Kind: "pcap"}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	src.File = strings.Join(names, ", ")
	if len(files) == 1 {
		f, err := os.Open(files[0])
		if err != nil {
			return nil, fmt.Errorf("hash capture: %w", err)
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return nil, fmt.Errorf("hash capture %s: %w", files[0], err)
		}
		src.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	return src, nil
}

// progressBar draws a one-line bar on a terminal, at most 10 times a second.
type progressBar struct {
	w    io.Writer
	last time.Time
}

func (p *progressBar) update(done, total int64) {
	if total <= 0 || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	frac := float64(done) / float64(total)
	if frac > 1 {
		frac = 1
	}
	const width = 40
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %s / %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac, mib(done), mib(total))
}

func (p *progressBar) done() { fmt.Fprint(p.w, "\r\033[K") }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
