// See include/CLocalStorage.h: one-to-one wrappers, no policy, errno untouched.
#include "CLocalStorage.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <poll.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const uint64_t CLocalStorage_RESOLVE_BENEATH = RESOLVE_BENEATH;
const uint64_t CLocalStorage_RESOLVE_NO_SYMLINKS = RESOLVE_NO_SYMLINKS;
const uint64_t CLocalStorage_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20
#endif
const uint64_t CLocalStorage_RESOLVE_CACHED = RESOLVE_CACHED;
const int CLocalStorage_O_PATH = O_PATH;
const int CLocalStorage_O_NOATIME = O_NOATIME;
const unsigned int CLocalStorage_RENAME_NOREPLACE = RENAME_NOREPLACE;
const unsigned int CLocalStorage_RENAME_EXCHANGE = RENAME_EXCHANGE;
const unsigned int CLocalStorage_SPLICE_F_MOVE = SPLICE_F_MOVE;
const unsigned int CLocalStorage_SPLICE_F_MORE = SPLICE_F_MORE;
const int CLocalStorage_FALLOC_FL_KEEP_SIZE = FALLOC_FL_KEEP_SIZE;
const int CLocalStorage_POSIX_FADV_SEQUENTIAL = POSIX_FADV_SEQUENTIAL;
const int CLocalStorage_F_GETPIPE_SZ = F_GETPIPE_SZ;
const int CLocalStorage_F_SETPIPE_SZ = F_SETPIPE_SZ;
const int CLocalStorage_F_OFD_SETLK = F_OFD_SETLK;
const int CLocalStorage_F_OFD_SETLKW = F_OFD_SETLKW;

int CLocalStorage_errno(void) { return errno; }
void CLocalStorage_set_errno(int value) { errno = value; }

int CLocalStorage_openat(int dirfd, const char *path, int flags, mode_t mode) {
    return openat(dirfd, path, flags, mode);
}

int CLocalStorage_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

ssize_t CLocalStorage_pread_nowait(int fd, void *buffer, size_t count, off_t offset) {
    struct iovec vector = {.iov_base = buffer, .iov_len = count};
    return preadv2(fd, &vector, 1, offset, RWF_NOWAIT);
}

int CLocalStorage_close(int fd) { return close(fd); }

ssize_t CLocalStorage_read(int fd, void *buffer, size_t count) { return read(fd, buffer, count); }

ssize_t CLocalStorage_pread(int fd, void *buffer, size_t count, off_t offset) {
    return pread(fd, buffer, count, offset);
}

ssize_t CLocalStorage_write(int fd, const void *buffer, size_t count) { return write(fd, buffer, count); }

ssize_t CLocalStorage_pwrite(int fd, const void *buffer, size_t count, off_t offset) {
    return pwrite(fd, buffer, count, offset);
}

off_t CLocalStorage_lseek(int fd, off_t offset, int whence) { return lseek(fd, offset, whence); }

ssize_t CLocalStorage_copy_file_range(int fdIn, off_t *offsetIn, int fdOut, off_t *offsetOut,
                                      size_t length, unsigned int flags) {
    return copy_file_range(fdIn, offsetIn, fdOut, offsetOut, length, flags);
}

ssize_t CLocalStorage_sendfile(int outFD, int inFD, off_t *offset, size_t count) {
    return sendfile(outFD, inFD, offset, count);
}

ssize_t CLocalStorage_splice(int fdIn, off_t *offsetIn, int fdOut, off_t *offsetOut,
                             size_t length, unsigned int flags) {
    return splice(fdIn, offsetIn, fdOut, offsetOut, length, flags);
}

int CLocalStorage_ficlone(int destFD, int srcFD) { return ioctl(destFD, FICLONE, srcFD); }

int CLocalStorage_fallocate(int fd, int mode, off_t offset, off_t length) {
    return fallocate(fd, mode, offset, length);
}

int CLocalStorage_ftruncate(int fd, off_t length) { return ftruncate(fd, length); }

int CLocalStorage_fadvise(int fd, off_t offset, off_t length, int advice) {
    return (int)syscall(SYS_fadvise64, fd, offset, length, advice);
}

int CLocalStorage_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

int CLocalStorage_fcntl_int(int fd, int command, int argument) { return fcntl(fd, command, argument); }

int CLocalStorage_flock(int fd, int operation) { return flock(fd, operation); }

int CLocalStorage_ofd_lock(int fd, int command, short type, off_t start, off_t length) {
    struct flock lock = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = length, .l_pid = 0};
    return fcntl(fd, command, &lock);
}

int CLocalStorage_poll_one(int fd, short events, int timeoutMilliseconds) {
    struct pollfd entry = {.fd = fd, .events = events, .revents = 0};
    return poll(&entry, 1, timeoutMilliseconds);
}

int CLocalStorage_fsync(int fd) { return fsync(fd); }

int CLocalStorage_renameat(int oldDirFD, const char *oldPath, int newDirFD, const char *newPath) {
    return renameat(oldDirFD, oldPath, newDirFD, newPath);
}

int CLocalStorage_renameat2(int oldDirFD, const char *oldPath, int newDirFD, const char *newPath,
                            unsigned int flags) {
    return renameat2(oldDirFD, oldPath, newDirFD, newPath, flags);
}

int CLocalStorage_linkat(int oldDirFD, const char *oldPath, int newDirFD, const char *newPath, int flags) {
    return linkat(oldDirFD, oldPath, newDirFD, newPath, flags);
}

int CLocalStorage_unlinkat(int dirfd, const char *path, int flags) { return unlinkat(dirfd, path, flags); }

int CLocalStorage_mkdirat(int dirfd, const char *path, mode_t mode) { return mkdirat(dirfd, path, mode); }

int CLocalStorage_fstatat(int dirfd, const char *path, struct stat *buffer, int flags) {
    return fstatat(dirfd, path, buffer, flags);
}

int CLocalStorage_fstat(int fd, struct stat *buffer) { return fstat(fd, buffer); }

int CLocalStorage_fchmod(int fd, mode_t mode) { return fchmod(fd, mode); }

int CLocalStorage_futimens_now(int fd) { return futimens(fd, NULL); }

int CLocalStorage_futimens_atime_now(int fd) {
    struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_NOW}, {.tv_sec = 0, .tv_nsec = UTIME_OMIT}};
    return futimens(fd, times);
}

int CLocalStorage_lower_thread_priority(int increment) {
    pid_t thread = (pid_t)syscall(SYS_gettid);
    return setpriority(PRIO_PROCESS, (id_t)thread, increment);
}

ssize_t CLocalStorage_getdents64(int fd, void *buffer, size_t count) {
    return syscall(SYS_getdents64, fd, buffer, count);
}

// The kernel's record; glibc does not export it (its struct dirent64 is the same layout).
struct CLocalStorage_linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

unsigned short CLocalStorage_dirent_reclen(const void *record) {
    return ((const struct CLocalStorage_linux_dirent64 *)record)->d_reclen;
}

unsigned char CLocalStorage_dirent_type(const void *record) {
    return ((const struct CLocalStorage_linux_dirent64 *)record)->d_type;
}

const char *CLocalStorage_dirent_name(const void *record) {
    return ((const struct CLocalStorage_linux_dirent64 *)record)->d_name;
}

void *CLocalStorage_mmap(void *address, size_t length, int protection, int flags, int fd, off_t offset) {
    return mmap(address, length, protection, flags, fd, offset);
}

int CLocalStorage_munmap(void *address, size_t length) { return munmap(address, length); }

void *CLocalStorage_MAP_FAILED(void) { return MAP_FAILED; }
