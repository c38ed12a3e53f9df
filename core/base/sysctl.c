/* sysctl.c - /proc/sys, which shows the namespace of the thread that opens it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int sysctl_open(const char *path, int flags)
{
        char full[192];

        if (strstr(path, ".."))
                return -EINVAL;
        snprintf(full, sizeof(full), "/proc/sys/%s", path);
        int fd = open(full, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int sysctl_read(const char *path, char *buf, size_t size)
{
        int fd = sysctl_open(path, O_RDONLY);
        ssize_t n;

        if (fd < 0)
                return fd;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -errno;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                n--;
        buf[n] = '\0';
        return 0;
}

int sysctl_write(const char *path, const char *value)
{
        int fd = sysctl_open(path, O_WRONLY);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return fd;
        n = write(fd, value, len);
        int r = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
        close(fd);
        return r;
}
