// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl lease: hold a layout lease the way a well-behaved DMA user does,
 * so that tests and people can watch recalls and revokes happen.
 *
 * One line per event on stdout, flushed at once, so a script can wait for
 * "held" and then trigger a recall:
 *   held lease ID mode MODE range OFF:LEN
 *   mapped N extents B bytes                          (--map, --allocate)
 *   recall lease ID reason WHY range OFF:LEN deadline_ms N
 *   released lease ID
 *   revoked lease ID
 * With --json each event is one JSON object on its own line instead, its
 * "event" key naming it and the other keys the values above (a length to
 * EOF is null).
 * The signals that end the tool (INT, TERM, HUP) stay blocked except inside
 * ppoll(), so one arriving between two checks is never lost.  Events are
 * also read once a second without a wakeup, for filesystems whose poll()
 * does not report POLLPRI.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bmap/client.h>
#include "bmapctl.h"

struct lease_opts {
	uint32_t	mode;
	uint64_t	off;
	uint64_t	len;		/* UINT64_MAX = to EOF */
	bool		ignore_recall;
	bool		hold_revoked;
	bool		map;
	bool		allocate;
	bool		json;		/* one JSON object per event */
};

static int
parse_mode(const char *s, uint32_t *mode)
{
	if (!strcmp(s, "read"))
		*mode = BMAP_LEASE_READ;
	else if (!strcmp(s, "write"))
		*mode = BMAP_LEASE_WRITE;
	else if (!strcmp(s, "pin"))
		*mode = BMAP_LEASE_PIN;
	else
		return -EINVAL;
	return 0;
}

static const char *
mode_name(uint32_t mode)
{
	return mode == BMAP_LEASE_WRITE ? "write" :
	       mode == BMAP_LEASE_PIN ? "pin" : "read";
}

static const struct bmapctl_cmdline lease_cmdline = {
	"lease", "m,mode= r,range= ~M,map ~A,allocate ~I,ignore-recall "
	"~H,hold-revoked j,json", "FILE",
	"Usage: bmapctl lease [-m read|write|pin] [-r OFF:LEN] "
	"[OPTIONS] FILE\n\n"
	"Take a layout lease on FILE and hold it.  Prints 'held ...' "
	"once\nheld; on a recall prints 'recall ...', releases and "
	"exits 0.\nSIGINT/SIGTERM release the lease and exit 0.\n"
	"  -m, --mode MODE      read (default), write or pin\n"
	"  -r, --range OFF:LEN  leased byte range (default 0:eof)\n"
	"      --map            map the range once held (pins its "
	"bytes)\n"
	"      --allocate       map with allocation (write leases)\n"
	"      --ignore-recall  keep holding after a recall until "
	"revoked,\n"
	"                       then print 'revoked' and exit 3\n"
	"      --hold-revoked   after 'revoked', keep the dead lease "
	"(and\n"
	"                       its quarantine) until a signal\n"
	"  -j, --json           one JSON object per event and line\n" };

static int
lease_opt(int c, const char *arg, void *ctx)
{
	struct lease_opts *o = ctx;

	switch (c) {
	case 'm':
		if (parse_mode(arg, &o->mode))
			return bmapctl_usage_error("lease",
				"bad mode '%s' (read, write or pin)", arg);
		break;
	case 'r':
		if (bmapctl_parse_range(arg, &o->off, &o->len))
			return bmapctl_usage_error("lease",
				"bad range '%s' (want OFF:LEN)", arg);
		break;
	case 'M':
		o->map = true;
		break;
	case 'A':
		o->map = o->allocate = true;
		break;
	case 'I':
		o->ignore_recall = true;
		break;
	case 'H':
		o->ignore_recall = o->hold_revoked = true;
		break;
	case 'j':
		o->json = true;
		break;
	}
	return -1;
}

static void
say(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/*
 * One event as a JSON line: "event" and "lease", then the members the
 * caller adds between json_event_begin() and json_event_end().
 */
static bool
json_event_begin(const char *event, uint64_t id)
{
	bool first = true;

	fputc('{', stdout);
	json_kv_str(stdout, &first, "event", event);
	json_kv_u64(stdout, &first, "lease", id);
	return first;
}

static void
json_event_end(void)
{
	fputs("}\n", stdout);
	fflush(stdout);
}

/* A length where UINT64_MAX means "to EOF": null in JSON. */
static void
json_kv_len(bool *first, const char *key, uint64_t len)
{
	if (len == UINT64_MAX) {
		json_key(stdout, first, key);
		fputs("null", stdout);
	} else {
		json_kv_u64(stdout, first, key, len);
	}
}

/* An event that names only its lease: released, revoked. */
static void
say_lease(const struct lease_opts *o, const char *event, uint64_t id)
{
	if (!o->json) {
		say("%s lease %" PRIu64 "\n", event, id);
		return;
	}
	json_event_begin(event, id);
	json_event_end();
}

static int
lease_map(const char *path, struct bmap_client_lease *l,
	  const struct lease_opts *o)
{
	struct bmap_client_map *map;
	uint64_t bytes = 0;
	size_t i;
	int err;

	err = bmap_client_map(l, o->off, o->len, o->allocate ?
			      BMAP_MAP_ALLOCATE : 0, &map);
	if (err) {
		bmapctl_err(path, err);
		return err;
	}
	for (i = 0; i < map->nr_extents; i++)
		if (map->extents[i].type != BMAP_EXT_HOLE)
			bytes += map->extents[i].length;
	if (o->json) {
		bool first = json_event_begin("mapped", l->id);

		json_kv_u64(stdout, &first, "extents", map->nr_extents);
		json_kv_u64(stdout, &first, "bytes", bytes);
		json_event_end();
	} else {
		say("mapped %zu extents %" PRIu64 " bytes\n",
		    map->nr_extents, bytes);
	}
	bmap_client_map_free(map);
	return 0;
}

static int64_t
ms_until(uint64_t deadline_ns)
{
	struct timespec now;
	uint64_t now_ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	return deadline_ns > now_ns ? (int64_t)((deadline_ns - now_ns) / 1000000)
				    : 0;
}

static void
say_held(const struct lease_opts *o, uint64_t id)
{
	char buf[24];
	bool first;

	if (!o->json) {
		say("held lease %" PRIu64 " mode %s range %" PRIu64 ":%s\n",
		    id, mode_name(o->mode), o->off,
		    bmapctl_fmt_len(o->len, buf, sizeof(buf)));
		return;
	}
	first = json_event_begin("held", id);
	json_kv_str(stdout, &first, "mode", mode_name(o->mode));
	json_kv_u64(stdout, &first, "offset", o->off);
	json_kv_len(&first, "length", o->len);
	json_event_end();
}

/* Return: -1 to keep holding, else the exit code. */
static int
handle_event(struct bmap_client_lease *l, const struct bmap_event *ev,
	     const struct lease_opts *o)
{
	uint64_t len;
	char buf[24];
	bool first;

	if (ev->lease_id != l->id)
		return -1;
	if (ev->flags & BMAP_EVENT_REVOKED) {
		say_lease(o, "revoked", ev->lease_id);
		l->revoked = true;
		return o->hold_revoked ? -1 : BMAPCTL_EXIT_REVOKED;
	}
	if (!(ev->flags & BMAP_EVENT_RECALL))
		return -1;
	len = ev->length >= UINT64_MAX - ev->offset ? UINT64_MAX : ev->length;
	if (o->json) {
		first = json_event_begin("recall", ev->lease_id);
		json_kv_str(stdout, &first, "reason",
			    bmap_client_recall_reason_name(ev->reason));
		json_kv_u64(stdout, &first, "offset", ev->offset);
		json_kv_len(&first, "length", len);
		json_kv_u64(stdout, &first, "deadline_ms",
			    ms_until(ev->deadline_ns));
		json_event_end();
	} else {
		say("recall lease %" PRIu64 " reason %s range %" PRIu64 ":%s "
		    "deadline_ms %" PRId64 "\n", (uint64_t)ev->lease_id,
		    bmap_client_recall_reason_name(ev->reason),
		    (uint64_t)ev->offset, bmapctl_fmt_len(len, buf, sizeof(buf)),
		    ms_until(ev->deadline_ns));
	}
	return o->ignore_recall ? -1 : BMAPCTL_EXIT_OK;
}

static int
drain_events(const char *path, struct bmap_client_lease *l,
	     const struct lease_opts *o, bool *events_ok)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	int i, n, ret = -1;

	n = bmap_client_events(l->fd, ev, BMAP_EVENTS_MAX);
	if (bmap_client_is_unsupported(n)) {
		*events_ok = false;
		return -1;
	}
	if (n < 0) {
		bmapctl_err(path, n);
		return BMAPCTL_EXIT_FAIL;
	}
	for (i = 0; i < n && ret < 0; i++)
		ret = handle_event(l, &ev[i], o);
	return ret;
}

static int
hold(const char *path, struct bmap_client_lease *l, const struct lease_opts *o)
{
	struct timespec tick = { .tv_sec = 1 };
	struct pollfd pfd = { .fd = l->fd, .events = POLLPRI };
	bool events_ok = true;
	sigset_t none;
	int ret = -1;

	sigemptyset(&none);
	while (ret < 0) {
		if (ppoll(&pfd, 1, events_ok ? &tick : NULL, &none) < 0 &&
		    errno != EINTR) {
			bmapctl_err(path, -errno);
			return BMAPCTL_EXIT_FAIL;
		}
		if (bmapctl_got_signal)
			return l->revoked ? BMAPCTL_EXIT_REVOKED
					  : BMAPCTL_EXIT_OK;
		if (events_ok)
			ret = drain_events(path, l, o, &events_ok);
	}
	return ret;
}

int
cmd_lease(int argc, char **argv)
{
	struct bmap_client_lease l;
	struct lease_opts o = { .mode = BMAP_LEASE_READ, .len = UINT64_MAX };
	const char *path;
	uint64_t id;
	int fd, err, ret;

	ret = bmapctl_parse(argc, argv, &lease_cmdline, lease_opt, &o);
	if (ret >= 0)
		return ret;
	path = argv[optind];
	bmapctl_catch_signals(NULL);
	fd = bmapctl_open(path, o.mode == BMAP_LEASE_WRITE ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		bmapctl_err(path, -errno);
		return BMAPCTL_EXIT_FAIL;
	}
	err = bmap_client_lease_acquire(fd, o.mode, o.off,
					o.len == UINT64_MAX ? BMAP_LEASE_TO_EOF
							    : o.len, &l);
	if (err) {
		bmapctl_lease_err(path, fd, o.mode, err);
		close(fd);
		return BMAPCTL_EXIT_FAIL;
	}
	say_held(&o, l.id);
	if (o.map && lease_map(path, &l, &o))
		ret = l.revoked ? BMAPCTL_EXIT_REVOKED : BMAPCTL_EXIT_FAIL;
	else
		ret = hold(path, &l, &o);
	id = l.id;
	err = bmap_client_release(&l);
	if (err && ret == BMAPCTL_EXIT_OK)
		bmapctl_err(path, err);
	else if (!err)
		say_lease(&o, "released", id);
	close(fd);
	return err && ret == BMAPCTL_EXIT_OK ? BMAPCTL_EXIT_FAIL : ret;
}
