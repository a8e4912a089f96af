package pki

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// guardedDirs are the directories whose content decides what the bridge
// trusts or presents: the root, own/, trusted/ and issuers/ with their
// CRLs, and pins/. rejected/ is not among them: what lies there is trusted
// only through "factorybridge trust", which checks the thumbprint the
// operator gives.
var guardedDirs = []string{"", OwnDir, TrustedDir, TrustedCRLDir, IssuersDir, IssuersCRLDir, PinsDir}

// Check refuses a store whose guarded directories, or the files in them,
// another user could write: owned by neither the bridge's user nor root, or
// writable by group or others. Whoever can write trusted/ makes the bridge
// trust any server. Missing directories are fine (Init creates them, owner
// only). The error wraps ErrUnsafeStore and lists every problem.
func (s Store) Check() error {
	var problems []string
	for _, d := range guardedDirs {
		problems = append(problems, s.checkDir(s.path(d), d != "")...)
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s (fix: chown them to the bridge's user and chmod go-w)", ErrUnsafeStore, strings.Join(problems, "; "))
}

// checkDir returns the problems of dir and, with files, of its files.
func (s Store) checkDir(dir string, files bool) []string {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	if p := unsafeFile(fi); p != "" {
		problems = append(problems, dir+" is "+p)
	}
	if !files {
		return problems
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return append(problems, err.Error())
	}
	for _, e := range entries {
		p := dir + string(os.PathSeparator) + e.Name()
		fi, err := os.Stat(p) // through a symlink: what is read is the target
		if err != nil || fi.IsDir() {
			continue
		}
		if why := unsafeFile(fi); why != "" {
			problems = append(problems, p+" is "+why)
		}
	}
	return problems
}
