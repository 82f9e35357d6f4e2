/*
 * gen.c builds testdata/pcblist_n.bin: a net.inet.tcp.pcblist_n sysctl
 * buffer laid out exactly as XNU's get_pcblist_n (bsd/netinet/in_pcblist.c)
 * writes it, plus testdata/pcblist_n.json with the expected parse and the
 * struct offsets as the C compiler computes them; and likewise
 * testdata/udp_pcblist_n.bin/.json for net.inet.udp.pcblist_n, which
 * get_pcblist_n(IPPROTO_UDP, ...) writes with the same records minus the
 * xtcpcb_n (bsd/netinet/udp_usrreq.c udp_pcblist_n).
 *
 * The struct definitions are copied from apple-oss-distributions/xnu:
 *   bsd/netinet/in_pcb.h   xinpgen, xinpcb_n, in_addr_4in6   (#pragma pack(4))
 *   bsd/sys/socketvar.h    xsocket_n, xsockbuf_n, xsockstat_n, data_stats
 *                          (#pragma pack(4)), SO_TC_STATS_MAX
 *   bsd/netinet/tcp_var.h  xtcpcb_n (#pragma pack(4)), TCP_RTT_SHIFT
 *   bsd/netinet/tcp_timer.h TCPT_NTIMERS_EXT
 * Compile for an LP64 little-endian target (x86_64 or arm64), as macOS is.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

typedef uint8_t u_char;
typedef uint16_t u_short;
typedef uint32_t u_int;
typedef uint8_t u_int8_t;
typedef uint16_t u_int16_t;
typedef uint32_t u_int32_t;
typedef uint64_t u_int64_t;
typedef uint64_t u_quad_t;
typedef int32_t pid_t_;
typedef uint32_t uid_t_;
#define pid_t pid_t_
#define uid_t uid_t_
typedef u_quad_t inp_gen_t;
typedef u_quad_t so_gen_t;
typedef u_int32_t tcp_seq;
typedef u_int32_t tcp_cc;

/* <netinet/in.h> / <netinet6/in6.h> on Darwin */
struct in_addr { u_int32_t s_addr; };
struct in6_addr {
	union {
		u_int8_t  __u6_addr8[16];
		u_int16_t __u6_addr16[8];
		u_int32_t __u6_addr32[4];
	} __u6_addr;
};

#define SO_TC_STATS_MAX 4
#define TCPT_NTIMERS_EXT 4
#define XSO_SOCKET      0x001
#define XSO_RCVBUF      0x002
#define XSO_SNDBUF      0x004
#define XSO_STATS       0x008
#define XSO_INPCB       0x010
#define XSO_TCPCB       0x020
#define INP_IPV4        0x1
#define INP_IPV6        0x2
#define TCP_RTT_SHIFT   5
#define TCP_RTTVAR_SHIFT 4

struct data_stats {
	u_int64_t       rxpackets;
	u_int64_t       rxbytes;
	u_int64_t       txpackets;
	u_int64_t       txbytes;
};

struct in_addr_4in6 {
	u_int32_t       ia46_pad32[3];
	struct  in_addr ia46_addr4;
};

#pragma pack(4)

/* bsd/netinet/in_pcb.h */
struct  xinpcb_n {
	u_int32_t       xi_len;         /* length of this structure */
	u_int32_t       xi_kind;        /* XSO_INPCB */
	u_int64_t       xi_inpp;
	u_short         inp_fport;      /* foreign port */
	u_short         inp_lport;      /* local port */
	u_int64_t       inp_ppcb;       /* pointer to per-protocol pcb */
	inp_gen_t       inp_gencnt;     /* generation count of this instance */
	int             inp_flags;      /* generic IP/datagram flags */
	u_int32_t       inp_flow;
	u_char          inp_vflag;
	u_char          inp_ip_ttl;     /* time to live */
	u_char          inp_ip_p;       /* protocol */
	union {                         /* foreign host table entry */
		struct in_addr_4in6     inp46_foreign;
		struct in6_addr         inp6_foreign;
	} inp_dependfaddr;
	union {                         /* local host table entry */
		struct in_addr_4in6     inp46_local;
		struct in6_addr         inp6_local;
	} inp_dependladdr;
	struct {
		u_char  inp4_ip_tos;    /* type of service */
	} inp_depend4;
	struct {
		u_int8_t inp6_hlim;
		int     inp6_cksum;
		u_short inp6_ifindex;
		short   inp6_hops;
	} inp_depend6;
	u_int32_t               inp_flowhash;
	u_int32_t       inp_flags2;
};

struct  xinpgen {
	u_int32_t       xig_len;        /* length of this structure */
	u_int           xig_count;      /* number of PCBs at this time */
	inp_gen_t       xig_gen;        /* generation count at this time */
	so_gen_t        xig_sogen;      /* current socket generation count */
};

/* bsd/sys/socketvar.h */
struct  xsocket_n {
	u_int32_t               xso_len;        /* length of this structure */
	u_int32_t               xso_kind;       /* XSO_SOCKET */
	u_int64_t               xso_so;         /* makes a convenient handle */
	short                   so_type;
	u_int32_t               so_options;
	short                   so_linger;
	short                   so_state;
	u_int64_t               so_pcb;         /* another convenient handle */
	int                     xso_protocol;
	int                     xso_family;
	short                   so_qlen;
	short                   so_incqlen;
	short                   so_qlimit;
	short                   so_timeo;
	u_short                 so_error;
	pid_t                   so_pgid;
	u_int32_t               so_oobmark;
	uid_t                   so_uid;         /* XXX */
	pid_t                   so_last_pid;
	pid_t                   so_e_pid;
	so_gen_t                so_gencnt;
	u_int32_t               so_flags;
	u_int32_t               so_flags1;
	int32_t                 so_usecount;
	int32_t                 so_retaincnt;
	u_int32_t               xso_filter_flags;
};

struct xsockbuf_n {
	u_int32_t               xsb_len;        /* length of this structure */
	u_int32_t               xsb_kind;       /* XSO_RCVBUF or XSO_SNDBUF */
	u_int32_t               sb_cc;
	u_int32_t               sb_hiwat;
	u_int32_t               sb_mbcnt;
	u_int32_t               sb_mbmax;
	int32_t                 sb_lowat;
	short                   sb_flags;
	short                   sb_timeo;
};

struct xsockstat_n {
	u_int32_t               xst_len;        /* length of this structure */
	u_int32_t               xst_kind;       /* XSO_STATS */
	struct data_stats       xst_tc_stats[SO_TC_STATS_MAX];
};

/* bsd/netinet/tcp_var.h */
struct  xtcpcb_n {
	u_int32_t               xt_len;
	u_int32_t                       xt_kind;                /* XSO_TCPCB */

	u_int64_t t_segq;
	int     t_dupacks;              /* consecutive dup acks recd */

	int t_timer[TCPT_NTIMERS_EXT];  /* tcp timers */

	int     t_state;                /* state of this connection */
	u_int   t_flags;

	int     t_force;                /* 1 if forcing out a byte */

	tcp_seq snd_una;                /* send unacknowledged */
	tcp_seq snd_max;                /* highest sequence number sent */
	tcp_seq snd_nxt;                /* send next */
	tcp_seq snd_up;                 /* send urgent pointer */

	tcp_seq snd_wl1;                /* window update seg seq number */
	tcp_seq snd_wl2;                /* window update seg ack number */
	tcp_seq iss;                    /* initial send sequence number */
	tcp_seq irs;                    /* initial receive sequence number */

	tcp_seq rcv_nxt;                /* receive next */
	tcp_seq rcv_adv;                /* advertised window */
	u_int32_t rcv_wnd;              /* receive window */
	tcp_seq rcv_up;                 /* receive urgent pointer */

	u_int32_t snd_wnd;              /* send window */
	u_int32_t snd_cwnd;             /* congestion-controlled window */
	u_int32_t snd_ssthresh;         /* snd_cwnd size threshold */
	u_int   t_maxopd;               /* mss plus options */

	u_int32_t t_rcvtime;            /* time at which a packet was received */
	u_int32_t t_starttime;          /* time connection was established */
	int     t_rtttime;              /* round trip time */
	tcp_seq t_rtseq;                /* sequence number being timed */

	int     t_rxtcur;               /* current retransmit value (ticks) */
	u_int   t_maxseg;               /* maximum segment size */
	int     t_srtt;                 /* smoothed round-trip time */
	int     t_rttvar;               /* variance in round-trip time */

	int     t_rxtshift;             /* log(2) of rexmt exp. backoff */
	u_int   t_rttmin;               /* minimum rtt allowed */
	u_int32_t t_rttupdated;         /* number of times rtt sampled */
	u_int32_t max_sndwnd;           /* largest window peer has offered */

	int     t_softerror;            /* possible error not yet reported */
	/* out-of-band data */
	char    t_oobflags;             /* have some */
	char    t_iobc;                 /* input character */
	/* RFC 1323 variables */
	u_char  snd_scale;              /* window scaling for send window */
	u_char  rcv_scale;              /* window scaling for recv window */
	u_char  request_r_scale;        /* pending window scaling */
	u_char  requested_s_scale;
	u_int32_t ts_recent;            /* timestamp echo data */

	u_int32_t ts_recent_age;        /* when last updated */
	tcp_seq last_ack_sent;
	/* RFC 1644 variables */
	tcp_cc  cc_send;                /* send connection count */
	tcp_cc  cc_recv;                /* receive connection count */
	tcp_seq snd_recover;            /* for use in fast recovery */
	/* experimental */
	u_int32_t snd_cwnd_prev;        /* cwnd prior to retransmit */
	u_int32_t snd_ssthresh_prev;    /* ssthresh prior to retransmit */
};

#pragma pack()

/* bsd/netinet/in_pcblist.c */
#define P2ROUNDUP(x, align) (-(-((uint64_t)(x)) & -((uint64_t)(align))))
#define ROUNDUP64(x) P2ROUNDUP((x), sizeof (u_int64_t))
#define ADVANCE64(p, n) (void*)((char *)(p) + ROUNDUP64(n))

struct conn {
	int v6;
	const char *laddr, *raddr;      /* text, for the JSON */
	u_int8_t l[16], r[16];          /* network order; v4 uses the first 4 */
	u_short lport, rport;           /* host order */
	int state;
	const char *state_name;
	pid_t pid, epid;
	int srtt_scaled, rttvar_scaled;
	u_int64_t rxb[SO_TC_STATS_MAX], txb[SO_TC_STATS_MAX];
	u_int64_t rxp[SO_TC_STATS_MAX], txp[SO_TC_STATS_MAX];
	tcp_seq iss, irs, snd_una, rcv_nxt;
};

static struct conn conns[] = {
	{ 0, "192.168.1.20", "203.0.113.7", {192, 168, 1, 20}, {203, 0, 113, 7},
	  52814, 5938, 4, "ESTABLISHED", 4242, 4242,
	  /* srtt 37.5 ms << 5, rttvar 6.25 ms << 4 */
	  1200, 100,
	  {1000000, 20000, 0, 0}, {250000, 5000, 0, 300},
	  {900, 40, 0, 0}, {700, 20, 0, 3},
	  0xfffffff0u, 0x10u, 0x0003d08fu, 0x000f4250u },
	{ 0, "0.0.0.0", "0.0.0.0", {0}, {0},
	  5900, 0, 1, "LISTEN", 88, 88, 0, 0,
	  {0}, {0}, {0}, {0}, 0, 0, 0, 0 },
	{ 1, "2001:db8::10", "2001:db8:1::443", {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10},
	  {0x20, 0x01, 0x0d, 0xb8, 0, 1, [14] = 0x04, [15] = 0x43},
	  50000, 443, 4, "ESTABLISHED", 501, 777,
	  /* srtt 12 ms << 5 + 3/32, rttvar 1 ms << 4 + 8/16 */
	  387, 24,
	  {5, 6, 7, 8}, {1, 2, 3, 4}, {1, 1, 1, 1}, {2, 2, 2, 2},
	  100, 200, 100 + 1 + 10, 200 + 1 + 26 },
	{ 1, "fe80::1", "fe80::2", {0xfe, 0x80, [15] = 1}, {0xfe, 0x80, [15] = 2},
	  22, 61000, 10, "TIME_WAIT", 0, 0, 32, 16,
	  {10, 0, 0, 0}, {20, 0, 0, 0}, {1, 0, 0, 0}, {2, 0, 0, 0}, 0, 0, 0, 0 },
};

#define NCONN (sizeof(conns) / sizeof(conns[0]))

static void put_u64(FILE *f, const char *k, u_int64_t v, int comma);

/* UDP sockets. laddr/raddr in the JSON are what the parser must return:
 * a dual-stack socket (INP_IPV4|INP_IPV6) bound to :: reads "::", and the
 * interface index XNU embeds in bytes 2-3 of a link-local address (KAME)
 * is dropped. */
struct uconn {
	u_char vflag;
	const char *laddr, *raddr;      /* expected parse, text */
	u_int8_t l[16], r[16];          /* as stored: v4 in the last 4 bytes */
	u_short lport, rport;           /* host order */
	pid_t pid, epid;
	u_int32_t rcv_cc, snd_cc;
	u_int64_t rxb, txb, rxp, txp;   /* spread over two traffic classes */
};

static struct uconn uconns[] = {
	/* IPv4 bound to INADDR_ANY, unconnected (mDNSResponder-like) */
	{ INP_IPV4, "0.0.0.0", "0.0.0.0", {0}, {0}, 5353, 0, 312, 312,
	  1024, 0, 90000, 12000, 300, 40 },
	/* IPv4 connected; so_last_pid 0, so_e_pid set */
	{ INP_IPV4, "192.168.1.20", "8.8.8.8", {[12] = 192, 168, 1, 20},
	  {[12] = 8, 8, 8, 8}, 61234, 53, 0, 4242, 0, 0, 512, 64, 2, 1 },
	/* IPv6 connected (QUIC-like) */
	{ INP_IPV6, "2001:db8::10", "2001:db8:1::1",
	  {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10}, {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1},
	  58000, 443, 501, 777, 0, 2048, 5000000, 700000, 4000, 3000 },
	/* AF_INET6 dual-stack socket bound to in6addr_any */
	{ INP_IPV4 | INP_IPV6, "::", "::", {0}, {0}, 5000, 0, 640, 640,
	  0, 0, 0, 0, 0, 0 },
	/* link-local with the scope (if index 4) embedded in bytes 2-3 */
	{ INP_IPV6, "fe80::1", "fe80::2", {0xfe, 0x80, 0, 4, [15] = 1},
	  {0xfe, 0x80, 0, 4, [15] = 2}, 546, 547, 77, 77, 0, 0, 10, 20, 1, 2 },
};

#define NUCONN (sizeof(uconns) / sizeof(uconns[0]))

static int write_udp(const char *binpath, const char *jsonpath)
{
	size_t item_size = ROUNDUP64(sizeof(struct xinpcb_n)) +
	    ROUNDUP64(sizeof(struct xsocket_n)) +
	    2 * ROUNDUP64(sizeof(struct xsockbuf_n)) +
	    ROUNDUP64(sizeof(struct xsockstat_n));
	size_t total = 2 * sizeof(struct xinpgen) + NUCONN * item_size;
	char *out = calloc(1, total), *p = out;
	struct xinpgen xig;

	memset(&xig, 0, sizeof(xig));
	xig.xig_len = sizeof(xig);
	xig.xig_count = NUCONN;
	xig.xig_gen = 500;
	xig.xig_sogen = 2000;
	memcpy(p, &xig, sizeof(xig));
	p += sizeof(xig);

	for (size_t i = 0; i < NUCONN; i++) {
		struct uconn *c = &uconns[i];
		char *buf = calloc(1, item_size);
		struct xinpcb_n *xi = (struct xinpcb_n *)buf;
		struct xsocket_n *xso = (struct xsocket_n *)ADVANCE64(xi, sizeof(*xi));
		struct xsockbuf_n *xsbrcv = (struct xsockbuf_n *)ADVANCE64(xso, sizeof(*xso));
		struct xsockbuf_n *xsbsnd = (struct xsockbuf_n *)ADVANCE64(xsbrcv, sizeof(*xsbrcv));
		struct xsockstat_n *xst = (struct xsockstat_n *)ADVANCE64(xsbsnd, sizeof(*xsbsnd));

		xi->xi_len = sizeof(*xi);
		xi->xi_kind = XSO_INPCB;
		xi->xi_inpp = 0xffffff8000002000ull + i;
		xi->inp_fport = (u_short)((c->rport >> 8) | (c->rport << 8));
		xi->inp_lport = (u_short)((c->lport >> 8) | (c->lport << 8));
		xi->inp_gencnt = 400 + i;
		xi->inp_vflag = c->vflag;
		xi->inp_ip_ttl = 64;
		xi->inp_ip_p = 17;
		/* inpcb_to_xinpcb_n copies the whole 16-byte unions */
		memcpy(&xi->inp_dependfaddr.inp6_foreign, c->r, 16);
		memcpy(&xi->inp_dependladdr.inp6_local, c->l, 16);

		xso->xso_len = sizeof(*xso);
		xso->xso_kind = XSO_SOCKET;
		xso->so_type = 2;               /* SOCK_DGRAM */
		xso->xso_protocol = 17;         /* IPPROTO_UDP */
		xso->xso_family = (c->vflag & INP_IPV6) ? 30 : 2;
		xso->so_uid = 501;
		xso->so_last_pid = c->pid;
		xso->so_e_pid = c->epid;
		xso->so_gencnt = 1;

		xsbrcv->xsb_len = sizeof(*xsbrcv);
		xsbrcv->xsb_kind = XSO_RCVBUF;
		xsbrcv->sb_cc = c->rcv_cc;
		xsbrcv->sb_hiwat = 786896;
		xsbsnd->xsb_len = sizeof(*xsbsnd);
		xsbsnd->xsb_kind = XSO_SNDBUF;
		xsbsnd->sb_cc = c->snd_cc;
		xsbsnd->sb_hiwat = 9216;

		xst->xst_len = sizeof(*xst);
		xst->xst_kind = XSO_STATS;
		/* two thirds in the best-effort class, the rest in background */
		xst->xst_tc_stats[0].rxpackets = c->rxp - c->rxp / 3;
		xst->xst_tc_stats[0].rxbytes = c->rxb - c->rxb / 3;
		xst->xst_tc_stats[0].txpackets = c->txp - c->txp / 3;
		xst->xst_tc_stats[0].txbytes = c->txb - c->txb / 3;
		xst->xst_tc_stats[1].rxpackets = c->rxp / 3;
		xst->xst_tc_stats[1].rxbytes = c->rxb / 3;
		xst->xst_tc_stats[1].txpackets = c->txp / 3;
		xst->xst_tc_stats[1].txbytes = c->txb / 3;

		memcpy(p, buf, item_size);
		p += item_size;
		free(buf);
	}
	xig.xig_gen = 501;
	memcpy(p, &xig, sizeof(xig));
	p += sizeof(xig);

	FILE *f = fopen(binpath, "wb");
	if (f == NULL || fwrite(out, 1, total, f) != total || fclose(f) != 0) {
		perror(binpath);
		return 1;
	}
	free(out);
	f = fopen(jsonpath, "w");
	if (f == NULL) {
		perror(jsonpath);
		return 1;
	}
	fprintf(f, "{\n  \"item_size\": %zu,\n  \"connections\": [\n", item_size);
	for (size_t i = 0; i < NUCONN; i++) {
		struct uconn *c = &uconns[i];
		int v6 = strchr(c->laddr, ':') != NULL;
		fprintf(f, "    {\"local\": \"%s%s%s:%u\", \"remote\": \"%s%s%s:%u\", ",
		    v6 ? "[" : "", c->laddr, v6 ? "]" : "", c->lport,
		    v6 ? "[" : "", c->raddr, v6 ? "]" : "", c->rport);
		fprintf(f, "\"vflag\": %u, \"pid\": %d, \"epid\": %d, \"recv_q\": %u, \"send_q\": %u, ",
		    c->vflag, c->pid, c->epid, c->rcv_cc, c->snd_cc);
		put_u64(f, "rx_bytes", c->rxb, 1); put_u64(f, "tx_bytes", c->txb, 1);
		put_u64(f, "rx_packets", c->rxp, 1); put_u64(f, "tx_packets", c->txp, 0);
		fprintf(f, "}%s\n", i + 1 < NUCONN ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0) {
		perror(jsonpath);
		return 1;
	}
	return 0;
}

static void put_u64(FILE *f, const char *k, u_int64_t v, int comma)
{
	fprintf(f, "\"%s\": %llu%s", k, (unsigned long long)v, comma ? ", " : "");
}

int main(int argc, char **argv)
{
	const char *binpath = argc > 1 ? argv[1] : "pcblist_n.bin";
	const char *jsonpath = argc > 2 ? argv[2] : "pcblist_n.json";
	const char *udpbinpath = argc > 3 ? argv[3] : "udp_pcblist_n.bin";
	const char *udpjsonpath = argc > 4 ? argv[4] : "udp_pcblist_n.json";
	size_t item_size = ROUNDUP64(sizeof(struct xinpcb_n)) +
	    ROUNDUP64(sizeof(struct xsocket_n)) +
	    2 * ROUNDUP64(sizeof(struct xsockbuf_n)) +
	    ROUNDUP64(sizeof(struct xsockstat_n)) +
	    ROUNDUP64(sizeof(struct xtcpcb_n));
	size_t total = 2 * sizeof(struct xinpgen) + NCONN * item_size;
	char *out = calloc(1, total), *p = out;
	struct xinpgen xig;

	memset(&xig, 0, sizeof(xig));
	xig.xig_len = sizeof(xig);
	xig.xig_count = NCONN;
	xig.xig_gen = 1000;
	xig.xig_sogen = 2000;
	memcpy(p, &xig, sizeof(xig));
	p += sizeof(xig);

	for (size_t i = 0; i < NCONN; i++) {
		struct conn *c = &conns[i];
		char *buf = calloc(1, item_size);
		struct xinpcb_n *xi = (struct xinpcb_n *)buf;
		struct xsocket_n *xso = (struct xsocket_n *)ADVANCE64(xi, sizeof(*xi));
		struct xsockbuf_n *xsbrcv = (struct xsockbuf_n *)ADVANCE64(xso, sizeof(*xso));
		struct xsockbuf_n *xsbsnd = (struct xsockbuf_n *)ADVANCE64(xsbrcv, sizeof(*xsbrcv));
		struct xsockstat_n *xst = (struct xsockstat_n *)ADVANCE64(xsbsnd, sizeof(*xsbsnd));
		struct xtcpcb_n *xt = (struct xtcpcb_n *)ADVANCE64(xst, sizeof(*xst));

		xi->xi_len = sizeof(*xi);
		xi->xi_kind = XSO_INPCB;
		xi->xi_inpp = 0xffffff8000001000ull + i;
		/* ports are stored in network byte order */
		xi->inp_fport = (u_short)((c->rport >> 8) | (c->rport << 8));
		xi->inp_lport = (u_short)((c->lport >> 8) | (c->lport << 8));
		xi->inp_gencnt = 900 + i;
		xi->inp_vflag = c->v6 ? INP_IPV6 : INP_IPV4;
		xi->inp_ip_ttl = 64;
		xi->inp_ip_p = 6;
		if (c->v6) {
			memcpy(&xi->inp_dependfaddr.inp6_foreign, c->r, 16);
			memcpy(&xi->inp_dependladdr.inp6_local, c->l, 16);
		} else {
			memcpy(&xi->inp_dependfaddr.inp46_foreign.ia46_addr4, c->r, 4);
			memcpy(&xi->inp_dependladdr.inp46_local.ia46_addr4, c->l, 4);
		}
		xi->inp_flowhash = 0xabcd0000u + (u_int32_t)i;

		xso->xso_len = sizeof(*xso);
		xso->xso_kind = XSO_SOCKET;
		xso->so_type = 1;               /* SOCK_STREAM */
		xso->xso_protocol = 6;          /* IPPROTO_TCP */
		xso->xso_family = c->v6 ? 30 : 2;
		xso->so_uid = 501;
		xso->so_last_pid = c->pid;
		xso->so_e_pid = c->epid;
		xso->so_gencnt = 1;

		xsbrcv->xsb_len = sizeof(*xsbrcv);
		xsbrcv->xsb_kind = XSO_RCVBUF;
		xsbrcv->sb_hiwat = 131072;
		xsbsnd->xsb_len = sizeof(*xsbsnd);
		xsbsnd->xsb_kind = XSO_SNDBUF;
		xsbsnd->sb_hiwat = 131072;

		xst->xst_len = sizeof(*xst);
		xst->xst_kind = XSO_STATS;
		for (int k = 0; k < SO_TC_STATS_MAX; k++) {
			xst->xst_tc_stats[k].rxpackets = c->rxp[k];
			xst->xst_tc_stats[k].rxbytes = c->rxb[k];
			xst->xst_tc_stats[k].txpackets = c->txp[k];
			xst->xst_tc_stats[k].txbytes = c->txb[k];
		}

		xt->xt_len = sizeof(*xt);
		xt->xt_kind = XSO_TCPCB;
		xt->t_state = c->state;
		xt->iss = c->iss;
		xt->irs = c->irs;
		xt->snd_una = c->snd_una;
		xt->rcv_nxt = c->rcv_nxt;
		xt->t_maxseg = 1448;
		xt->t_srtt = c->srtt_scaled;
		xt->t_rttvar = c->rttvar_scaled;
		xt->t_rttmin = 10;

		memcpy(p, buf, item_size);
		p += item_size;
		free(buf);
	}
	xig.xig_gen = 1001;
	memcpy(p, &xig, sizeof(xig));
	p += sizeof(xig);

	FILE *f = fopen(binpath, "wb");
	if (f == NULL || fwrite(out, 1, total, f) != total || fclose(f) != 0) {
		perror(binpath);
		return 1;
	}

	f = fopen(jsonpath, "w");
	if (f == NULL) {
		perror(jsonpath);
		return 1;
	}
	fprintf(f, "{\n  \"layout\": {\n");
#define OFF(s, m) fprintf(f, "    \"%s.%s\": %zu,\n", #s, #m, offsetof(struct s, m))
#define SZ(s) fprintf(f, "    \"sizeof.%s\": %zu,\n", #s, sizeof(struct s))
	SZ(xinpgen); SZ(xinpcb_n); SZ(xsocket_n); SZ(xsockbuf_n); SZ(xsockstat_n); SZ(xtcpcb_n);
	OFF(xinpgen, xig_count); OFF(xinpgen, xig_gen);
	OFF(xinpcb_n, inp_fport); OFF(xinpcb_n, inp_lport); OFF(xinpcb_n, inp_gencnt);
	OFF(xinpcb_n, inp_vflag); OFF(xinpcb_n, inp_dependfaddr); OFF(xinpcb_n, inp_dependladdr);
	OFF(xinpcb_n, inp_depend6); OFF(xinpcb_n, inp_flowhash);
	OFF(xsocket_n, so_pcb); OFF(xsocket_n, xso_protocol); OFF(xsocket_n, so_uid);
	OFF(xsocket_n, so_last_pid); OFF(xsocket_n, so_e_pid); OFF(xsocket_n, so_gencnt);
	OFF(xsockstat_n, xst_tc_stats);
	OFF(xtcpcb_n, t_state); OFF(xtcpcb_n, snd_una); OFF(xtcpcb_n, iss); OFF(xtcpcb_n, irs);
	OFF(xtcpcb_n, rcv_nxt); OFF(xtcpcb_n, t_srtt); OFF(xtcpcb_n, t_rttvar);
	fprintf(f, "    \"item_size\": %zu\n  },\n", item_size);
	fprintf(f, "  \"connections\": [\n");
	for (size_t i = 0; i < NCONN; i++) {
		struct conn *c = &conns[i];
		u_int64_t rb = 0, tb = 0, rp = 0, tp = 0;
		for (int k = 0; k < SO_TC_STATS_MAX; k++) {
			rb += c->rxb[k]; tb += c->txb[k]; rp += c->rxp[k]; tp += c->txp[k];
		}
		fprintf(f, "    {\"local\": \"%s%s%s:%u\", \"remote\": \"%s%s%s:%u\", ",
		    c->v6 ? "[" : "", c->laddr, c->v6 ? "]" : "", c->lport,
		    c->v6 ? "[" : "", c->raddr, c->v6 ? "]" : "", c->rport);
		fprintf(f, "\"state\": %d, \"state_name\": \"%s\", \"pid\": %d, \"epid\": %d, ",
		    c->state, c->state_name, c->pid, c->epid);
		fprintf(f, "\"srtt_ms\": %.6f, \"rttvar_ms\": %.6f, ",
		    (double)c->srtt_scaled / (1 << TCP_RTT_SHIFT),
		    (double)c->rttvar_scaled / (1 << TCP_RTTVAR_SHIFT));
		put_u64(f, "rx_bytes", rb, 1); put_u64(f, "tx_bytes", tb, 1);
		put_u64(f, "rx_packets", rp, 1); put_u64(f, "tx_packets", tp, 1);
		put_u64(f, "seq_sent", (u_int32_t)(c->snd_una - c->iss), 1);
		put_u64(f, "seq_received", (u_int32_t)(c->rcv_nxt - c->irs), 0);
		fprintf(f, "}%s\n", i + 1 < NCONN ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0) {
		perror(jsonpath);
		return 1;
	}
	return write_udp(udpbinpath, udpjsonpath);
}
