/* Built with musl-gcc: a program of an Alpine-style image, linked against musl's libc.so. */
#include <stdio.h>

int main(void) {
    puts("hello from musl");
    return 0;
}
