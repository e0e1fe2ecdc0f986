/* A minimal grpc.health.v1.Health/Check server for e2e tests of gRPC probes: cleartext HTTP/2
 * with prior knowledge (h2c, what grpc-js speaks on insecure channels), libc only.
 *   grpc-health [PORT (50051)] [NOT_SERVING_FILE (/tmp/not-serving)]
 * Every Check answers SERVING, or NOT_SERVING while NOT_SERVING_FILE exists. The request is
 * not decoded (the service name is ignored). One forked child per connection keeps a
 * connection's state to plain locals. Specs: RFC 9113 (HTTP/2), RFC 7541 (HPACK),
 * grpc/doc/PROTOCOL-HTTP2.md. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { DATA = 0, HEADERS = 1, SETTINGS = 4, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9 };
enum { END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4 };
enum { MAX_FRAME = 16384 };           /* SETTINGS_MAX_FRAME_SIZE default; we never raise it */
enum { IDLE_SECONDS = 120 };          /* a connection silent this long is closed (GOAWAY first) */

static const char *not_serving_file = "/tmp/not-serving";

static void quit(int sig) { (void)sig; _exit(0); }

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* 0 on success, -1 on EOF, error or idle timeout (SO_RCVTIMEO). */
static int read_all(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int send_frame(int fd, uint8_t type, uint8_t flags, uint32_t stream, const uint8_t *payload, size_t len) {
  uint8_t frame[9 + 64];
  if (len > sizeof frame - 9) return -1;
  frame[0] = (uint8_t)(len >> 16); frame[1] = (uint8_t)(len >> 8); frame[2] = (uint8_t)len;
  frame[3] = type; frame[4] = flags;
  frame[5] = (uint8_t)((stream >> 24) & 0x7f); frame[6] = (uint8_t)(stream >> 16);
  frame[7] = (uint8_t)(stream >> 8); frame[8] = (uint8_t)stream;
  if (len) memcpy(frame + 9, payload, len);
  return write_all(fd, frame, 9 + len);
}

static void be32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

static void goaway(int fd, uint32_t last_stream, uint32_t code) {
  uint8_t p[8];
  be32(p, last_stream & 0x7fffffff);
  be32(p + 4, code);
  send_frame(fd, GOAWAY, 0, 0, p, sizeof p);
}

/* Response headers, one message, trailers. HPACK without the dynamic table, so the client's
 * SETTINGS_HEADER_TABLE_SIZE never matters to us. */
static int answer(int fd, uint32_t stream) {
  static const uint8_t headers[] = {
    0x88,                                     /* indexed: static entry 8, ":status: 200" */
    0x0f, 0x10, 16, 'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/', 'g', 'r', 'p', 'c',
                                              /* literal without indexing, name = static 31 (content-type) */
  };
  static const uint8_t trailers[] = {
    0x00, 11, 'g', 'r', 'p', 'c', '-', 's', 't', 'a', 't', 'u', 's', 1, '0', /* literal, new name */
  };
  /* 5-byte gRPC prefix (uncompressed, length 2), then HealthCheckResponse{status (field 1, varint)}:
   * 1 = SERVING, 2 = NOT_SERVING. Checked now, so a test can flip it between probes. */
  uint8_t message[] = { 0, 0, 0, 0, 2, 0x08, access(not_serving_file, F_OK) == 0 ? 2 : 1 };
  if (send_frame(fd, HEADERS, END_HEADERS, stream, headers, sizeof headers) < 0) return -1;
  if (send_frame(fd, DATA, 0, stream, message, sizeof message) < 0) return -1;
  return send_frame(fd, HEADERS, END_STREAM | END_HEADERS, stream, trailers, sizeof trailers);
}

static void serve(int fd) {
  static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  static uint8_t payload[MAX_FRAME];
  uint8_t head[9];
  uint32_t last_stream = 0;
  uint32_t headers_open = 0;  /* a HEADERS with END_STREAM still waiting for its CONTINUATION */
  int one = 1;
  struct timeval idle = { .tv_sec = IDLE_SECONDS };
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);

  if (read_all(fd, payload, 24) < 0 || memcmp(payload, preface, 24) != 0) return;
  if (send_frame(fd, SETTINGS, 0, 0, NULL, 0) < 0) return;  /* our (empty) SETTINGS: all defaults */
  for (;;) {
    if (read_all(fd, head, 9) < 0) { goaway(fd, last_stream, 0); return; }
    uint32_t len = (uint32_t)head[0] << 16 | (uint32_t)head[1] << 8 | head[2];
    uint8_t type = head[3], flags = head[4];
    uint32_t stream = ((uint32_t)head[5] << 24 | (uint32_t)head[6] << 16 | (uint32_t)head[7] << 8 | head[8]) & 0x7fffffff;
    if (len > MAX_FRAME) { goaway(fd, last_stream, 0x6 /* FRAME_SIZE_ERROR */); return; }
    if (read_all(fd, payload, len) < 0) return;
    if (stream > last_stream && (type == HEADERS || type == DATA)) last_stream = stream;
    switch (type) {
    case SETTINGS:
      if (!(flags & ACK) && send_frame(fd, SETTINGS, ACK, 0, NULL, 0) < 0) return;
      break;
    case PING:
      if (!(flags & ACK) && len == 8 && send_frame(fd, PING, ACK, 0, payload, 8) < 0) return;
      break;
    case DATA:
      /* Give the connection window back so a long-lived connection never stalls; the
       * stream's own window is irrelevant, as each stream sends one tiny request. */
      if (len > 0) {
        uint8_t inc[4];
        be32(inc, len);
        if (send_frame(fd, WINDOW_UPDATE, 0, 0, inc, 4) < 0) return;
      }
      if ((flags & END_STREAM) && answer(fd, stream) < 0) return;
      break;
    case HEADERS:
      /* A gRPC request ends with DATA, but a body-less request ends on HEADERS: answer it
       * once its header block is complete. */
      if (flags & END_STREAM) {
        if (flags & END_HEADERS) { if (answer(fd, stream) < 0) return; }
        else headers_open = stream;
      }
      break;
    case CONTINUATION:
      if (headers_open && headers_open == stream && (flags & END_HEADERS)) {
        headers_open = 0;
        if (answer(fd, stream) < 0) return;
      }
      break;
    default:
      /* PRIORITY, RST_STREAM, WINDOW_UPDATE, unknown types: nothing to do. GOAWAY too: the
       * client may still finish streams it opened, and its close ends the loop. */
      break;
    }
  }
}

/* Dual-stack [::]:port, or 0.0.0.0:port where IPv6 is unavailable. */
static int listen_on(int port) {
  int one = 1, zero = 0;
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd >= 0) {
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = in6addr_any };
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0 && listen(fd, 128) == 0) return fd;
    close(fd);
  }
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY) };
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&a4, sizeof a4) == 0 && listen(fd, 128) == 0) return fd;
  close(fd);
  return -1;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 50051;
  if (argc > 2) not_serving_file = argv[2];
  if (port <= 0 || port > 65535) { fprintf(stderr, "grpc-health: bad port %s\n", argv[1]); return 2; }

  /* Explicit handlers: as a container's PID 1, default-action signals would be ignored. */
  struct sigaction stop = { .sa_handler = quit };
  sigaction(SIGTERM, &stop, NULL);
  sigaction(SIGINT, &stop, NULL);
  /* Children are reaped by the kernel; no zombies pile up however many probes come. */
  struct sigaction child = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
  sigaction(SIGCHLD, &child, NULL);

  int lfd = listen_on(port);
  if (lfd < 0) { perror("grpc-health: listen"); return 1; }
  printf("grpc-health serving on :%d\n", port);
  fflush(stdout);

  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno != EINTR) usleep(10000);  /* e.g. EMFILE: back off rather than spin */
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(lfd);
      serve(fd);
      close(fd);
      _exit(0);
    }
    close(fd);  /* parent (or a failed fork: that one connection is dropped) */
  }
}
