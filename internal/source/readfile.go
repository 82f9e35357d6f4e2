package source

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ReadFileCapped reads a regular file of at most limit bytes and refuses a
// larger one, so a huge or hostile file in an OS tree or a snapshot cannot
// exhaust the agent's memory.
func ReadFileCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// ReadOptionalFile is ReadFileCapped where a missing file means "nothing
// recorded": it returns (nil, nil).
func ReadOptionalFile(path string, limit int64) ([]byte, error) {
	b, err := ReadFileCapped(path, limit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}
