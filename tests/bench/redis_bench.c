/*
 * redis_bench.c - the cache scheme of a flash sale, for comparison: the
 * stock of one hot SKU is a Redis key, and a buyer's purchase is one Lua
 * script (EVALSHA) that checks the stock and decrements it, counting the
 * unit as sold. Only the stock: the order, the payment and the delivery
 * are NOT part of it, so this is not atomic with them - the figures show
 * what a stock counter costs, not a purchase.
 *
 *   redis_bench --host IP --port N --concurrency C --duration-s S
 *               --stock N [--appendfsync always|everysec]
 *               [--pids PID,...] [--json FILE] [--label NAME]
 *
 * C connections, one buyer each, one request in flight per connection
 * (closed loop), all driven by one thread through epoll and hiredis's
 * non-blocking calls. Before the run it resets the keys and sets the
 * server's appendfsync; afterwards it checks sold + left = initial and
 * that sold equals the successful answers (the oversell check), and
 * writes the report (bench_common.h).
 *
 * Owns its connections only; every wait is bounded by the duration plus
 * DRAIN_MS.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "bench_common.h"

#define CONCURRENCY_MAX 20000u
#define DURATION_MAX    3600u
#define DRAIN_MS        10000
#define CONNECT_MS      5000
#define EVENTS          256
#define EXIT_USAGE      64
#define KEY_STOCK       "bench:stock"
#define KEY_SOLD        "bench:sold"

/* KEYS[1] stock, KEYS[2] sold, ARGV[1] quantity: 1 sold, 0 out of stock. */
static const char lua_buy[] =
        "local left = tonumber(redis.call('GET', KEYS[1]))\n"
        "local n = tonumber(ARGV[1])\n"
        "if left == nil or left < n then return 0 end\n"
        "redis.call('DECRBY', KEYS[1], n)\n"
        "redis.call('INCRBY', KEYS[2], n)\n"
        "return 1\n";

typedef struct opts {
	const char *host, *appendfsync, *json, *label;
	int port;
	unsigned concurrency, duration_s;
	long long stock;
	bench_pids pids;
} opts;

typedef struct buyer {
	redisContext *c;
	int64_t start_ns;
	bool busy;    /* a request is in flight */
	bool writing; /* its bytes are not all sent: waiting for EPOLLOUT */
} buyer;

typedef struct run {
	const opts *o;
	char sha[64];
	int ep;
	buyer *b;
	unsigned busy;
	int64_t stop_ns, first_ns, last_ns;
	uint64_t answered, sold, refused, errors;
	bench_lat lat;
} run;

/* ---- setup and check (blocking, one connection) ------------------------ */

/* command runs one command on c; returns the reply (owned by the caller)
 * or NULL after printing why. */
static redisReply *command(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r == NULL)
		fprintf(stderr, "redis_bench: %s\n", c->errstr);
	else if (r->type == REDIS_REPLY_ERROR)
		fprintf(stderr, "redis_bench: %s: %s\n", fmt, r->str);
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static int ok_command(redisContext *c, const char *fmt, const char *arg)
{
	redisReply *r = command(c, fmt, arg);

	freeReplyObject(r);
	return r != NULL ? 0 : -1;
}

/* setup resets the keys, sets appendfsync and loads the script. */
static int setup(run *r, redisContext *c)
{
	char stock[32];
	redisReply *rep;

	snprintf(stock, sizeof(stock), "%lld", r->o->stock);
	if (ok_command(c, "CONFIG SET appendfsync %s", r->o->appendfsync) ||
	    ok_command(c, "SET " KEY_STOCK " %s", stock) ||
	    ok_command(c, "SET " KEY_SOLD " %s", "0"))
		return -1;
	rep = command(c, "SCRIPT LOAD %s", lua_buy);
	if (rep == NULL || rep->type != REDIS_REPLY_STRING ||
	    rep->len >= (int)sizeof(r->sha)) {
		freeReplyObject(rep);
		return -1;
	}
	memcpy(r->sha, rep->str, (size_t)rep->len + 1);
	freeReplyObject(rep);
	return 0;
}

static long long get_number(redisContext *c, const char *key)
{
	redisReply *rep = command(c, "GET %s", key);
	long long v = -1;

	if (rep != NULL && rep->type == REDIS_REPLY_STRING)
		v = strtoll(rep->str, NULL, 10);
	freeReplyObject(rep);
	return v;
}

/* check reads the keys back: sold + left = initial, left >= 0, and the
 * server sold exactly what buyers were told they bought. */
static bool check(run *r, redisContext *c, char *msg, size_t len)
{
	long long left = get_number(c, KEY_STOCK);
	long long sold = get_number(c, KEY_SOLD);
	/* Purchases unanswered at the end may have sold a unit. */
	bool ok = left >= 0 && sold >= 0 && sold + left == r->o->stock &&
	          (uint64_t)sold >= r->sold &&
	          (uint64_t)sold <= r->sold + r->busy;

	snprintf(msg, len,
	         "sold %lld + left %lld vs initial %lld; %llu buyers told "
	         "sold, %u unanswered; appendfsync %s; stock only, not atomic "
	         "with order, payment or delivery",
	         sold, left, r->o->stock, (unsigned long long)r->sold, r->busy,
	         r->o->appendfsync);
	return ok;
}

/* ---- the buyers' connections ------------------------------------------- */

static int wait_connected(redisContext *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLOUT};
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, CONNECT_MS) != 1 ||
	    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
	    err != 0)
		return -1;
	return 0;
}

static int watch(run *r, buyer *b, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0),
	                         .data.ptr = b};

	return epoll_ctl(r->ep, EPOLL_CTL_MOD, b->c->fd, &ev);
}

static int connect_buyers(run *r)
{
	for (unsigned i = 0; i < r->o->concurrency; i++) {
		buyer *b = &r->b[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = b};

		b->c = redisConnectNonBlock(r->o->host, r->o->port);
		if (b->c == NULL || b->c->err || wait_connected(b->c) != 0 ||
		    epoll_ctl(r->ep, EPOLL_CTL_ADD, b->c->fd, &ev) != 0) {
			fprintf(stderr, "redis_bench: connection %u: %s\n", i,
			        b->c != NULL ? b->c->errstr : "no memory");
			return -1;
		}
	}
	return 0;
}

/* flush writes what b has buffered; it waits for EPOLLOUT if the socket
 * is full. Returns 0, or -1 on a write error. */
static int flush(run *r, buyer *b)
{
	int done = 0;

	if (redisBufferWrite(b->c, &done) != REDIS_OK)
		return -1;
	/* Change the epoll interest only when "all sent" changes. */
	if (done != (int)b->writing)
		return 0;
	b->writing = !done;
	return watch(r, b, b->writing);
}

/* send_buy starts b's next purchase unless the run is over. */
static void send_buy(run *r, buyer *b)
{
	if (bench_now_ns() >= r->stop_ns)
		return;
	b->start_ns = bench_now_ns();
	if (redisAppendCommand(b->c, "EVALSHA %s 2 %s %s 1", r->sha, KEY_STOCK,
	                       KEY_SOLD) != REDIS_OK ||
	    flush(r, b) != 0) {
		r->errors++;
		return;
	}
	b->busy = true;
	r->busy++;
}

/* answer counts one reply (NULL: the connection failed). */
static void answer(run *r, buyer *b, const redisReply *rep)
{
	int64_t t = bench_now_ns();

	b->busy = false;
	r->busy--;
	r->answered++;
	r->last_ns = t;
	bench_lat_add(&r->lat, (double)(t - b->start_ns) / 1e6);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		rep->integer == 1 ? r->sold++ : r->refused++;
	else
		r->errors++;
}

static void on_readable(run *r, buyer *b)
{
	void *rep = NULL;

	if (redisBufferRead(b->c) != REDIS_OK) {
		if (b->busy)
			answer(r, b, NULL);
		epoll_ctl(r->ep, EPOLL_CTL_DEL, b->c->fd, NULL);
		return;
	}
	while (b->busy && redisGetReply(b->c, &rep) == REDIS_OK &&
	       rep != NULL) {
		answer(r, b, rep);
		freeReplyObject(rep);
		rep = NULL;
		send_buy(r, b);
	}
}

static void loop(run *r)
{
	struct epoll_event ev[EVENTS];
	int64_t limit = r->stop_ns + (int64_t)DRAIN_MS * 1000000;

	while (r->busy > 0 && bench_now_ns() < limit) {
		int n = epoll_wait(r->ep, ev, EVENTS, 100);

		for (int i = 0; i < n; i++) {
			buyer *b = ev[i].data.ptr;

			if ((ev[i].events & EPOLLOUT) && flush(r, b) != 0)
				answer(r, b, NULL);
			if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_readable(r, b);
		}
	}
}

/* ---- the run ----------------------------------------------------------- */

static int report(run *r, double cpu_ms, bool ok, const char *msg)
{
	bench_report rep = {.system = r->o->label,
	                    .concurrency = r->o->concurrency,
	                    .answered = r->answered,
	                    .ok = r->sold,
	                    .refused = r->refused,
	                    .non_business = r->errors + r->busy,
	                    .elapsed_s =
	                            (double)(r->last_ns - r->first_ns) / 1e9,
	                    .cpu_ms = cpu_ms,
	                    .invariants_ok = ok,
	                    .check = msg};

	if (bench_report_write(r->o->json, &rep, &r->lat) != 0) {
		perror("redis_bench: report");
		return 1;
	}
	return 0;
}

static int run_sale(const opts *o)
{
	run r = {.o = o, .ep = epoll_create1(EPOLL_CLOEXEC)};
	redisContext *admin = redisConnect(o->host, o->port);
	char msg[512];
	double cpu0;
	bool ok;
	int rc = 1;

	r.b = calloc(o->concurrency, sizeof(*r.b));
	if (admin == NULL || admin->err || r.ep < 0 || r.b == NULL) {
		fprintf(stderr, "redis_bench: cannot connect to %s:%d: %s\n",
		        o->host, o->port, admin ? admin->errstr : "no memory");
		goto out;
	}
	if (setup(&r, admin) != 0 || connect_buyers(&r) != 0)
		goto out;
	cpu0 = bench_cpu_ms(&o->pids);
	r.first_ns = r.last_ns = bench_now_ns();
	r.stop_ns = r.first_ns + (int64_t)o->duration_s * 1000000000;
	for (unsigned i = 0; i < o->concurrency; i++)
		send_buy(&r, &r.b[i]);
	loop(&r);
	ok = check(&r, admin, msg, sizeof(msg));
	rc = report(&r, bench_cpu_ms(&o->pids) - cpu0, ok, msg);
out:
	for (unsigned i = 0; r.b != NULL && i < o->concurrency; i++)
		if (r.b[i].c != NULL)
			redisFree(r.b[i].c);
	free(r.b);
	if (admin != NULL)
		redisFree(admin);
	if (r.ep >= 0)
		close(r.ep);
	bench_lat_fini(&r.lat);
	return rc;
}

/* ---- command line ------------------------------------------------------ */

static __attribute__((noreturn)) void usage(const char *why)
{
	fprintf(stderr,
	        "redis_bench: %s\nusage: redis_bench --host IP --port N "
	        "--concurrency C --duration-s S --stock N "
	        "[--appendfsync always|everysec] [--pids PID,...] "
	        "[--json FILE] [--label NAME]\n",
	        why);
	exit(EXIT_USAGE);
}

/* flag_num is bench_flag_num for this program's flags. */
static long long flag_num(const char *name, long long lo, long long hi)
{
	return bench_flag_num("redis_bench", name, optarg, lo, hi);
}

static void parse(int argc, char **argv, opts *o)
{
	static const struct option longs[] = {
	        {"host", required_argument, NULL, 'h'},
	        {"port", required_argument, NULL, 'P'},
	        {"concurrency", required_argument, NULL, 'c'},
	        {"duration-s", required_argument, NULL, 'd'},
	        {"stock", required_argument, NULL, 's'},
	        {"appendfsync", required_argument, NULL, 'a'},
	        {"pids", required_argument, NULL, 'p'},
	        {"json", required_argument, NULL, 'j'},
	        {"label", required_argument, NULL, 'l'},
	        {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'h':
			o->host = optarg;
			break;
		case 'P':
			o->port = (int)flag_num("--port", 1, 65535);
			break;
		case 'c':
			o->concurrency = (unsigned)flag_num("--concurrency", 1,
			                                    CONCURRENCY_MAX);
			break;
		case 'd':
			o->duration_s = (unsigned)flag_num("--duration-s", 1,
			                                   DURATION_MAX);
			break;
		case 's':
			o->stock = flag_num("--stock", 0, 1LL << 50);
			break;
		case 'a':
			o->appendfsync = optarg;
			break;
		case 'p':
			if (bench_pids_parse(optarg, &o->pids) != 0)
				usage("bad --pids");
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'l':
			o->label = optarg;
			break;
		default:
			usage("unknown option");
		}
	}
	if (o->port == 0 || o->concurrency == 0 || o->duration_s == 0 ||
	    o->stock < 0 || optind != argc)
		usage("--port, --concurrency, --duration-s and --stock are "
		      "required");
	if (strcmp(o->appendfsync, "always") != 0 &&
	    strcmp(o->appendfsync, "everysec") != 0)
		usage("--appendfsync must be always or everysec");
}

int main(int argc, char **argv)
{
	opts o = {.host = "127.0.0.1",
	          .appendfsync = "always",
	          .json = "-",
	          .label = "redis",
	          .stock = -1};

	parse(argc, argv, &o);
	return run_sale(&o);
}
