package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

var bom = []byte("\xef\xbb\xbf")

// checkJSON validates JSON syntax, reporting errors with file, line and
// column (PowerShell 5 writes a UTF-8 BOM, which is accepted).
func checkJSON(name string, data []byte) error {
	data = bytes.TrimPrefix(data, bom)
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return fmt.Errorf("%s: trailing data after the JSON value", name)
		}
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(data, syn.Offset)
		return fmt.Errorf("%s:%d:%d: invalid JSON: %v", name, line, col, syn)
	}
	return fmt.Errorf("%s: truncated or empty JSON: %w", name, err)
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	return bytes.Count(before, []byte{'\n'}) + 1, int(off) - bytes.LastIndexByte(before, '\n')
}

// decodeLenient decodes JSON that tools outside farmwatch wrote
// (PowerShell, system_profiler), ignoring fields they add over releases;
// type errors name the field.
func decodeLenient(name string, data []byte, v any) error {
	data = bytes.TrimPrefix(data, bom)
	if err := json.Unmarshal(data, v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			line, col := lineCol(data, typ.Offset)
			return fmt.Errorf("%s:%d:%d: field %q: got JSON %s, want %s", name, line, col, typ.Field, typ.Value, typ.Type)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
