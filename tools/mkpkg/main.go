// Command mkpkg builds the farmwatch macOS flat installer package (.pkg) on
// any OS: Debian has neither xar nor mkbom, so this writes the formats itself.
//
//	mkpkg -version 1.2.3 -arch arm64 -binary dist/darwin-arm64/farmwatch-agent \
//	  -plist packaging/macos/com.farmwatch.agent.plist -config packaging/farmwatch.yaml \
//	  -scripts packaging/macos/scripts -notice NOTICE -o farmwatch-agent_1.2.3_darwin_arm64.pkg
//
// The product archive (xar) holds Distribution and the component package
// farmwatch-agent.pkg/ with PackageInfo, Bom, Payload (gzip'd odc cpio of the
// install root) and Scripts (gzip'd odc cpio of preinstall/postinstall). One
// package per architecture; hostArchitectures in Distribution says which.
// The package is unsigned: sign it on a Mac with productsign (docs/deploy.md).
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"text/template"
	"time"
)

// Install root, as packaging/packaging.go names the paths.
const (
	identifier   = "com.farmwatch.agent"
	componentPkg = "farmwatch-agent.pkg"
	macBinary    = "./usr/local/bin/farmwatch-agent"
	macPlist     = "./Library/LaunchDaemons/com.farmwatch.agent.plist"
	macConfig    = "./Library/Application Support/farmwatch/farmwatch.yaml"
	macLogDir    = "./Library/Logs/farmwatch"
	macNotice    = "./usr/local/share/doc/farmwatch/NOTICE"
	gidWheel     = 0
	gidAdmin     = 80
)

type options struct {
	Version, Arch                       string
	Binary, Plist, Config, Scripts, Out string
	Notice                              string // optional attribution file
	Mtime                               time.Time
}

func main() {
	var o options
	flag.StringVar(&o.Version, "version", "", "package version (required)")
	flag.StringVar(&o.Arch, "arch", "", "amd64 or arm64 (required)")
	flag.StringVar(&o.Binary, "binary", "", "darwin farmwatch-agent binary (required)")
	flag.StringVar(&o.Plist, "plist", "packaging/macos/com.farmwatch.agent.plist", "LaunchDaemon plist")
	flag.StringVar(&o.Config, "config", "packaging/farmwatch.yaml", "default configuration")
	flag.StringVar(&o.Scripts, "scripts", "packaging/macos/scripts", "directory with preinstall and postinstall")
	flag.StringVar(&o.Notice, "notice", "", "attribution file installed as "+macNotice[1:]+" (optional)")
	flag.StringVar(&o.Out, "o", "", "output .pkg (required)")
	flag.Parse()
	if o.Version == "" || o.Binary == "" || o.Out == "" || (o.Arch != "amd64" && o.Arch != "arm64") {
		flag.Usage()
		os.Exit(2)
	}
	o.Mtime = time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			o.Mtime = time.Unix(n, 0)
		}
	}
	pkg, err := build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(o.Out, pkg, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
}

func dir(path string, gid uint32, mtime int64) Entry {
	return Entry{Path: path, Mode: modeDir | 0o755, GID: gid, Mtime: mtime}
}

// payloadEntries is the install root: the binary, the LaunchDaemon plist,
// the default config, the log directory the plist points at and, when given,
// the NOTICE, with every parent directory (owners and modes as macOS has them).
func payloadEntries(binary, plist, config, notice []byte, mtime int64) []Entry {
	e := []Entry{
		dir(".", gidWheel, mtime),
		dir("./Library", gidWheel, mtime),
		dir("./Library/Application Support", gidAdmin, mtime),
		dir("./Library/Application Support/farmwatch", gidWheel, mtime),
		{Path: macConfig, Mode: modeFile | 0o640, GID: gidWheel, Mtime: mtime, Data: config},
		dir("./Library/LaunchDaemons", gidWheel, mtime),
		{Path: macPlist, Mode: modeFile | 0o644, GID: gidWheel, Mtime: mtime, Data: plist},
		dir("./Library/Logs", gidAdmin, mtime),
		dir(macLogDir, gidWheel, mtime),
		dir("./usr", gidWheel, mtime),
		dir("./usr/local", gidWheel, mtime),
		dir("./usr/local/bin", gidWheel, mtime),
		{Path: macBinary, Mode: modeFile | 0o755, GID: gidWheel, Mtime: mtime, Data: binary},
	}
	if notice != nil {
		e = append(e,
			dir("./usr/local/share", gidWheel, mtime),
			dir("./usr/local/share/doc", gidWheel, mtime),
			dir("./usr/local/share/doc/farmwatch", gidWheel, mtime),
			Entry{Path: macNotice, Mode: modeFile | 0o644, GID: gidWheel, Mtime: mtime, Data: notice})
	}
	return e
}

func gzipCPIO(entries []Entry) ([]byte, error) {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err := writeCPIO(zw, entries); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var packageInfoTmpl = template.Must(template.New("PackageInfo").Parse(`<?xml version="1.0" encoding="utf-8"?>
<pkg-info format-version="2" identifier="{{.ID}}" version="{{.Version}}" install-location="/" auth="root" overwrite-permissions="false" relocatable="false" postinstall-action="none" generator-version="farmwatch-mkpkg">
    <payload numberOfFiles="{{.Files}}" installKBytes="{{.KBytes}}"/>
    <bundle-version/>
    <upgrade-bundle/>
    <update-bundle/>
    <atomic-update-bundle/>
    <strict-identifier/>
    <relocate/>
    <scripts>
{{- range .Scripts}}
        <{{.}} file="./{{.}}"/>
{{- end}}
    </scripts>
</pkg-info>
`))

var distributionTmpl = template.Must(template.New("Distribution").Parse(`<?xml version="1.0" encoding="utf-8"?>
<installer-gui-script minSpecVersion="2">
    <title>farmwatch agent {{.Version}}</title>
    <organization>com.farmwatch</organization>
    <options customize="never" require-scripts="false" rootVolumeOnly="true" hostArchitectures="{{.HostArch}}"/>
    <domains enable_anywhere="false" enable_currentUserHome="false" enable_localSystem="true"/>
    <volume-check>
        <allowed-os-versions>
            <os-version min="12.0"/>
        </allowed-os-versions>
    </volume-check>
    <choices-outline>
        <line choice="default">
            <line choice="{{.ID}}"/>
        </line>
    </choices-outline>
    <choice id="default"/>
    <choice id="{{.ID}}" visible="false">
        <pkg-ref id="{{.ID}}"/>
    </choice>
    <pkg-ref id="{{.ID}}" version="{{.Version}}" installKBytes="{{.KBytes}}" onConclusion="none" auth="Root">#{{.Component}}</pkg-ref>
</installer-gui-script>
`))

// build returns the .pkg bytes.
func build(o options) ([]byte, error) {
	read := func(p string) ([]byte, error) { return os.ReadFile(p) }
	binary, err := read(o.Binary)
	if err != nil {
		return nil, err
	}
	plist, err := read(o.Plist)
	if err != nil {
		return nil, err
	}
	config, err := read(o.Config)
	if err != nil {
		return nil, err
	}
	var notice []byte
	if o.Notice != "" {
		if notice, err = read(o.Notice); err != nil {
			return nil, err
		}
	}
	mtime := o.Mtime.Unix()
	payload := payloadEntries(binary, plist, config, notice, mtime)

	scripts := []Entry{dir(".", gidWheel, mtime)}
	var scriptNames []string
	for _, name := range []string{"preinstall", "postinstall"} {
		data, err := os.ReadFile(filepath.Join(o.Scripts, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		scripts = append(scripts, Entry{Path: "./" + name, Mode: modeFile | 0o755, Mtime: mtime, Data: data})
		scriptNames = append(scriptNames, name)
	}
	sort.Strings(scriptNames)

	var kbytes int64
	for _, e := range payload {
		kbytes += (int64(len(e.Data)) + 1023) / 1024
	}
	vars := map[string]any{
		"ID": identifier, "Version": o.Version, "Files": len(payload), "KBytes": kbytes,
		"Scripts": scriptNames, "Component": componentPkg,
		"HostArch": map[string]string{"amd64": "x86_64", "arm64": "arm64"}[o.Arch],
	}
	var pkgInfo, dist bytes.Buffer
	if err := packageInfoTmpl.Execute(&pkgInfo, vars); err != nil {
		return nil, err
	}
	if err := distributionTmpl.Execute(&dist, vars); err != nil {
		return nil, err
	}
	bom, err := writeBom(payload)
	if err != nil {
		return nil, err
	}
	payloadGz, err := gzipCPIO(payload)
	if err != nil {
		return nil, err
	}
	items := []XarItem{
		{Path: "Distribution", Data: dist.Bytes(), Compress: true},
		{Path: componentPkg, Dir: true},
		{Path: componentPkg + "/Bom", Data: bom, Compress: true},
		{Path: componentPkg + "/PackageInfo", Data: pkgInfo.Bytes(), Compress: true},
		{Path: componentPkg + "/Payload", Data: payloadGz},
	}
	if len(scriptNames) > 0 {
		scriptsGz, err := gzipCPIO(scripts)
		if err != nil {
			return nil, err
		}
		items = append(items, XarItem{Path: componentPkg + "/Scripts", Data: scriptsGz})
	}
	var out bytes.Buffer
	if err := writeXar(&out, items, o.Mtime); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
