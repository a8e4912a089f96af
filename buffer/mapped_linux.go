package buffer

import "syscall"

// dropPages tells the kernel that the process no longer needs the n mapped
// bytes at addr (mapped.go says why that is safe for bbolt's mapping). The
// address stays a uintptr, as bbolt's Info gives it: it is never turned
// back into a Go pointer.
func dropPages(addr uintptr, n int64) error {
	if n <= 0 {
		return nil
	}
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(n), syscall.MADV_DONTNEED)
	if errno != 0 {
		return errno
	}
	return nil
}
