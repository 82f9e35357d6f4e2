// Package hid parses USB HID report descriptors into the facts the hardware
// detector reasons about: top-level applications (keyboard, mouse, digitizer,
// consumer control), report ids, which pointer axes are absolute or relative
// and their logical ranges, and whether a keyboard uses the boot-protocol
// report layout. It is pure, bounded and never panics on hostile input.
package hid

import (
	"errors"
	"fmt"
	"sort"
)

// MaxDescriptor is the largest descriptor examined (the Linux kernel's
// HID_MAX_DESCRIPTOR_SIZE); longer input is truncated.
const MaxDescriptor = 4096

// Usage pages and usages the detector cares about.
const (
	PageGenericDesktop = 0x01
	PageKeyboard       = 0x07
	PageButton         = 0x09
	PageConsumer       = 0x0c
	PageDigitizer      = 0x0d

	UsagePointer  = 0x01
	UsageMouse    = 0x02
	UsageJoystick = 0x04
	UsageGamepad  = 0x05
	UsageKeyboard = 0x06
	UsageKeypad   = 0x07
	UsageX        = 0x30
	UsageY        = 0x31
	UsageWheel    = 0x38
)

// Usage is a 32-bit extended usage: page in the high 16 bits.
type Usage uint32

// Page returns the usage page.
func (u Usage) Page() uint16 { return uint16(u >> 16) }

// ID returns the usage id within its page.
func (u Usage) ID() uint16 { return uint16(u) }

// String renders "page:id" in hex.
func (u Usage) String() string { return fmt.Sprintf("%02x:%02x", u.Page(), u.ID()) }

// MakeUsage combines a page and id.
func MakeUsage(page, id uint16) Usage { return Usage(uint32(page)<<16 | uint32(id)) }

// Field is one Input, Output or Feature main item.
type Field struct {
	Kind        string // "input", "output", "feature"
	Application Usage  // enclosing top-level application collection
	ReportID    uint8
	UsagePage   uint16
	Usages      []Usage // explicit usages (bounded)
	UsageMin    Usage
	UsageMax    Usage
	LogicalMin  int32
	LogicalMax  int32
	ReportSize  uint32
	ReportCount uint32
	Constant    bool
	Variable    bool
	Relative    bool
}

// Has reports whether the field carries usage u (explicitly or in its range).
func (f *Field) Has(u Usage) bool {
	for _, x := range f.Usages {
		if x == u {
			return true
		}
	}
	return f.UsageMax != 0 && u >= f.UsageMin && u <= f.UsageMax
}

// Axis describes a pointer axis (X or Y) found in an input field.
type Axis struct {
	Application Usage
	ReportID    uint8
	Relative    bool
	LogicalMin  int32
	LogicalMax  int32
}

// Descriptor is a parsed report descriptor.
type Descriptor struct {
	Applications []Usage
	ReportIDs    []uint8
	Fields       []Field
	// Truncated is set when the descriptor ended inside an item or
	// collection, or exceeded a bound; what was parsed is still returned.
	Truncated bool
}

// Limits that keep parsing bounded.
const (
	maxFields     = 1024
	maxUsages     = 64
	maxStackDepth = 16
	maxDepth      = 32
)

type globals struct {
	page                uint16
	logMin, logMax      int32
	logMaxRaw           uint32
	logMaxSize          int
	reportSize, reportN uint32
	reportID            uint8
}

// ErrEmpty is returned for an empty descriptor.
var ErrEmpty = errors.New("hid: empty report descriptor")

// Parse parses a report descriptor. It returns an error only when nothing
// usable could be parsed; a descriptor that is cut short is returned with
// Truncated set.
func Parse(b []byte) (*Descriptor, error) {
	if len(b) == 0 {
		return nil, ErrEmpty
	}
	d := &Descriptor{}
	if len(b) > MaxDescriptor {
		b = b[:MaxDescriptor]
		d.Truncated = true
	}
	var (
		g        globals
		stack    []globals
		usages   []Usage
		umin     Usage
		umax     Usage
		hasMin   bool
		depth    int
		app      Usage
		ids      = map[uint8]bool{}
		appsSeen = map[Usage]bool{}
	)
	resetLocal := func() { usages, umin, umax, hasMin = usages[:0], 0, 0, false }
	ext := func(v uint32, size int) Usage {
		if size == 4 {
			return Usage(v)
		}
		return MakeUsage(g.page, uint16(v))
	}
	for i := 0; i < len(b); {
		prefix := b[i]
		if prefix == 0xfe { // long item: size, tag, data
			if i+2 >= len(b) {
				d.Truncated = true
				break
			}
			i += 3 + int(b[i+1])
			continue
		}
		size := int(prefix & 3)
		if size == 3 {
			size = 4
		}
		if i+1+size > len(b) {
			d.Truncated = true
			break
		}
		var v uint32
		for k := 0; k < size; k++ {
			v |= uint32(b[i+1+k]) << (8 * k)
		}
		sv := signExtend(v, size)
		typ, tag := (prefix>>2)&3, prefix>>4
		i += 1 + size
		switch typ {
		case 0: // main
			switch tag {
			case 0x8, 0x9, 0xb: // input, output, feature
				if len(d.Fields) >= maxFields {
					d.Truncated = true
					resetLocal()
					continue
				}
				f := Field{
					Application: app, ReportID: g.reportID, UsagePage: g.page,
					LogicalMin: g.logMin, LogicalMax: g.logMax,
					ReportSize: g.reportSize, ReportCount: g.reportN,
					Constant: v&1 != 0, Variable: v&2 != 0, Relative: v&4 != 0,
				}
				if g.logMin >= 0 && g.logMaxSize > 0 && g.logMaxSize < 4 {
					f.LogicalMax = int32(g.logMaxRaw) // unsigned when the minimum is not negative
				}
				f.Kind = map[byte]string{0x8: "input", 0x9: "output", 0xb: "feature"}[tag]
				f.Usages = append([]Usage(nil), usages...)
				if hasMin {
					f.UsageMin, f.UsageMax = umin, umax
				}
				d.Fields = append(d.Fields, f)
				resetLocal()
			case 0xa: // collection
				if depth == 0 && v == 1 { // application
					u := Usage(0)
					if len(usages) > 0 {
						u = usages[0]
					}
					app = u
					if !appsSeen[u] {
						appsSeen[u] = true
						d.Applications = append(d.Applications, u)
					}
				}
				depth++
				if depth > maxDepth {
					d.Truncated = true
					return finish(d, ids), nil
				}
				resetLocal()
			case 0xc: // end collection
				if depth > 0 {
					depth--
				}
				if depth == 0 {
					app = 0
				}
				resetLocal()
			}
		case 1: // global
			switch tag {
			case 0x0:
				g.page = uint16(v)
			case 0x1:
				g.logMin = sv
			case 0x2:
				g.logMax, g.logMaxRaw, g.logMaxSize = sv, v, size
			case 0x7:
				g.reportSize = v
			case 0x8:
				g.reportID = uint8(v)
				if len(ids) < 256 {
					ids[uint8(v)] = true
				}
			case 0x9:
				g.reportN = v
			case 0xa: // push
				if len(stack) >= maxStackDepth {
					d.Truncated = true
					return finish(d, ids), nil
				}
				stack = append(stack, g)
			case 0xb: // pop
				if len(stack) > 0 {
					g = stack[len(stack)-1]
					stack = stack[:len(stack)-1]
				}
			}
		case 2: // local
			switch tag {
			case 0x0:
				if len(usages) < maxUsages {
					usages = append(usages, ext(v, size))
				}
			case 0x1:
				umin, hasMin = ext(v, size), true
			case 0x2:
				umax = ext(v, size)
			}
		}
	}
	if depth != 0 {
		d.Truncated = true
	}
	return finish(d, ids), nil
}

func finish(d *Descriptor, ids map[uint8]bool) *Descriptor {
	for id := range ids {
		d.ReportIDs = append(d.ReportIDs, id)
	}
	sort.Slice(d.ReportIDs, func(i, j int) bool { return d.ReportIDs[i] < d.ReportIDs[j] })
	return d
}

func signExtend(v uint32, size int) int32 {
	switch size {
	case 1:
		return int32(int8(v))
	case 2:
		return int32(int16(v))
	default:
		return int32(v)
	}
}

// HasApplication reports whether a top-level collection has usage u.
func (d *Descriptor) HasApplication(u Usage) bool {
	for _, a := range d.Applications {
		if a == u {
			return true
		}
	}
	return false
}

// Keyboard reports a keyboard or keypad application with key inputs.
func (d *Descriptor) Keyboard() bool {
	if !d.HasApplication(MakeUsage(PageGenericDesktop, UsageKeyboard)) && !d.HasApplication(MakeUsage(PageGenericDesktop, UsageKeypad)) {
		return false
	}
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.Kind == "input" && !f.Constant && (f.UsagePage == PageKeyboard || f.UsageMin.Page() == PageKeyboard) {
			return true
		}
	}
	return false
}

// BootKeyboardLayout reports the boot-protocol keyboard input report: eight
// 1-bit modifiers (E0..E7), one constant byte, then an array of at least six
// 8-bit key codes, all without a report id.
func (d *Descriptor) BootKeyboardLayout() bool {
	var in []*Field
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.Kind == "input" && f.Application == MakeUsage(PageGenericDesktop, UsageKeyboard) {
			in = append(in, f)
		}
	}
	if len(in) < 3 {
		return false
	}
	m, r, k := in[0], in[1], in[2]
	return m.ReportID == 0 && m.ReportSize == 1 && m.ReportCount == 8 && m.Variable &&
		m.Has(MakeUsage(PageKeyboard, 0xe0)) && m.Has(MakeUsage(PageKeyboard, 0xe7)) &&
		r.Constant && r.ReportSize*r.ReportCount == 8 &&
		!k.Constant && !k.Variable && k.ReportSize == 8 && k.ReportCount >= 6
}

// Axes returns the X/Y input axes of pointer-like applications (mouse,
// pointer, joystick, gamepad, digitizers).
func (d *Descriptor) Axes() []Axis {
	var out []Axis
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.Kind != "input" || f.Constant {
			continue
		}
		if !f.Has(MakeUsage(PageGenericDesktop, UsageX)) && !f.Has(MakeUsage(PageGenericDesktop, UsageY)) {
			continue
		}
		out = append(out, Axis{Application: f.Application, ReportID: f.ReportID, Relative: f.Relative, LogicalMin: f.LogicalMin, LogicalMax: f.LogicalMax})
	}
	return out
}

// RelativePointer reports relative X/Y axes in a mouse or pointer
// application.
func (d *Descriptor) RelativePointer() bool {
	for _, a := range d.Axes() {
		if a.Relative && isMouseApp(a.Application) {
			return true
		}
	}
	return false
}

// AbsolutePointer returns the absolute X/Y axis of a mouse or pointer
// application (not a digitizer, joystick or gamepad), if any.
func (d *Descriptor) AbsolutePointer() (Axis, bool) {
	for _, a := range d.Axes() {
		if !a.Relative && isMouseApp(a.Application) {
			return a, true
		}
	}
	return Axis{}, false
}

// KVMAbsoluteRange reports the absolute mouse every IP-KVM and VM tablet
// uses: a mouse/pointer application with absolute X/Y over 0..32767.
func (d *Descriptor) KVMAbsoluteRange() bool {
	for _, a := range d.Axes() {
		if !a.Relative && isMouseApp(a.Application) && a.LogicalMin == 0 && a.LogicalMax == 32767 {
			return true
		}
	}
	return false
}

// Digitizer reports a digitizer-page application (pen, touch screen, touch
// pad): Wacom tablets and touchscreens.
func (d *Descriptor) Digitizer() bool {
	for _, a := range d.Applications {
		if a.Page() == PageDigitizer {
			return true
		}
	}
	return false
}

func isMouseApp(u Usage) bool {
	return u == MakeUsage(PageGenericDesktop, UsageMouse) || u == MakeUsage(PageGenericDesktop, UsagePointer)
}
