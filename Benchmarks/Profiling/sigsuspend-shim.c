// Preloaded into programs run under valgrind 3.19 by callgrind-serve, never otherwise.
//
// Valgrind 3.19 writes to the signal mask passed to rt_sigsuspend; libdispatch's main thread passes one that lies
// in read-only memory, and valgrind crashes. This sigsuspend hands the kernel a writable copy instead.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, sizeof(unsigned long));
}
