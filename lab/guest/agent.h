/* agent.h - fwsh-agent, the guest's init and agent: what its parts share. */
#ifndef FWSH_GUEST_AGENT_H
#define FWSH_GUEST_AGENT_H

#include <stddef.h>
#include <sys/types.h>

/* Where an op's output goes: frames to the host, or a boot step's buffer. */
struct out {
        void (*emit)(void *sink, char type, const char *data, size_t len);
        void *sink;
};

/* jobs.c: the processes the agent starts, and every child it reaps */
void jobs_reap(void);
pid_t jobs_spawn(const char *outfile, char *const argv[], char *err, size_t errlen);
int jobs_run(char *const argv[], int timeout_ms, const struct out *o, char *end, size_t endlen);
void jobs_status(pid_t pid, char *buf, size_t len);

/* boot.c: what PID 1 does before it serves: mounts, modules, the share,
 * and the node's boot file. Returns whether every step succeeded; report
 * says what was done or what failed. */
int boot(char *report, size_t len);
int boot_write(const char *path, const char *value, char *err, size_t errlen);

#endif
