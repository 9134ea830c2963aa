//go:build !duosync_system

package duosync

// Build against the repository: its header, and its build tree's library with an rpath to it.
// For an installed library, see the package documentation.

// #cgo CFLAGS: -I${SRCDIR}/../../capi
// #cgo LDFLAGS: -L${SRCDIR}/../../build -lduosync -Wl,-rpath,${SRCDIR}/../../build
import "C"
