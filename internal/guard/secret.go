package guard

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxSecretFile caps how much of a NAME_FILE is read. Secrets and CIDR lists
// are small; the cap keeps a wrong path (/dev/zero, a log file) from eating
// memory.
const maxSecretFile = 1 << 20

// Secret returns the value of the environment variable name, or else the
// contents of the file named by name+"_FILE" (as Docker and Kubernetes mount
// secrets), with trailing newlines and carriage returns removed (nothing else
// is trimmed: spaces belong to the value). Neither set gives "" and no error.
//
// It is an error to set both NAME and NAME_FILE, to name a file that cannot be
// read, is empty or is larger than 1 MiB. Errors name the variable and the
// path, never the contents.
func Secret(getenv func(string) string, name string) (string, error) {
	fileVar := name + "_FILE"
	value, path := getenv(name), getenv(fileVar)
	switch {
	case value != "" && path != "":
		return "", fmt.Errorf("set %s or %s, not both", name, fileVar)
	case path == "":
		return value, nil
	}
	data, err := readSmallFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s %q: %w", fileVar, path, err)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", fmt.Errorf("read %s %q: the file is empty", fileVar, path)
	}
	return s, nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxSecretFile)
	}
	return data, nil
}

// unwrapPath drops the *os.PathError wrapper, whose message repeats the path
// the caller already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
