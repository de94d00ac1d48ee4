/* Linux system calls that glibc declares only under _GNU_SOURCE, which
 * Swift's Glibc module does not define: renameat2(2) with
 * RENAME_NOREPLACE (an atomic rename that fails with EEXIST instead of
 * replacing the target), used by the queue's spare files. */
#ifndef SM_CLINUX_SHIM_H
#define SM_CLINUX_SHIM_H
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef SM_RENAME_NOREPLACE
#define SM_RENAME_NOREPLACE (1 << 0)
#endif

/* rename(from, to) unless `to` exists: 0, or -1 with errno (EEXIST when
 * it does; EINVAL or ENOSYS where the file system or kernel cannot). */
static inline int sm_rename_noreplace(const char *from, const char *to) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, SM_RENAME_NOREPLACE);
}
#endif
