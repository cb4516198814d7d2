// Test-only C helpers: things Swift cannot call directly (variadic prctl).
#ifndef CSTORAGETESTSUPPORT_H
#define CSTORAGETESTSUPPORT_H

/// Installs a seccomp filter on the calling process (after PR_SET_NO_NEW_PRIVS) that makes the
/// syscall numbered `syscallNumber` fail with `errnoValue`, as container runtimes and systemd's
/// SystemCallFilter= do. Returns 0, or -1 with errno set.
int CStorageTestSupport_deny_syscall(long syscallNumber, int errnoValue);

/// The openat2 syscall number on this architecture.
long CStorageTestSupport_openat2_number(void);

#endif
