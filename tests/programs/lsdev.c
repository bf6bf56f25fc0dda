// Lists everything under /dev with its type and device number: no disks, no /dev/mem, no kmsg.
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static int show(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)flag, (void)ftw;
    char t = S_ISCHR(st->st_mode) ? 'c' : S_ISBLK(st->st_mode) ? 'b' : S_ISDIR(st->st_mode) ? 'd'
           : S_ISLNK(st->st_mode) ? 'l' : S_ISREG(st->st_mode) ? 'f' : '?';
    printf("%c %s %u:%u\n", t, path, major(st->st_rdev), minor(st->st_rdev));
    return 0;
}

int main(void) {
    if (nftw("/dev", show, 16, FTW_PHYS) != 0) { perror("nftw /dev"); return 1; }
    return 0;
}
