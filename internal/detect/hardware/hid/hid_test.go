package hid

import (
	"testing"

	"github.com/farmwatch/farmwatch/internal/detect/hardware/internal/descs"
)

func TestKnownDescriptors(t *testing.T) {
	type want struct {
		keyboard, boot, rel, kvmAbs, abs, digitizer bool
		ids                                         []uint8
	}
	cases := map[string]struct {
		b []byte
		w want
	}{
		"boot keyboard":  {descs.BootKeyboard, want{keyboard: true, boot: true}},
		"kvmd abs mouse": {descs.KVMAbsMouse, want{kvmAbs: true, abs: true}},
		"jetkvm abs":     {descs.JetKVMAbsMouse, want{kvmAbs: true, abs: true, ids: []uint8{1, 2}}},
		"rel mouse":      {descs.RelMouse, want{rel: true}},
		"gaming mouse":   {descs.GamingMouse, want{rel: true, ids: []uint8{1, 16}}},
		"qemu tablet":    {descs.QEMUTablet, want{kvmAbs: true, abs: true}},
		"touchscreen":    {descs.Touchscreen, want{digitizer: true, ids: []uint8{1}}},
		"wacom":          {descs.WacomPen, want{digitizer: true, ids: []uint8{2}}},
		"fido":           {descs.FIDO, want{}},
		"receiver": {descs.Concat(descs.BootKeyboard, descs.GamingMouse, descs.ConsumerControl),
			want{keyboard: true, boot: true, rel: true, ids: []uint8{1, 3, 16}}},
	}
	for name, c := range cases {
		d, err := Parse(c.b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, abs := d.AbsolutePointer()
		got := want{d.Keyboard(), d.BootKeyboardLayout(), d.RelativePointer(), d.KVMAbsoluteRange(), abs, d.Digitizer(), d.ReportIDs}
		if got.keyboard != c.w.keyboard || got.boot != c.w.boot || got.rel != c.w.rel || got.kvmAbs != c.w.kvmAbs ||
			got.abs != c.w.abs || got.digitizer != c.w.digitizer || len(got.ids) != len(c.w.ids) {
			t.Errorf("%s: got %+v want %+v", name, got, c.w)
			continue
		}
		for i := range got.ids {
			if got.ids[i] != c.w.ids[i] {
				t.Errorf("%s: report ids %v want %v", name, got.ids, c.w.ids)
			}
		}
		if d.Truncated {
			t.Errorf("%s: truncated", name)
		}
	}
}

func TestDetails(t *testing.T) {
	d, _ := Parse(descs.JetKVMAbsMouse)
	a, ok := d.AbsolutePointer()
	if !ok || a.LogicalMin != 0 || a.LogicalMax != 32767 || a.ReportID != 1 || a.Application != MakeUsage(1, 2) {
		t.Fatalf("abs axis %+v", a)
	}
	d, _ = Parse(descs.GamingMouse)
	for _, a := range d.Axes() {
		if a.LogicalMin != -32767 || a.LogicalMax != 32767 || !a.Relative {
			t.Fatalf("gaming axis %+v", a)
		}
	}
	d, _ = Parse(descs.WacomPen)
	ax := d.Axes()
	if len(ax) != 2 || ax[0].LogicalMax != 16000 || ax[1].LogicalMax != 10000 {
		t.Fatalf("wacom axes %+v", ax)
	}
	// Unsigned logical maximum with a one-byte 0xFF.
	d, _ = Parse([]byte{0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, 0x09, 0x30, 0x15, 0x00, 0x25, 0xff, 0x75, 0x08, 0x95, 0x01, 0x81, 0x02, 0xc0})
	if a, ok := d.AbsolutePointer(); !ok || a.LogicalMax != 255 {
		t.Fatalf("unsigned max: %+v", a)
	}
}

func TestHostile(t *testing.T) {
	if _, err := Parse(nil); err == nil {
		t.Fatal("empty accepted")
	}
	d, err := Parse(descs.BootKeyboard[:20])
	if err != nil || !d.Truncated {
		t.Fatalf("cut descriptor: %v %+v", err, d)
	}
	deep := make([]byte, 0, 200)
	for i := 0; i < 100; i++ {
		deep = append(deep, 0xa1, 0x01)
	}
	if d, _ := Parse(deep); !d.Truncated {
		t.Fatal("deep nesting not bounded")
	}
	push := make([]byte, 100)
	for i := range push {
		push[i] = 0xa4
	}
	if d, _ := Parse(push); !d.Truncated {
		t.Fatal("push stack not bounded")
	}
	if d, _ := Parse([]byte{0xfe, 0xff, 0x00}); d == nil {
		t.Fatal("long item")
	}
	big := make([]byte, 10000)
	for i := range big {
		big[i] = 0x81
	}
	if d, _ := Parse(big); len(d.Fields) > maxFields {
		t.Fatal("fields not bounded")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range [][]byte{descs.BootKeyboard, descs.KVMAbsMouse, descs.JetKVMAbsMouse, descs.RelMouse,
		descs.GamingMouse, descs.QEMUTablet, descs.Touchscreen, descs.WacomPen, descs.FIDO, descs.ConsumerControl} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		if len(d.Fields) > maxFields || len(d.ReportIDs) > 256 {
			t.Fatalf("unbounded: %d fields", len(d.Fields))
		}
		d.Keyboard()
		d.BootKeyboardLayout()
		d.RelativePointer()
		d.KVMAbsoluteRange()
		d.Digitizer()
	})
}
