// Command farmwatch-collector is farmwatch's central collector: agents enroll
// and send findings and heartbeats to its HTTPS ingest API; it stores them
// (SQLite by default, PostgreSQL for larger fleets), scores host risk,
// correlates shared farm infrastructure across hosts, raises and delivers
// alerts, and serves the security team's web page, REST API and metrics.
//
//	farmwatch-collector [serve] [flags]     run the collector (default)
//	farmwatch-collector user add NAME       create a web user (password on stdin)
//	farmwatch-collector token add NAME      create a REST API token (printed)
//	farmwatch-collector inventory import FILE   import an MDM inventory export
//	farmwatch-collector version
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/farmwatch/farmwatch/internal/collector"
	"github.com/farmwatch/farmwatch/internal/collector/config"
	"github.com/farmwatch/farmwatch/internal/collector/server"
	"github.com/farmwatch/farmwatch/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a command-line mistake (exit 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help"):
		usage(stderr)
		return 0
	case len(args) > 0 && args[0] == "version":
		fmt.Fprintln(stdout, version.String("farmwatch-collector"))
		return 0
	case len(args) > 0 && args[0] == "serve":
		err = serve(ctx, args[1:], stderr)
	case len(args) > 1 && args[0] == "user" && args[1] == "add":
		err = userAdd(ctx, args[2:], stdin, stdout, stderr)
	case len(args) > 1 && args[0] == "token" && args[1] == "add":
		err = tokenAdd(ctx, args[2:], stdout, stderr)
	case len(args) > 1 && args[0] == "inventory" && args[1] == "import":
		err = inventoryImport(ctx, args[2:], stdout, stderr)
	case len(args) == 0 || strings.HasPrefix(args[0], "-"):
		err = serve(ctx, args, stderr)
	default:
		fmt.Fprintf(stderr, "farmwatch-collector: unknown command %q\n\n", strings.Join(args, " "))
		usage(stderr)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "farmwatch-collector: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "farmwatch-collector: %v\n", err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  farmwatch-collector [serve] [flags]   run the collector (flags: serve -h)
  farmwatch-collector user add NAME     create or reset a web user; password read from stdin
  farmwatch-collector token add NAME    create a REST API token and print it
  farmwatch-collector inventory import [--json] FILE
                                        import an Intune, Jamf Pro or Kandji inventory export (CSV or
                                        JSON; docs/inventory.md) and list matched and unmatched hosts
  farmwatch-collector version

See docs/collector.md.
`)
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// commonFlags locate the configuration and the database.
type commonFlags struct {
	configPath, dataDir, database string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", "", "YAML configuration file (strict: unknown keys are errors)")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (default ./farmwatch-data; env FARMWATCH_DATA_DIR)")
	fs.StringVar(&c.database, "database", "", "postgres://... for PostgreSQL (default: SQLite in the data dir; env FARMWATCH_DATABASE)")
}

func (c *commonFlags) load() (config.Config, error) {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return cfg, err
	}
	cfg.ApplyEnv(os.Getenv)
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	if c.database != "" {
		cfg.Database = c.database
	}
	return cfg, nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("farmwatch-collector serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common commonFlags
	common.register(fs)
	listen := fs.String("listen", "", "listen address (default "+config.DefaultListen+"; env FARMWATCH_LISTEN)")
	plain := fs.Bool("http", false, "serve plain HTTP (behind a TLS-terminating proxy)")
	cert := fs.String("tls-cert", "", "TLS certificate PEM (default: self-signed, created in the data dir)")
	key := fs.String("tls-key", "", "TLS private key PEM")
	clientCA := fs.String("client-ca", "", "CA bundle for agent client certificates (mutual TLS; CN = host id)")
	var secrets, proxies stringList
	fs.Var(&secrets, "enroll-secret", "enrollment secret (repeatable; prefer env FARMWATCH_ENROLL_SECRET or the config file)")
	authHeader := fs.String("auth-header", "", "trust this header (X-Forwarded-User) for the web user, from --trusted-proxy only")
	fs.Var(&proxies, "trusted-proxy", "address or CIDR of a trusted reverse proxy (repeatable)")
	silence := fs.Int("silence-heartbeats", 0, fmt.Sprintf("alert after this many missed heartbeats (default %d)", config.DefaultSilenceHeartbeats))
	logLevel := fs.String("log-level", "", "debug, info, warn or error (default info)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	cfg, err := common.load()
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["listen"] {
		cfg.Listen = *listen
	}
	if set["http"] {
		cfg.HTTP = *plain
	}
	if set["tls-cert"] {
		cfg.TLS.Cert = *cert
	}
	if set["tls-key"] {
		cfg.TLS.Key = *key
	}
	if set["client-ca"] {
		cfg.TLS.ClientCA = *clientCA
	}
	cfg.EnrollSecrets = append(cfg.EnrollSecrets, secrets...)
	if set["auth-header"] {
		cfg.Web.AuthHeader = *authHeader
	}
	cfg.Web.TrustedProxies = append(cfg.Web.TrustedProxies, proxies...)
	if set["silence-heartbeats"] {
		cfg.SilenceHeartbeats = *silence
	}
	if set["log-level"] {
		cfg.Log.Level = *logLevel
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	log, err := newLogger(cfg.Log.Level, stderr)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	defer log.Sync() //nolint:errcheck
	return collector.Run(ctx, cfg, log, nil)
}

func newLogger(level string, w io.Writer) (*zap.Logger, error) {
	lvl := zapcore.InfoLevel
	if level != "" {
		if err := lvl.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("log level %q: %w", level, err)
		}
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), lvl)
	return zap.New(core).Named("collector"), nil
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("farmwatch-collector user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common commonFlags
	common.register(fs)
	name, rest := splitName(args)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("%w: user add NAME (the password is read from stdin)", errUsage)
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	hash, err := server.HashPassword(pw)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := common.load()
	if err != nil {
		return err
	}
	st, err := collector.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.AddUser(ctx, name, hash, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s saved\n", name)
	return nil
}

func tokenAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("farmwatch-collector token add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var common commonFlags
	common.register(fs)
	name, rest := splitName(args)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	if name == "" {
		return fmt.Errorf("%w: token add NAME", errUsage)
	}
	cfg, err := common.load()
	if err != nil {
		return err
	}
	st, err := collector.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, err := collector.NewToken()
	if err != nil {
		return err
	}
	if err := st.AddAPIToken(ctx, name, server.HashToken(tok), time.Now()); err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// splitName takes a leading non-flag NAME so it may come before the flags.
func splitName(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}
