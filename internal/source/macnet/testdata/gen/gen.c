/*
 * gen.c builds testdata/route_dump.bin and testdata/arp_dump.bin: the
 * buffers that sysctl {CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_DUMP, 0} and
 * {CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_FLAGS, RTF_LLINFO} return on macOS,
 * laid out as XNU's sysctl_dumpentry/rt_msg2 (bsd/net/rtsock.c) write them:
 * per route a struct rt_msghdr (rtm_type RTM_GET, rtm_version RTM_VERSION)
 * followed by the sockaddrs named by rtm_addrs in RTAX order, each padded
 * with ROUNDUP32 (a zero-length sockaddr still takes 4 bytes). It also
 * writes testdata/layout.json with the struct offsets and constants as the
 * C compiler computes them, which the Go test compares with its own.
 *
 * The definitions are copied from apple-oss-distributions/xnu:
 *   bsd/net/route.h     struct rt_metrics, struct rt_msghdr, RTF_*, RTA_*,
 *                       RTM_GET, RTM_VERSION
 *   bsd/net/if_dl.h     struct sockaddr_dl
 *   bsd/netinet/in.h    struct sockaddr_in
 *   bsd/netinet/if_ether.h  struct sockaddr_inarp
 *   bsd/net/rtsock.c    ROUNDUP32
 *   bsd/sys/socket.h    AF_INET 2, AF_LINK 18
 * Compile for an LP64 little-endian target (x86_64 or arm64), as macOS is.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

typedef uint8_t u_char;
typedef uint16_t u_short;
typedef uint32_t u_int32_t;
typedef int32_t int32_t_;
typedef int32_t pid_t_;

struct rt_metrics {
	u_int32_t       rmx_locks;      /* Kernel leaves these values alone */
	u_int32_t       rmx_mtu;        /* MTU for this path */
	u_int32_t       rmx_hopcount;   /* max hops expected */
	int32_t         rmx_expire;     /* lifetime for route, e.g. redirect */
	u_int32_t       rmx_recvpipe;   /* inbound delay-bandwidth product */
	u_int32_t       rmx_sendpipe;   /* outbound delay-bandwidth product */
	u_int32_t       rmx_ssthresh;   /* outbound gateway buffer limit */
	u_int32_t       rmx_rtt;        /* estimated round trip time */
	u_int32_t       rmx_rttvar;     /* estimated rtt variance */
	u_int32_t       rmx_pksent;     /* packets sent using this route */
	u_int32_t       rmx_state;      /* route state */
	u_int32_t       rmx_filler[3];  /* will be used for T/TCP later */
};

struct rt_msghdr {
	u_short rtm_msglen;     /* to skip over non-understood messages */
	u_char  rtm_version;    /* future binary compatibility */
	u_char  rtm_type;       /* message type */
	u_short rtm_index;      /* index for associated ifp */
	int     rtm_flags;      /* flags, incl. kern & message, e.g. DONE */
	int     rtm_addrs;      /* bitmask identifying sockaddrs in msg */
	pid_t_  rtm_pid;        /* identify sender */
	int     rtm_seq;        /* for sender to identify action */
	int     rtm_errno;      /* why failed */
	int     rtm_use;        /* from rtentry */
	u_int32_t rtm_inits;    /* which metrics we are initializing */
	struct rt_metrics rtm_rmx; /* metrics themselves */
};

struct sockaddr_dl {
	u_char  sdl_len;        /* Total length of sockaddr */
	u_char  sdl_family;     /* AF_LINK */
	u_short sdl_index;      /* if != 0, system given index for interface */
	u_char  sdl_type;       /* interface type */
	u_char  sdl_nlen;       /* interface name length, no trailing 0 reqd. */
	u_char  sdl_alen;       /* link level address length */
	u_char  sdl_slen;       /* link layer selector length */
	char    sdl_data[12];   /* minimum work area, can be larger; */
};

struct in_addr { u_int32_t s_addr; };
struct sockaddr_in {
	u_char  sin_len;
	u_char  sin_family;
	u_short sin_port;
	struct  in_addr sin_addr;
	char    sin_zero[8];
};
struct sockaddr_inarp {
	u_char  sin_len;
	u_char  sin_family;
	u_short sin_port;
	struct  in_addr sin_addr;
	struct  in_addr sin_srcaddr;
	u_short sin_tos;
	u_short sin_other;
};

#define RTM_VERSION 5
#define RTM_GET 0x4
#define RTF_UP          0x1
#define RTF_GATEWAY     0x2
#define RTF_HOST        0x4
#define RTF_CLONING     0x100
#define RTF_LLINFO      0x400
#define RTF_STATIC      0x800
#define RTF_PRCLONING   0x10000
#define RTF_WASCLONED   0x20000
#define RTF_BROADCAST   0x400000
#define RTF_MULTICAST   0x800000
#define RTF_IFSCOPE     0x1000000
#define RTA_DST         0x1
#define RTA_GATEWAY     0x2
#define RTA_NETMASK     0x4
#define RTA_IFP         0x10
#define RTA_IFA         0x20
#define AF_INET 2
#define AF_LINK 18
#define IFT_ETHER 0x6
#define IFT_OTHER 0x1
#define ROUNDUP32(a) \
	((a) > 0 ? (1 + (((a) - 1) | (sizeof (uint32_t) - 1))) : sizeof (uint32_t))

static unsigned char buf[8192];
static size_t pos;

static void sa(const void *p, size_t len) {
	memset(buf + pos, 0, ROUNDUP32(len));
	memcpy(buf + pos, p, len);
	pos += ROUNDUP32(len);
}

static struct sockaddr_in in4(int a, int b, int c, int d) {
	struct sockaddr_in s = { .sin_len = sizeof(s), .sin_family = AF_INET };
	unsigned char *p = (unsigned char *)&s.sin_addr;
	p[0] = a; p[1] = b; p[2] = c; p[3] = d;
	return s;
}

static struct sockaddr_dl dl(int index, int type, const char *name, const unsigned char *mac, int alen) {
	struct sockaddr_dl s = { .sdl_len = sizeof(s), .sdl_family = AF_LINK, .sdl_index = index, .sdl_type = type };
	s.sdl_nlen = name ? strlen(name) : 0;
	if (name) memcpy(s.sdl_data, name, s.sdl_nlen);
	s.sdl_alen = alen;
	if (alen) memcpy(s.sdl_data + s.sdl_nlen, mac, alen);
	return s;
}

/* begin writes the header (msglen patched by end). */
static size_t begin(int index, int flags, int addrs, int expire) {
	struct rt_msghdr h = { .rtm_version = RTM_VERSION, .rtm_type = RTM_GET, .rtm_index = index,
		.rtm_flags = flags, .rtm_addrs = addrs };
	h.rtm_rmx.rmx_expire = expire;
	h.rtm_rmx.rmx_mtu = 1500;
	size_t at = pos;
	memcpy(buf + pos, &h, sizeof(h));
	pos += sizeof(h);
	return at;
}

static void end(size_t at) {
	u_short len = pos - at;
	memcpy(buf + at, &len, sizeof(len));
}

static void flush(const char *path) {
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, pos, f) != pos || fclose(f)) { perror(path); exit(1); }
	pos = 0;
}

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: gen route.bin arp.bin layout.json\n"); return 2; }
	size_t at;
	struct sockaddr_in s;
	struct sockaddr_dl d;
	unsigned char zero4[4] = {0};

	/* NET_RT_DUMP, AF_INET */
	/* default via 192.168.50.1 on en0 (6): the primary (unscoped) default */
	at = begin(6, RTF_UP | RTF_GATEWAY | RTF_STATIC | RTF_PRCLONING, RTA_DST | RTA_GATEWAY | RTA_NETMASK, 0);
	s = in4(0, 0, 0, 0); sa(&s, sizeof(s));
	s = in4(192, 168, 50, 1); sa(&s, sizeof(s));
	sa(zero4, 0); /* the all-zero netmask: sa_len 0 */
	end(at);
	/* a VPN's scoped default via 10.8.0.1 on utun3 (20) */
	at = begin(20, RTF_UP | RTF_GATEWAY | RTF_STATIC | RTF_IFSCOPE, RTA_DST | RTA_GATEWAY | RTA_NETMASK, 0);
	s = in4(0, 0, 0, 0); sa(&s, sizeof(s));
	s = in4(10, 8, 0, 1); sa(&s, sizeof(s));
	sa(zero4, 0);
	end(at);
	/* 192.168.50/24 link#6: netmask truncated after its last non-zero byte */
	at = begin(6, RTF_UP | RTF_CLONING, RTA_DST | RTA_GATEWAY | RTA_NETMASK | RTA_IFP | RTA_IFA, 0);
	s = in4(192, 168, 50, 0); sa(&s, sizeof(s));
	d = dl(6, IFT_ETHER, NULL, NULL, 0); sa(&d, sizeof(d));
	{ unsigned char m[7] = { 7, 0, 0, 0, 255, 255, 255 }; sa(m, 7); }
	{ unsigned char mac[6] = { 0xa4, 0xb1, 0xc1, 0, 0, 7 }; d = dl(6, IFT_ETHER, "en0", mac, 6); sa(&d, sizeof(d)); }
	s = in4(192, 168, 50, 20); sa(&s, sizeof(s));
	end(at);
	/* 127.0.0.1 on lo0 (1) */
	at = begin(1, RTF_UP | RTF_HOST, RTA_DST | RTA_GATEWAY, 0);
	s = in4(127, 0, 0, 1); sa(&s, sizeof(s));
	s = in4(127, 0, 0, 1); sa(&s, sizeof(s));
	end(at);
	flush(argv[1]);

	/* NET_RT_FLAGS RTF_LLINFO, AF_INET: the ARP table as `arp -an` reads it */
	struct { int idx, a, b, c, d, alen, flags, expire; unsigned char mac[6]; } arp[] = {
		{ 6, 192, 168, 50, 1, 6, RTF_WASCLONED, 1200, { 0xf4, 0x92, 0xbf, 0x01, 0x02, 0x03 } },
		{ 6, 192, 168, 50, 23, 6, RTF_WASCLONED, 900, { 0xdc, 0xa6, 0x32, 0x11, 0x22, 0x33 } },
		{ 6, 192, 168, 50, 99, 0, RTF_WASCLONED, 20, { 0 } }, /* (incomplete) */
		{ 6, 192, 168, 50, 255, 6, RTF_BROADCAST | RTF_STATIC, 0, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ 6, 224, 0, 0, 251, 6, RTF_MULTICAST | RTF_STATIC, 0, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } },
		{ 7, 172, 16, 0, 9, 6, RTF_WASCLONED, 600, { 0x7c, 0x10, 0xc9, 0x00, 0x00, 0x09 } }, /* en1 */
	};
	for (size_t i = 0; i < sizeof(arp) / sizeof(arp[0]); i++) {
		at = begin(arp[i].idx, RTF_UP | RTF_HOST | RTF_LLINFO | arp[i].flags, RTA_DST | RTA_GATEWAY, arp[i].expire);
		struct sockaddr_inarp a = { .sin_len = sizeof(a), .sin_family = AF_INET };
		unsigned char *p = (unsigned char *)&a.sin_addr;
		p[0] = arp[i].a; p[1] = arp[i].b; p[2] = arp[i].c; p[3] = arp[i].d;
		sa(&a, sizeof(a));
		d = dl(arp[i].idx, IFT_ETHER, NULL, arp[i].mac, arp[i].alen); sa(&d, sizeof(d));
		end(at);
	}
	flush(argv[2]);

	FILE *f = fopen(argv[3], "w");
	if (!f) { perror(argv[3]); return 1; }
	fprintf(f, "{\n");
	fprintf(f, "  \"sizeof_rt_msghdr\": %zu,\n", sizeof(struct rt_msghdr));
	fprintf(f, "  \"rtm_msglen\": %zu,\n", offsetof(struct rt_msghdr, rtm_msglen));
	fprintf(f, "  \"rtm_version\": %zu,\n", offsetof(struct rt_msghdr, rtm_version));
	fprintf(f, "  \"rtm_type\": %zu,\n", offsetof(struct rt_msghdr, rtm_type));
	fprintf(f, "  \"rtm_index\": %zu,\n", offsetof(struct rt_msghdr, rtm_index));
	fprintf(f, "  \"rtm_flags\": %zu,\n", offsetof(struct rt_msghdr, rtm_flags));
	fprintf(f, "  \"rtm_addrs\": %zu,\n", offsetof(struct rt_msghdr, rtm_addrs));
	fprintf(f, "  \"rmx_expire\": %zu,\n", offsetof(struct rt_msghdr, rtm_rmx.rmx_expire));
	fprintf(f, "  \"sizeof_sockaddr_dl\": %zu,\n", sizeof(struct sockaddr_dl));
	fprintf(f, "  \"sdl_index\": %zu,\n", offsetof(struct sockaddr_dl, sdl_index));
	fprintf(f, "  \"sdl_nlen\": %zu,\n", offsetof(struct sockaddr_dl, sdl_nlen));
	fprintf(f, "  \"sdl_alen\": %zu,\n", offsetof(struct sockaddr_dl, sdl_alen));
	fprintf(f, "  \"sdl_data\": %zu,\n", offsetof(struct sockaddr_dl, sdl_data));
	fprintf(f, "  \"sin_addr\": %zu,\n", offsetof(struct sockaddr_in, sin_addr));
	fprintf(f, "  \"sizeof_sockaddr_inarp\": %zu,\n", sizeof(struct sockaddr_inarp));
	fprintf(f, "  \"RTM_VERSION\": %d, \"RTM_GET\": %d,\n", RTM_VERSION, RTM_GET);
	fprintf(f, "  \"RTF_GATEWAY\": %d, \"RTF_LLINFO\": %d, \"RTF_BROADCAST\": %d, \"RTF_MULTICAST\": %d, \"RTF_IFSCOPE\": %d,\n",
		RTF_GATEWAY, RTF_LLINFO, RTF_BROADCAST, RTF_MULTICAST, RTF_IFSCOPE);
	fprintf(f, "  \"AF_INET\": %d, \"AF_LINK\": %d\n}\n", AF_INET, AF_LINK);
	if (fclose(f)) { perror(argv[3]); return 1; }
	return 0;
}
