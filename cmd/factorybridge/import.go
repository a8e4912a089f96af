package main

import (
	"errors"
	"io"
)

func cmdImport(args []string, stdout, stderr io.Writer) error {
	return errors.New("import: not yet")
}
