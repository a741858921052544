// Package syscr reads the kernel's count of read syscalls made by this
// process, for tests that state how many reads an exchange costs. Tests
// only; it imports nothing from Sluice.
package syscr
