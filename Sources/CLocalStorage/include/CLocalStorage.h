// CLocalStorage: a thin, policy-free shim over the Linux syscalls the LocalStorage engine uses.
//
// Every function returns exactly what the kernel (or glibc's one-to-one wrapper) returns and
// leaves errno as the kernel set it. Retrying, fallbacks and error mapping live in Swift.
// Syscalls glibc does not wrap on every supported version (openat2, getdents64) go through
// syscall(2). Macros Swift cannot import are exposed as `extern const` values.
#ifndef CLOCALSTORAGE_H
#define CLOCALSTORAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: Constants
extern const uint64_t CLocalStorage_RESOLVE_BENEATH;
extern const uint64_t CLocalStorage_RESOLVE_NO_SYMLINKS;
extern const uint64_t CLocalStorage_RESOLVE_NO_MAGICLINKS;
/// RESOLVE_CACHED (Linux 5.12): fail with EAGAIN rather than wait for I/O during the lookup.
extern const uint64_t CLocalStorage_RESOLVE_CACHED;
extern const int CLocalStorage_O_PATH;
extern const int CLocalStorage_O_NOATIME;
extern const unsigned int CLocalStorage_RENAME_NOREPLACE;
extern const unsigned int CLocalStorage_RENAME_EXCHANGE;
extern const unsigned int CLocalStorage_SPLICE_F_MOVE;
extern const unsigned int CLocalStorage_SPLICE_F_MORE;
extern const int CLocalStorage_FALLOC_FL_KEEP_SIZE;
extern const int CLocalStorage_POSIX_FADV_SEQUENTIAL;
extern const int CLocalStorage_F_GETPIPE_SZ;
extern const int CLocalStorage_F_SETPIPE_SZ;
extern const int CLocalStorage_F_OFD_SETLK;
extern const int CLocalStorage_F_OFD_SETLKW;

// MARK: errno access (Swift reads errno right after a failing call; tests set it when mocking)
int CLocalStorage_errno(void);
void CLocalStorage_set_errno(int value);

// MARK: Opening and closing
int CLocalStorage_openat(int dirfd, const char *path, int flags, mode_t mode);
/// openat2(2) through syscall(2): `struct open_how` is built here from its three fields.
int CLocalStorage_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
/// preadv2(2) of one buffer with RWF_NOWAIT: EAGAIN instead of waiting for data not in the page
/// cache.
ssize_t CLocalStorage_pread_nowait(int fd, void *buffer, size_t count, off_t offset);
int CLocalStorage_close(int fd);

// MARK: Data transfer
ssize_t CLocalStorage_read(int fd, void *buffer, size_t count);
ssize_t CLocalStorage_pread(int fd, void *buffer, size_t count, off_t offset);
ssize_t CLocalStorage_write(int fd, const void *buffer, size_t count);
ssize_t CLocalStorage_pwrite(int fd, const void *buffer, size_t count, off_t offset);
off_t CLocalStorage_lseek(int fd, off_t offset, int whence);
ssize_t CLocalStorage_copy_file_range(int fdIn, off_t *offsetIn, int fdOut, off_t *offsetOut,
                                      size_t length, unsigned int flags);
ssize_t CLocalStorage_sendfile(int outFD, int inFD, off_t *offset, size_t count);
ssize_t CLocalStorage_splice(int fdIn, off_t *offsetIn, int fdOut, off_t *offsetOut,
                             size_t length, unsigned int flags);
/// ioctl(dest, FICLONE, src): share all of src's extents with dest (reflink).
int CLocalStorage_ficlone(int destFD, int srcFD);
int CLocalStorage_fallocate(int fd, int mode, off_t offset, off_t length);
int CLocalStorage_ftruncate(int fd, off_t length);
/// fadvise64(2) through syscall(2), so failures come back as -1 and errno like every other call.
int CLocalStorage_fadvise(int fd, off_t offset, off_t length, int advice);
int CLocalStorage_pipe2(int fds[2], int flags);
int CLocalStorage_fcntl_int(int fd, int command, int argument);

int CLocalStorage_flock(int fd, int operation);
/// fcntl(fd, command, &lock) for open file description locks (F_OFD_SETLK, F_OFD_SETLKW): the
/// `struct flock` is built here (whence SEEK_SET, l_pid 0 as OFD locks require).
int CLocalStorage_ofd_lock(int fd, int command, short type, off_t start, off_t length);
/// poll(2) on one descriptor: waits until it is ready for `events` (POLLIN/POLLOUT).
int CLocalStorage_poll_one(int fd, short events, int timeoutMilliseconds);

// MARK: Durability
int CLocalStorage_fsync(int fd);

// MARK: Namespace operations
int CLocalStorage_renameat(int oldDirFD, const char *oldPath, int newDirFD, const char *newPath);
int CLocalStorage_renameat2(int oldDirFD, const char *oldPath, int newDirFD, const char *newPath,
                            unsigned int flags);
int CLocalStorage_linkat(int oldDirFD, const char *oldPath, int newDirFD, const char *newPath,
                         int flags);
int CLocalStorage_unlinkat(int dirfd, const char *path, int flags);
int CLocalStorage_mkdirat(int dirfd, const char *path, mode_t mode);
int CLocalStorage_fstatat(int dirfd, const char *path, struct stat *buffer, int flags);
int CLocalStorage_fstat(int fd, struct stat *buffer);
int CLocalStorage_fchmod(int fd, mode_t mode);
/// futimens(fd, NULL): both times to now.
int CLocalStorage_futimens_now(int fd);
/// futimens(fd, {UTIME_NOW, UTIME_OMIT}): marks a file used (its atime) without touching mtime.
int CLocalStorage_futimens_atime_now(int fd);
/// Lowers the calling thread's priority by `increment` nice levels (setpriority on its thread id).
int CLocalStorage_lower_thread_priority(int increment);
/// getdents64(2) through syscall(2): fills `buffer` with `struct linux_dirent64` records.
ssize_t CLocalStorage_getdents64(int fd, void *buffer, size_t count);
/// Fields of the `struct linux_dirent64` record at `record` (from getdents64), read through
/// the kernel's own struct layout rather than byte offsets.
unsigned short CLocalStorage_dirent_reclen(const void *record);
unsigned char CLocalStorage_dirent_type(const void *record);
const char *CLocalStorage_dirent_name(const void *record);

// MARK: Memory mapping
void *CLocalStorage_mmap(void *address, size_t length, int protection, int flags, int fd, off_t offset);
int CLocalStorage_munmap(void *address, size_t length);
/// MAP_FAILED, which Swift cannot import as a macro.
void *CLocalStorage_MAP_FAILED(void);

// MARK: Checksums
/// CRC-32C (Castagnoli) of `length` bytes, continuing from `crc`: pass 0 to start, or a previous
/// result to checksum a sequence of pieces. Uses the CPU's CRC instructions when it has them.
uint32_t CLocalStorage_crc32c(uint32_t crc, const void *data, size_t length);
/// The same checksum by the portable table-driven path, so tests can compare the two.
uint32_t CLocalStorage_crc32c_portable(uint32_t crc, const void *data, size_t length);
/// 1 when CLocalStorage_crc32c runs on CPU instructions, 0 when it runs the portable path.
int CLocalStorage_crc32c_is_hardware_accelerated(void);

#ifdef __cplusplus
}
#endif

#endif // CLOCALSTORAGE_H
