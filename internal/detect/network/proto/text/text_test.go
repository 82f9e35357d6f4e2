package text

import "testing"

func TestPrintable(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"SSH-2.0-OpenSSH_9.2", 0, "SSH-2.0-OpenSSH_9.2"},
		{"a\x00b\r\n\x1b[31m\xff", 0, "a?b???[31m?"},
		{"abcdef", 3, "abc"},
		{"", 5, ""},
	} {
		if got := Printable([]byte(c.in), c.max); got != c.want {
			t.Errorf("Printable(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
