/*
 * epoll_echo.c - baseline for tests/SelectReactor.Benchmarks/compare.sh: a minimal, correct C epoll echo server.
 *
 * Build:  gcc -O2 -Wall -o epoll_echo epoll_echo.c
 * Usage:  epoll_echo [--host 127.0.0.1] [--port 7007]     (--port 0 picks a free port)
 *
 * Same command line as samples/EchoServer: prints exactly one line "listening on HOST:PORT" to stdout and exits 0
 * on SIGTERM or SIGINT. One thread, level-triggered epoll, one shared 64 KiB read buffer. A connection whose echo
 * could not be sent in full keeps the rest and is watched for writing instead of reading until it has drained
 * (backpressure: a client that does not read is not buffered without bound).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ (64 * 1024)
#define MAXEV 1024

typedef struct {
    int fd;
    char *unsent;         /* bytes read but not yet echoed */
    size_t off, len, cap;
} conn_t;

static volatile sig_atomic_t stopping;
static char buf[BUFSZ];
static int ep;

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void usage(void) {
    fprintf(stderr, "usage: epoll_echo [--host 127.0.0.1] [--port 7007]\n");
    exit(2);
}

static void drop(conn_t *c) {
    close(c->fd);         /* also removes it from the epoll set */
    free(c->unsent);
    free(c);
}

static void watch(conn_t *c, uint32_t events) {
    struct epoll_event ev = { .events = events, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is kept; once all of it is gone, reads again. Returns -1 if the connection was dropped. */
static int flush(conn_t *c) {
    while (c->len > 0) {
        ssize_t n = send(c->fd, c->unsent + c->off, c->len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            drop(c);
            return -1;
        }
        c->off += (size_t)n;
        c->len -= (size_t)n;
    }
    watch(c, EPOLLIN);
    return 0;
}

static void echo(conn_t *c) {
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) { drop(c); return; }          /* end of stream or error */
    ssize_t s = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (s < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { drop(c); return; }
        s = 0;
    }
    if (s < n) {                              /* keep the rest; stop reading until it is sent */
        size_t rest = (size_t)(n - s);
        if (c->cap < rest) {
            char *p = realloc(c->unsent, rest);
            if (!p) { drop(c); return; }
            c->unsent = p; c->cap = rest;
        }
        memcpy(c->unsent, buf + s, rest);
        c->off = 0; c->len = rest;
        watch(c, EPOLLOUT);
    }
}

static void accept_batch(int lfd) {
    for (int i = 0; i < 64; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;                   /* EAGAIN: backlog empty; EMFILE etc.: try again next time */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_t *c = calloc(1, sizeof *c);
        if (!c) { close(fd); continue; }
        c->fd = fd;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) drop(c);
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 7007;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { printf("usage: epoll_echo [--host 127.0.0.1] [--port 7007]\n"); return 0; }
        if (i + 1 >= argc) usage();
        if (!strcmp(argv[i], "--host")) host = argv[++i];
        else if (!strcmp(argv[i], "--port")) {
            char *end; long p = strtol(argv[++i], &end, 10);
            if (*end || p < 0 || p > 65535) usage();
            port = (int)p;
        } else usage();
    }

    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) usage();
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0) {
        fprintf(stderr, "error: cannot listen on %s:%d: %s\n", host, port, strerror(errno));
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    printf("listening on %s:%d\n", host, ntohs(sa.sin_port));
    fflush(stdout);

    struct sigaction act = { .sa_handler = on_signal };   /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);

    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);

    struct epoll_event evs[MAXEV];
    while (!stopping) {
        int n = epoll_wait(ep, evs, MAXEV, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (!c) { accept_batch(lfd); continue; }
            if (c->len > 0) { if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) flush(c); }
            else echo(c);
        }
    }
    return 0;
}
