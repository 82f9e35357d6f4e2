package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// FileError is a problem with one recorded file, naming the file, the
// position and (when known) the field.
type FileError struct {
	File  string
	Line  int
	Col   int
	Field string
	Err   error
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// DecodeJSONFile strictly decodes a JSON file into v: unknown fields, wrong
// types and trailing data are errors that name the file, line and field.
func DecodeJSONFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return DecodeJSON(path, data, v)
}

// DecodeJSON is DecodeJSONFile over bytes already read; name labels errors.
func DecodeJSON(name string, data []byte, v any) error {
	// PowerShell's ConvertTo-Json writes a UTF-8 BOM on Windows PowerShell 5.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return &FileError{File: name, Err: errors.New("trailing data after the JSON value")}
		}
		return nil
	}
	fe := &FileError{File: name, Err: err}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		fe.Line, fe.Col = lineCol(data, syn.Offset)
		fe.Err = fmt.Errorf("invalid JSON: %s", syn.Error())
	case errors.As(err, &typ):
		fe.Line, fe.Col = lineCol(data, typ.Offset)
		fe.Field = typ.Field
		fe.Err = fmt.Errorf("got JSON %s, want %s", typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		fe.Err = fmt.Errorf("truncated or empty JSON: %w", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		fe.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		fe.Line, fe.Col = lineCol(data, dec.InputOffset())
		fe.Err = errors.New("unknown field")
	}
	return fe
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// WriteJSONFile writes v as indented JSON, creating parent directories.
func WriteJSONFile(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
