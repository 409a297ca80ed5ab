/* The entry point of the scar-supervisor bundle, linked statically so that it runs in any
 * image: one with glibc, one with musl (Alpine), one with no libc at all (busybox).
 *
 * It starts the real program, bin/scar-supervisor-program beside it, through the glibc loader the
 * bundle carries (lib/ld.so), with the bundle's libraries. The library path is given to the
 * loader on its command line, not in LD_LIBRARY_PATH, so nothing of the bundle leaks into
 * the environment of the user's script, which runs with the image's own libraries. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int join(char* out, size_t size, const char* dir, const char* name) {
    int n = snprintf(out, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size;
}

int main(int argc, char** argv) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
    } else if (argc > 0 && strchr(argv[0], '/') != NULL && realpath(argv[0], self) != NULL) {
        /* no /proc: argv[0] is the path Lambda or the shell started us by */
    } else {
        fprintf(
            stderr,
            "scar-supervisor: cannot find the bundle directory (no /proc/self/exe, and argv[0] '%s' "
            "is not a path); start it by its full path\n",
            argc > 0 ? argv[0] : ""
        );
        return 127;
    }
    char* slash = strrchr(self, '/');
    if (slash == NULL) return 127;
    *slash = '\0';

    char loader[PATH_MAX];
    char libdir[PATH_MAX];
    char program[PATH_MAX];
    if (!join(loader, sizeof loader, self, "lib/ld.so") || !join(libdir, sizeof libdir, self, "lib") ||
        !join(program, sizeof program, self, "bin/scar-supervisor-program")) {
        fprintf(stderr, "scar-supervisor: the bundle path '%s' is too long\n", self);
        return 127;
    }
    char** args = calloc((size_t)argc + 8, sizeof(char*));
    if (args == NULL) return 127;
    int i = 0;
    args[i++] = loader;
    args[i++] = "--library-path";
    args[i++] = libdir;
    args[i++] = "--argv0";
    args[i++] = argc > 0 ? argv[0] : program;
    args[i++] = program;
    for (int a = 1; a < argc; ++a) args[i++] = argv[a];
    args[i] = NULL;
    execv(loader, args);
    fprintf(
        stderr,
        "scar-supervisor: cannot start '%s': %s; is the bundle directory complete?\n",
        loader,
        strerror(errno)
    );
    return 127;
}
